using ApprovalTests;
using ApprovalTests.Reporters;
using static Presence.Domain.Tests.Support.TheFamily;

namespace Presence.Domain.Tests.Day;

/// <summary>
/// One whole scripted day in the house of DESIGN.md, and the next morning, as the decision trace a person would read
/// in the history: morning logins waiting out their hold-down, a thin-client user, a music VM that waits for its
/// owner's approval, a cooldown, idling away, the laptop leaving with bob, quiet hours in the evening, and the
/// basement's overnight maintenance freezing two VMs that wake where their owners sit down next morning.
/// The approved trace is the snapshot; any change in what the decider does or says shows up as a diff.
/// </summary>
[UseReporter(typeof(QuietReporter))]
public class a_day_in_the_house
{
    // The people, as members so they win over the scenario steps' Alice.
    private const string Alice = TheFamily.Alice;
    private const string Bob = TheFamily.Bob;
    private const string Carol = TheFamily.Carol;
    private const string Dan = TheFamily.Dan;

    [Fact]
    public void the_decision_trace_reads_like_the_day()
    {
        Approvals.Verify(Play().Trace);
    }

    [Fact]
    public void the_day_plays_the_same_every_time()
    {
        Assert.Equal(Play().Trace, Play().Trace);
    }

    /// <summary>The day, played: the replay tests decide it again.</summary>
    internal static HouseDay Play()
    {
        var day = new HouseDay(new LocalDate(2026, 6, 16)); // a Tuesday in summer: the house's clock is UTC+2

        day.Note("07:05 alice sits down upstairs; a move is dear, so it waits out the hold-down first")
            .At(new LocalTime(7, 5)).Session(Alice, Imac, "login")
            .WaitRunsOut(Alice)
            .AgentsCarryOut(Alice, took: Duration.FromSeconds(70));

        day.Note("07:12 bob reads the news on the laptop: he prefers thin-client mode, so the laptop only shows his VM")
            .At(new LocalTime(7, 12)).Session(Bob, Laptop, "login")
            .AgentsCarryOut(Bob);

        day.Note("07:15 alice looks in at the basement office: her VM moved ten minutes ago, so the cooldown holds it")
            .At(new LocalTime(7, 15)).Session(Alice, Basement, "login")
            .AgentsCarryOut(Alice)
            .At(new LocalTime(7, 20)).Session(Alice, Imac, "unlock");

        day.Note("09:00 carol makes music on the kids' desktop: her VM is latency-sensitive and she approves every move")
            .At(new LocalTime(9, 0)).Session(Carol, KidsPc, "login")
            .WaitRunsOut(Carol);
        var proposal = day.State(Carol).Proposal!.DecisionId;
        day.At(new LocalTime(9, 2)).Request(Carol, "approve", decisionId: proposal)
            .AgentsCarryOut(Carol, took: Duration.FromSeconds(35))
            .At(new LocalTime(11, 30)).Session(Carol, KidsPc, "logout");

        day.Note("12:30 alice has been idle upstairs over lunch; at 13:15 she is back")
            .At(new LocalTime(12, 30)).Signal(Alice, EvidenceKind.Idle, Imac, ("idle_seconds", "1500"))
            .At(new LocalTime(13, 15)).Session(Alice, Imac, "active");

        day.Note("13:58 bob unplugs the laptop and at 14:00 closes its lid: he is leaving, and his VM must be on it before it sleeps")
            .At(new LocalTime(13, 58)).Inventory(h => h.Change(Laptop, f => f with { OnBattery = true, BatteryPercent = 85 }))
            .Signal(Bob, EvidenceKind.Power, Laptop, ("ac", "false"), ("battery_percent", "85"))
            .At(new LocalTime(14, 0)).Signal(Bob, EvidenceKind.Lid, Laptop, ("state", "closed"))
            .AgentsCarryOut(Bob, took: Duration.FromSeconds(230));

        day.Note("15:30 dan is back from school at his desktop; at 16:40 he has been idle half an hour")
            .At(new LocalTime(15, 30)).Session(Dan, KidsPc, "login")
            .AgentsCarryOut(Dan)
            .At(new LocalTime(16, 40)).Signal(Dan, EvidenceKind.Idle, KidsPc, ("idle_seconds", "1800"));

        day.Note("18:30 bob is home: the laptop joins the home Wi-Fi and is plugged in; he sends his VM home to the basement")
            .At(new LocalTime(18, 30)).Signal(Bob, EvidenceKind.Wifi, Laptop, ("state", "connected"), ("ssid", HomeWifi))
            .Inventory(h => h.Change(Laptop, f => f with { OnBattery = false, BatteryPercent = 60 }))
            .Signal(Bob, EvidenceKind.Power, Laptop, ("ac", "true"), ("battery_percent", "60"))
            .At(new LocalTime(18, 35)).Request(Bob, "home")
            .AgentsCarryOut(Bob, took: Duration.FromSeconds(40))
            .At(new LocalTime(21, 0)).Session(Bob, Laptop, "logout");

        day.Note("22:20 alice sits down at the laptop: quiet hours, so her VM stays upstairs and the laptop shows it")
            .At(new LocalTime(22, 20)).Session(Alice, Laptop, "login")
            .AgentsCarryOut(Alice)
            .At(new LocalTime(22, 50)).Session(Alice, Laptop, "logout");

        day.Note("23:30 the basement goes into maintenance overnight: bob and dan are away, so their VMs are frozen")
            .At(new LocalTime(23, 30)).HostChanges(Basement, h => h with { InMaintenance = true })
            .AgentsCarryOut(Bob, took: Duration.FromSeconds(8))
            .AgentsCarryOut(Dan, took: Duration.FromSeconds(8));

        day.Note("05:30 next morning the basement is back; frozen VMs wait for their owners")
            .At(new LocalTime(5, 30), dayOffset: 1).HostChanges(Basement, h => h with { InMaintenance = false });

        day.Note("07:10 bob sits down upstairs and 07:30 dan at his desktop: each VM wakes where its owner sits")
            .At(new LocalTime(7, 10)).Session(Bob, Imac, "login")
            .WaitRunsOut(Bob)
            .AgentsCarryOut(Bob, took: Duration.FromSeconds(6))
            .At(new LocalTime(7, 30)).Session(Dan, KidsPc, "login")
            .WaitRunsOut(Dan)
            .AgentsCarryOut(Dan, took: Duration.FromSeconds(6));

        return day;
    }
}
