using static Presence.Domain.Tests.Support.TheHouse;

namespace Presence.Domain.Tests.Placement;

/// <summary>A host outside alice's allowed hosts is neither run on nor shown on, whatever her preferred mode.</summary>
public class when_a_user_sits_at_a_host_she_may_not_use
{
    [Theory]
    [InlineData(PreferredMode.Local)]
    [InlineData(PreferredMode.ThinClient)]
    public void the_move_is_suppressed_by_allowed_hosts(PreferredMode mode)
    {
        var s = Scenario.AliceOnTheBasementServer()
            .WithPolicy(p => p.Prefers(mode))
            .When(Alice.LogsInAt(KidsPc))
            .Then(typeof(SignalRecorded), typeof(SeatChanged), typeof(MoveSuppressed));

        var suppressed = s.The<MoveSuppressed>();
        Assert.Equal(Rules.AllowedHosts, suppressed.Rule);
        Assert.Equal(KidsPc, suppressed.Wanted);
        Assert.Equal("alice sat down at kids-pc, which is not among alice's allowed hosts, so alice-desktop is neither moved nor shown there", suppressed.Reason);
        Assert.Equal([new RejectedAlternative(KidsPc, Rules.AllowedHosts, "kids-pc: not among alice's allowed hosts")], suppressed.Rejected);
        Assert.Null(s.State!.PendingDisplay);
        Assert.Null(s.State.Migration);
    }

    [Fact]
    public void a_host_the_policy_does_not_know_is_not_allowed_either()
    {
        var s = Scenario.AliceOnTheBasementServer()
            .When(Alice.LogsInAt("garage"));

        Assert.Equal(Rules.AllowedHosts, s.The<MoveSuppressed>().Rule);
    }

    [Fact]
    public void she_is_still_seated_there_so_leaving_it_is_understood()
    {
        var s = Scenario.AliceOnTheBasementServer()
            .Given(Alice.LogsInAt(KidsPc))
            .When(Alice.LogsOutAt(KidsPc))
            .Then(typeof(SignalRecorded), typeof(SeatChanged));

        Assert.Null(s.State!.Seat);
    }
}
