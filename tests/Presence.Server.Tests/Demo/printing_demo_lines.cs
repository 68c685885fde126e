using NodaTime;
using Presence.Domain.Hosts;
using Presence.Domain.House;
using Presence.Domain.Migration;
using Presence.Domain.Placement;
using Presence.Domain.Seating;
using Presence.Domain.Signals;
using Presence.Domain.Users;
using Presence.Server.Demo;

namespace Presence.Server.Tests.Demo;

/// <summary>What the demo prints for each kind of event: the house's local time, who, what happened and why.</summary>
public sealed class printing_demo_lines
{
    // 07:14:03 UTC is 08:14:03 in Berlin in March.
    private static readonly Instant At = Instant.FromUtc(2025, 3, 4, 7, 14, 3);
    private static readonly DemoLines Lines = new(DateTimeZoneProviders.Tzdb["Europe/Berlin"]);

    private static IReadOnlyList<string> For(object e, DemoLines? lines = null) => (lines ?? Lines).For(e, At);

    [Fact]
    public void a_signal_is_shown_in_its_own_words()
    {
        var evidence = new Evidence("login-1", EvidenceKind.Session, "imac", "alice",
            new Dictionary<string, string> { ["state"] = "login", ["seat"] = "console" }, At);

        Assert.Equal(["08:14:03  alice     · session on imac: state=login, seat=console"], For(new SignalRecorded("alice", evidence, At)));
    }

    [Fact]
    public void a_host_signal_is_shown_under_the_host()
    {
        var evidence = new Evidence("lid-1", EvidenceKind.Lid, "laptop", null, new Dictionary<string, string> { ["state"] = "closed" }, At);

        Assert.Equal(["08:14:03  laptop    · lid on laptop: state=closed"], For(new HostSignalRecorded("laptop", evidence, At)));
    }

    [Fact]
    public void a_seat_change_says_where_to_and_from()
    {
        Assert.Equal(["08:14:03  alice     ◦ seat → imac"], For(new SeatChanged("alice", "imac", null, 1.0, ["login-1"], At)));
        Assert.Equal(["08:14:03  alice     ◦ seat → kids (was imac)"], For(new SeatChanged("alice", "kids", "imac", 1.0, ["login-2"], At)));
        Assert.Equal(["08:14:03  alice     ◦ seat → none (left imac)"], For(new SeatChanged("alice", null, "imac", 1.0, ["lock-1"], At)));
    }

    [Fact]
    public void a_decision_gives_its_rule_and_reason_and_each_rejected_host()
    {
        var decided = new PlacementDecided("carol", "d-1", "carol-desktop", "basement", "kids", PlacementMode.AttachDisplay,
            Rules.ThinClientFallback, "carol sat down at kids; carol-desktop cannot run on kids (kids: 2 GiB free, needs 4 GiB), so kids shows it",
            ["login-3"], [new RejectedAlternative("kids", Rules.FreeMemory, "kids: 2 GiB free, needs 4 GiB")],
            Duration.FromSeconds(2), "p-1", At);

        Assert.Equal(
        [
            "08:14:03  carol     → decided (thin_client_fallback): carol sat down at kids; carol-desktop cannot run on kids (kids: 2 GiB free, needs 4 GiB), so kids shows it",
            "                      ✗ kids: 2 GiB free, needs 4 GiB (free_memory)",
        ], For(decided));
    }

    [Fact]
    public void a_suppression_gives_its_rule_and_reason_and_each_rejected_host()
    {
        var suppressed = new MoveSuppressed("bob", "d-2", "bob-music", "kids", Rules.AgentOnline,
            "bob sat down at kids, but no agent there can show or run bob-music", ["login-4"],
            [
                new RejectedAlternative("kids", Rules.AgentOnline, "kids: agent is offline"),
                new RejectedAlternative("laptop", Rules.AllowedHosts, "not among bob's allowed hosts"),
            ], "p-1", At);

        Assert.Equal(
        [
            "08:14:03  bob       × suppressed (agent_online): bob sat down at kids, but no agent there can show or run bob-music",
            "                      ✗ kids: agent is offline (agent_online)",
            "                      ✗ laptop: not among bob's allowed hosts (allowed_hosts)",
        ], For(suppressed));
    }

    [Fact]
    public void a_completed_move_gives_its_duration_and_downtime()
    {
        var completed = new MigrationCompleted("alice", "m-1", "alice-desktop", "basement", "imac", 12, 3_210, At);

        Assert.Equal(["08:14:03  alice     ✓ moved basement → imac in 3.2 s (downtime 12 ms)"], For(completed));
    }

    [Fact]
    public void a_simulated_move_also_says_how_long_it_took_here()
    {
        var lines = new DemoLines(DateTimeZoneProviders.Tzdb["Europe/Berlin"], simulatedSpeed: 20);
        var requested = new IncomingRequested("alice", "m-1", "d-1", "alice-desktop", "basement", "imac", 8192, "c-1", At);
        var completed = new MigrationCompleted("alice", "m-1", "alice-desktop", "basement", "imac", 131, 68_100, At + Duration.FromMilliseconds(3_400));

        Assert.Empty(For(requested, lines));
        Assert.Equal(["08:14:06  alice     ✓ moved basement → imac in 68.1 s (downtime 131 ms), simulated at 20×: 3.4 s here"], For(completed, lines));
    }

    [Fact]
    public void numbers_read_the_same_in_every_culture()
    {
        var culture = System.Globalization.CultureInfo.CurrentCulture;
        System.Globalization.CultureInfo.CurrentCulture = new System.Globalization.CultureInfo("de-DE");
        try
        {
            var completed = new MigrationCompleted("alice", "m-1", "alice-desktop", "basement", "imac", 12, 3_210, At);

            Assert.Equal(["08:14:03  alice     ✓ moved basement → imac in 3.2 s (downtime 12 ms)"], For(completed));
        }
        finally
        {
            System.Globalization.CultureInfo.CurrentCulture = culture;
        }
    }

    [Fact]
    public void a_failed_move_says_why_and_where_the_vm_still_runs()
    {
        var failed = new MigrationFailed("alice", "m-1", "alice-desktop", Phases.Preparing,
            "imac could not prepare to receive alice-desktop: not enough memory", "basement", "imac", "c-2", At);

        Assert.Equal(
            ["08:14:03  alice     ✗ move basement → imac failed (preparing): imac could not prepare to receive alice-desktop: not enough memory; alice-desktop still runs on basement"],
            For(failed));
    }

    [Fact]
    public void a_display_attach_says_which_screen_shows_which_vm()
    {
        Assert.Equal(["08:14:03  carol     ▣ kids shows carol-desktop"], For(new DisplayAttached("carol", "carol-desktop", "kids", At)));
        Assert.Equal(["08:14:03  carol     ✗ kids could not show carol-desktop: no viewer"],
            For(new DisplayAttachFailed("carol", "carol-desktop", "kids", "no viewer", At)));
    }

    [Fact]
    public void maintenance_and_a_lost_agent_are_shown_under_the_host()
    {
        Assert.Equal(["08:14:03  imac      ⚠ maintenance on: system update"], For(new MaintenanceSwitched("imac", true, "system update", At)));
        Assert.Equal(["08:14:03  imac      maintenance off"], For(new MaintenanceSwitched("imac", false, null, At)));
        Assert.Equal(["08:14:03  kids      ⚠ agent offline"], For(new AgentStatusReported("kids", false, null, null, At)));
    }

    [Fact]
    public void bookkeeping_prints_nothing()
    {
        object[] quiet =
        [
            new UserEnrolled("alice", "alice-desktop", "basement", "p-1", At),
            new HouseObserved("alice", [], At),
            new IncomingReady("alice", "m-1", "imac", "tcp:127.0.0.1:1", At),
            new MigrationRequested("alice", "m-1", "alice-desktop", "basement", "imac", "tcp:127.0.0.1:1", 1000, 300, "c-1", At),
            new MigrationProgressed("alice", "m-1", 50, 1, 1, 0, 1000, At),
            new DisplayAttachRequested("carol", "d-1", "carol-desktop", "kids", "spice://basement:5903", "c-3", At),
            new InventoryReported("imac", 8, 16384, 16384, 1000, false, null, [], At),
            new AgentStatusReported("imac", true, "0.1.0", "simulated", At),
        ];

        Assert.All(quiet, e => Assert.Empty(For(e)));
    }

    private sealed record SessionHeld(string User, string Reason, Instant At);

    [Fact]
    public void an_event_the_demo_does_not_know_yet_is_shown_by_name_and_reason()
    {
        Assert.Equal(["08:14:03  bob       · session held: bob asked to keep it here"], For(new SessionHeld("bob", "bob asked to keep it here", At)));
    }
}
