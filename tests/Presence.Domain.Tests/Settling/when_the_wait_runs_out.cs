using static Presence.Domain.Tests.Support.TheHouse;

namespace Presence.Domain.Tests.Settling;

/// <summary>
/// When the scheduled message comes back the state decides whether it still matters: alice still at the seat means
/// act now; alice gone means say why nothing happened; a wait that was replaced or answered means nothing at all.
/// </summary>
public class when_the_wait_runs_out
{
    private static readonly Duration Hold = Duration.FromSeconds(30);

    private static Scenario WaitingAtTheImac() => Scenario.AliceOnTheBasementServer()
        .WithSettings(p => p with { HoldDown = new HoldDowns(Duration.Zero, Hold, Hold) })
        .Given(Alice.LogsInAt(Imac));

    [Fact]
    public void with_alice_still_there_the_vm_moves_now()
    {
        var s = WaitingAtTheImac()
            .After(Hold)
            .When(TheWait.RunsOut())
            .Then(typeof(PlacementDecided), typeof(IncomingRequested));

        var decision = s.The<PlacementDecided>();
        Assert.Equal((Basement, Imac, PlacementMode.LiveMigration, Rules.FollowSeat), (decision.From, decision.To, decision.Mode, decision.Rule));
        Assert.Equal(["ev-1"], decision.EvidenceIds);
        Assert.Equal("alice sat down at imac; alice-desktop (8 GiB) moves from basement to imac, about 68 s", decision.Reason);
        Assert.Equal(Imac, s.The<IncomingRequested>().Target);
        Assert.Null(s.State!.Settling);
        Assert.Equal(CommandKind.PrepareIncoming, Assert.Single(s.Commands).Kind);
    }

    [Fact]
    public void activity_at_the_same_seat_during_the_wait_does_not_restart_it()
    {
        var s = WaitingAtTheImac();
        var first = s.State!.Settling!.SettleId;

        s.Given(Alice.IsActiveAt(Imac), Alice.UnlocksAt(Imac))
            .When(TheWait.RunsOut(first))
            .Then(typeof(PlacementDecided), typeof(IncomingRequested));
    }

    [Theory]
    [InlineData("logout", "alice left imac before the hold-down ended (now at no seat)")]
    [InlineData("lock", "alice left imac before the hold-down ended (now at no seat)")]
    public void with_alice_gone_the_wait_lapses_and_says_why(string state, string reason)
    {
        var s = WaitingAtTheImac();
        var wait = s.State!.Settling!.SettleId;

        s.Given(Alice.Session(Imac, state))
            .When(TheWait.RunsOut())
            .Then(typeof(SettlingLapsed))
            .ThenNoCommands();

        var lapsed = s.The<SettlingLapsed>();
        Assert.Equal(wait, lapsed.SettleId);
        Assert.Equal(reason, lapsed.Reason);
        Assert.Equal(s.Now, lapsed.At);
        Assert.Null(s.State!.Settling);
        Assert.Equal(Basement, s.State.VmHost);
    }

    [Fact]
    public void with_alice_at_the_host_already_running_it_the_wait_lapses_naming_where_she_is()
    {
        var s = WaitingAtTheImac()
            .Given(Alice.LogsInAt(Basement)) // the VM runs there: nothing to wait for, the old wait stays
            .When(TheWait.RunsOut())
            .Then(typeof(SettlingLapsed));

        Assert.Equal("alice left imac before the hold-down ended (now at basement)", s.The<SettlingLapsed>().Reason);
    }

    [Fact]
    public void a_wait_that_already_ran_out_does_nothing_the_second_time()
    {
        var s = WaitingAtTheImac();
        var wait = s.State!.Settling!.SettleId;

        s.Given(TheWait.RunsOut(wait))
            .When(TheWait.RunsOut(wait))
            .ThenNothing();
    }

    [Fact]
    public void an_unknown_wait_does_nothing()
    {
        WaitingAtTheImac()
            .When(TheWait.RunsOut("w-000000000000"))
            .ThenNothing();
    }

    [Fact]
    public void a_wait_with_nothing_pending_does_nothing()
    {
        Scenario.AliceOnTheBasementServer()
            .When(TheWait.RunsOut("w-000000000000"))
            .ThenNothing();
    }

    [Fact]
    public void a_second_seat_change_replaces_the_wait_and_the_first_one_no_longer_matters()
    {
        var s = WaitingAtTheImac();
        var first = s.State!.Settling!.SettleId;

        s.Given(Alice.LogsInAt(Laptop));
        var second = s.State!.Settling!;
        Assert.NotEqual(first, second.SettleId);
        Assert.Equal(Laptop, second.Seat);

        s.When(TheWait.RunsOut(first)).ThenNothing();

        s.When(TheWait.RunsOut(second.SettleId)).Then(typeof(PlacementDecided), typeof(IncomingRequested));
        Assert.Equal(Laptop, s.The<IncomingRequested>().Target);
    }

    [Fact]
    public void leaving_and_coming_back_during_the_wait_starts_a_new_one()
    {
        var s = WaitingAtTheImac();
        var first = s.State!.Settling!.SettleId;

        s.Given(Alice.LogsOutAt(Imac), Alice.LogsInAt(Imac));

        s.When(TheWait.RunsOut(first)).ThenNothing();
        s.When(TheWait.RunsOut()).Then(typeof(PlacementDecided), typeof(IncomingRequested));
    }

    [Fact]
    public void the_house_as_it_is_when_the_wait_runs_out_decides()
    {
        var s = WaitingAtTheImac()
            .WithHouse(h => h.FreeMemory(Imac, 3 * Gib))
            .When(TheWait.RunsOut())
            .Then(typeof(HouseChanged), typeof(PlacementDecided), typeof(DisplayAttachRequested));

        Assert.Equal(Rules.ThinClientFallback, s.The<PlacementDecided>().Rule);
    }
}
