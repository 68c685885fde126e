using static Presence.Domain.Tests.Support.TheHouse;

namespace Presence.Domain.Tests.Migration;

/// <summary>
/// Which phases can hang (<see cref="Phases.CanHang"/>): the server gives only those a durable timeout. A pending
/// move, freeze or wake keeps the user busy until it ends; a pending display holds no decision up.
/// </summary>
public class what_a_timeout_guards
{
    private static Scenario WithTimeouts() => Scenario.AliceOnTheBasementServer().WithSettings(p => p with
    {
        PrepareTimeout = Duration.FromSeconds(30),
        DisplayTimeout = Duration.FromSeconds(20),
    });

    [Fact]
    public void only_a_display_cannot_hang()
    {
        Assert.False(Phases.CanHang(Phases.Displaying));
        Assert.All([Phases.Preparing, Phases.Migrating, Phases.Suspending, Phases.Resuming], p => Assert.True(Phases.CanHang(p), p));
    }

    [Fact]
    public void a_pending_move_keeps_the_user_busy_until_its_timeout()
    {
        var s = WithTimeouts().Given(Alice.LogsInAt(Imac));

        Assert.Equal(Phases.Preparing, s.State!.Timeout!.Phase);
        Assert.True(s.State.Busy);
    }

    [Fact]
    public void an_unanswered_display_holds_no_decision_up()
    {
        var s = WithTimeouts().WithPolicy(p => p.Prefers(PreferredMode.ThinClient)).Given(Alice.LogsInAt(Imac));
        Assert.Equal(Phases.Displaying, s.State!.Timeout!.Phase);
        Assert.NotNull(s.State.PendingDisplay);
        Assert.False(s.State.Busy);

        // The imac never answered; alice sits down at the laptop and the decider acts at once, as if nothing pended.
        s.When(Alice.LogsInAt(Laptop));

        Assert.Equal(Laptop, s.The<DisplayAttachRequested>().Host);
        Assert.Equal(Laptop, s.State!.PendingDisplay!.Host);
    }
}
