using static Presence.Domain.Tests.Support.TheHouse;

namespace Presence.Domain.Tests.Seating;

/// <summary>
/// Evidence carries the sender's time, and a sender that was offline delivers late: evidence older than what put
/// alice at her seat is recorded (history shows it) but does not move her back to where she was before.
/// </summary>
public class when_evidence_arrives_late
{
    /// <summary>Evidence from alice at <paramref name="host"/>, stamped <paramref name="ago"/> before the scenario's clock.</summary>
    private static Step Late(string host, string state, Duration ago) => s =>
    {
        var input = (ObserveEvidence)Alice.Session(host, state)(s);
        return input with { Evidence = input.Evidence with { At = s.Now - ago } };
    };

    [Fact]
    public void an_older_login_elsewhere_does_not_take_her_back()
    {
        var s = Scenario.AliceOnTheBasementServer()
            .WithPolicy(p => p.Prefers(PreferredMode.ThinClient))
            .Given(Alice.LogsInAt(Laptop))
            .When(Late(Imac, "login", Duration.FromMinutes(2)))
            .Then(typeof(SignalRecorded))
            .ThenNoCommands();

        Assert.Equal(Laptop, s.State!.Seat);
    }

    [Fact]
    public void an_older_logout_does_not_take_her_off_the_seat_she_sat_down_at_again()
    {
        var s = Scenario.AliceOnTheBasementServer()
            .Given(Alice.LogsInAt(Basement))
            .When(Late(Basement, "logout", Duration.FromMinutes(1)))
            .Then(typeof(SignalRecorded));

        Assert.Equal(Basement, s.State!.Seat);
    }

    [Fact]
    public void a_lid_closed_before_she_sat_down_at_the_laptop_is_not_leaving()
    {
        var s = Scenario.AliceOnTheBasementServer()
            .WithPolicy(p => p.Prefers(PreferredMode.ThinClient))
            .Given(Alice.Unplugs(Laptop))
            .After(Duration.FromMinutes(1))
            .Given(Alice.LogsInAt(Laptop));

        s.When(st =>
        {
            var input = (ObserveEvidence)Alice.ClosesTheLidOf(Laptop)(st);
            return input with { Evidence = input.Evidence with { At = st.Now - Duration.FromSeconds(30) } };
        }).Then(typeof(SignalRecorded));
    }

    [Fact]
    public void newer_evidence_still_counts()
    {
        Scenario.AliceOnTheBasementServer()
            .WithPolicy(p => p.Prefers(PreferredMode.ThinClient))
            .Given(Alice.LogsInAt(Laptop))
            .When(Alice.LogsInAt(Imac))
            .Then(typeof(SignalRecorded), typeof(SeatChanged), typeof(PlacementDecided), typeof(DisplayDetachRequested), typeof(DisplayAttachRequested));
    }

    [Fact]
    public void another_computers_clock_a_few_seconds_behind_still_moves_her()
    {
        // The imac's clock runs 5 s behind the laptop's: its login looks older than the laptop's, but it is not late.
        var s = Scenario.AliceOnTheBasementServer()
            .WithPolicy(p => p.Prefers(PreferredMode.ThinClient))
            .Given(Alice.LogsInAt(Laptop))
            .When(Late(Imac, "login", Duration.FromSeconds(5)))
            .Then(typeof(SignalRecorded), typeof(SeatChanged), typeof(PlacementDecided), typeof(DisplayDetachRequested), typeof(DisplayAttachRequested));

        Assert.Equal(Imac, s.State!.Seat);
    }

    [Fact]
    public void the_same_computer_never_contradicts_itself_with_older_evidence()
    {
        // By its own clock the basement's logout happened before its newest evidence: late, however little.
        var s = Scenario.AliceOnTheBasementServer()
            .Given(Alice.LogsInAt(Basement))
            .Given(Alice.IsActiveAt(Basement))
            .When(Late(Basement, "logout", Duration.FromSeconds(2)))
            .Then(typeof(SignalRecorded));

        Assert.Equal(Basement, s.State!.Seat);
    }
}
