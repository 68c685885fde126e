using static Presence.Domain.Tests.Support.TheHouse;

namespace Presence.Domain.Tests.Seating;

/// <summary>
/// One computer's signals are ordered by its own clock, not by when they arrive (issue 10 §3, "signals out of
/// order"): a login and a logout from the same computer that the broker delivers the other way round leave alice
/// where the later of the two, by that computer's clock, puts her; the other is recorded and takes no move.
/// </summary>
public class when_signals_arrive_out_of_order
{
    /// <summary>Alice's session <paramref name="state"/> at <paramref name="host"/>, stamped <paramref name="ago"/> before the scenario's clock.</summary>
    private static Step Earlier(string host, string state, Duration ago) => s =>
    {
        var input = (ObserveEvidence)Alice.Session(host, state)(s);
        return input with { Evidence = input.Evidence with { At = s.Now - ago } };
    };

    [Fact]
    public void a_login_delivered_after_the_logout_that_followed_it_does_not_seat_her()
    {
        // The imac logged her in and then out; the logout got through first.
        var s = Scenario.AliceOnTheBasementServer()
            .WithPolicy(p => p.Prefers(PreferredMode.ThinClient))
            .Given(Alice.LogsOutAt(Imac))
            .When(Earlier(Imac, "login", Duration.FromSeconds(10)))
            .Then(typeof(SignalRecorded))
            .ThenNoCommands();

        Assert.Null(s.State!.Seat);
        Assert.Equal(Basement, s.State.VmHost);
    }

    [Fact]
    public void a_logout_delivered_after_the_login_that_followed_it_does_not_end_the_seat()
    {
        // Ten seconds is within the slack between two computers' clocks: only the imac's own order sets it aside.
        var s = Scenario.AliceOnTheBasementServer()
            .WithPolicy(p => p.Prefers(PreferredMode.ThinClient))
            .Given(Alice.LogsInAt(Imac))
            .When(Earlier(Imac, "logout", Duration.FromSeconds(10)))
            .Then(typeof(SignalRecorded))
            .ThenNoCommands();

        Assert.Equal(Imac, s.State!.Seat);
    }

    [Fact]
    public void the_same_two_in_order_end_the_seat()
    {
        var s = Scenario.AliceOnTheBasementServer()
            .WithPolicy(p => p.Prefers(PreferredMode.ThinClient))
            .Given(Alice.LogsInAt(Imac))
            .After(Duration.FromSeconds(10))
            .When(Alice.LogsOutAt(Imac))
            .Then(typeof(SignalRecorded), typeof(SeatChanged), typeof(DisplayDetachRequested));

        Assert.Null(s.State!.Seat);
    }

    [Fact]
    public void another_computers_order_is_its_own()
    {
        // The laptop's newer clock says nothing about the imac's order: the imac's login, older by the laptop's
        // clock by less than the slack, is the imac's newest word and seats her there.
        var s = Scenario.AliceOnTheBasementServer()
            .WithPolicy(p => p.Prefers(PreferredMode.ThinClient))
            .Given(Alice.LogsOutAt(Imac))
            .After(Duration.FromSeconds(20))
            .Given(Alice.LogsInAt(Laptop))
            .When(Earlier(Imac, "login", Duration.FromSeconds(10)))
            .Then(typeof(SignalRecorded), typeof(SeatChanged), typeof(PlacementDecided), typeof(DisplayDetachRequested), typeof(DisplayAttachRequested));

        Assert.Equal(Imac, s.State!.Seat);
    }
}
