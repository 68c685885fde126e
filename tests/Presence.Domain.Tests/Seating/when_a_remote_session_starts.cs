using static Presence.Domain.Tests.Support.TheHouse;

namespace Presence.Domain.Tests.Seating;

/// <summary>A remote session (ssh, RDP) says alice is using a host, not that she sits at it.</summary>
public class when_a_remote_session_starts
{
    [Theory]
    [InlineData("login")]
    [InlineData("unlock")]
    [InlineData("active")]
    public void the_seat_does_not_move(string state)
    {
        var s = Scenario.AliceOnTheBasementServer()
            .Given(Alice.LogsInAt(Basement))
            .When(Alice.Session(Imac, state, seat: "remote"))
            .Then(typeof(SignalRecorded));

        Assert.Equal(Basement, s.State!.Seat);
    }

    [Fact]
    public void nothing_is_placed_either()
    {
        var s = Scenario.AliceOnTheBasementServer()
            .When(Alice.LogsInRemotelyAt(Imac))
            .Then(typeof(SignalRecorded));

        Assert.Null(s.State!.Migration);
        Assert.Null(s.State.Seat);
    }

    [Fact]
    public void ending_a_remote_session_at_her_seat_does_not_unseat_her()
    {
        var s = Scenario.AliceOnTheBasementServer()
            .Given(Alice.LogsInAt(Basement))
            .When(Alice.Session(Basement, "logout", seat: "remote"))
            .Then(typeof(SignalRecorded));

        Assert.Equal(Basement, s.State!.Seat);
    }
}
