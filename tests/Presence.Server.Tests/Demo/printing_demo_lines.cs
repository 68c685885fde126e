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

        Assert.Equal(["08:14:03  alice     · session on imac by alice (state=login, seat=console)"], For(new SignalRecorded("alice", evidence, At)));
    }

    [Fact]
    public void a_host_signal_is_shown_under_the_host()
    {
        var evidence = new Evidence("lid-1", EvidenceKind.Lid, "laptop", null, new Dictionary<string, string> { ["state"] = "closed" }, At);

        Assert.Equal(["08:14:03  laptop    · lid on laptop (state=closed)"], For(new HostSignalRecorded("laptop", evidence, At)));
    }

    [Fact]
    public void a_seat_change_says_where_to_and_from()
    {
        Assert.Equal(["08:14:03  alice     ◦ sits at imac, 100% sure"], For(new SeatChanged("alice", "imac", null, 1.0, ["login-1"], At)));
        Assert.Equal(["08:14:03  alice     ◦ sits at kids (was at imac), 100% sure"], For(new SeatChanged("alice", "kids", "imac", 1.0, ["login-2"], At)));
        Assert.Equal(["08:14:03  alice     ◦ left imac, at no computer now"], For(new SeatChanged("alice", null, "imac", 1.0, ["lock-1"], At)));
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
            "08:14:03  carol     → decided (thin_client_fallback) to show carol-desktop on kids's screen while it runs on basement: carol sat down at kids; carol-desktop cannot run on kids (kids: 2 GiB free, needs 4 GiB), so kids shows it",
            "                      ✗ kids (free_memory)",
        ], For(decided));
    }

    [Fact]
    public void a_rejection_the_reason_does_not_already_give_is_printed_in_full()
    {
        var decided = new PlacementDecided("alice", "d-1", "alice-desktop", "basement", "kids", PlacementMode.LiveMigration,
            Rules.MaintenanceEvacuate, "imac goes into maintenance; alice-desktop moves to kids, about 68 s",
            [], [new RejectedAlternative("laptop", Rules.LaptopBattery, "laptop: on battery at 20 %, below the 30 % an incoming VM needs")],
            Duration.FromSeconds(68), "p-1", At);

        Assert.Equal(
        [
            "08:14:03  alice     → decided (maintenance_evacuate) to move alice-desktop from basement to kids while it runs (live migration): imac goes into maintenance; alice-desktop moves to kids, about 68 s",
            "                      ✗ laptop: on battery at 20 %, below the 30 % an incoming VM needs (laptop_battery)",
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
            "08:14:03  bob       × did not move bob-music to kids (agent_online): bob sat down at kids, but no agent there can show or run bob-music",
            "                      ✗ kids: agent is offline (agent_online)",
            "                      ✗ laptop: not among bob's allowed hosts (allowed_hosts)",
        ], For(suppressed));
    }

    [Fact]
    public void the_same_suppression_again_is_said_in_short()
    {
        var lines = new DemoLines(DateTimeZoneProviders.Tzdb["Europe/Berlin"]);
        MoveSuppressed Cooldown(string id) => new("alice", id, "alice-desktop", "kids", Rules.Cooldown,
            "alice sat down at kids; alice-desktop moved at 08:10:00; against ping-pong the next move waits until 08:20:00",
            ["login-5"], [new RejectedAlternative("kids", Rules.Cooldown, "alice-desktop moved at 08:10:00; against ping-pong the next move waits until 08:20:00")],
            "p-1", At);

        Assert.Equal(
        [
            "08:14:03  alice     × did not move alice-desktop to kids (cooldown): alice sat down at kids; alice-desktop moved at 08:10:00; against ping-pong the next move waits until 08:20:00",
            "                      ✗ kids (cooldown)",
        ], For(Cooldown("d-1"), lines));
        Assert.Equal(["08:14:03  alice     × still did not move alice-desktop (cooldown), for the same reason"], For(Cooldown("d-2"), lines));
    }

    [Fact]
    public void settling_says_how_long_it_waits_and_before_what()
    {
        var started = new SettlingStarted("alice", "w-1", "imac", PlacementMode.LiveMigration, Duration.FromSeconds(20),
            At + Duration.FromSeconds(20), ["login-1"], At);
        var display = new SettlingStarted("carol", "w-2", "kids", PlacementMode.AttachDisplay, Duration.FromMilliseconds(300),
            At + Duration.FromMilliseconds(300), ["login-2"], At);

        Assert.Equal(["08:14:03  alice     ⧗ waits 20 s to be sure about imac before a live migration"], For(started));
        Assert.Equal(["08:14:03  carol     ⧗ waits 300 ms to be sure about kids before a display attach"], For(display));
        Assert.Equal(["08:14:03  alice     ⧗ wait over, nothing done: alice left imac before the hold-down ended (now at no seat)"],
            For(new SettlingLapsed("alice", "w-1", "alice left imac before the hold-down ended (now at no seat)", At)));
    }

    [Fact]
    public void a_proposal_names_the_decision_to_approve_and_the_answer_follows()
    {
        var proposed = new PlacementProposed("alice", "d-7", "alice-desktop", "basement", "imac", PlacementMode.LiveMigration,
            Rules.FollowSeat, "alice sat down at imac; alice-desktop (8 GiB) moves from basement to imac, about 68 s",
            ["login-1"], [], Duration.FromSeconds(68), "p-1", At);

        Assert.Equal(
            ["08:14:03  alice     ? proposed (follow_seat) to move alice-desktop from basement to imac while it runs (live migration), waiting for approve or decline of d-7: alice sat down at imac; alice-desktop (8 GiB) moves from basement to imac, about 68 s"],
            For(proposed));
        Assert.Equal(["08:14:03  alice     ✓ proposal d-7 approved"], For(new ProposalAnswered("alice", "d-7", true, "r-1", At)));
        Assert.Equal(["08:14:03  alice     × proposal d-7 declined"], For(new ProposalAnswered("alice", "d-7", false, "r-1", At)));
    }

    [Fact]
    public void holds_and_refused_requests_are_shown_under_the_user()
    {
        Assert.Equal(["08:14:03  bob       ⏸ hold: the session stays where it is, whatever the seat says"], For(new HoldChanged("bob", true, "r-1", At)));
        Assert.Equal(["08:14:03  bob       ▶ hold released: the session follows the seat again"], For(new HoldChanged("bob", false, "r-2", At)));
        Assert.Equal(["08:14:03  bob       ✗ request r-3 refused: decision d-9 is not waiting for an answer; none is waiting"],
            For(new RequestRefused("bob", "r-3", "decision d-9 is not waiting for an answer; none is waiting", At)));
    }

    [Fact]
    public void leaving_with_the_laptop_says_why_and_that_the_laptop_stays_awake()
    {
        var leaving = new LeavingDetected("dave", "laptop", "laptop was unplugged at 08:14:01 and its lid closed at 08:14:03", ["lid-1"], At);
        var incoming = new IncomingRequested("dave", "m-2", "d-3", "dave-desktop", "basement", "laptop", 8192, "c-4", At, InhibitSleep: true);

        Assert.Equal(["08:14:03  dave      ⇥ leaving the house with laptop: laptop was unplugged at 08:14:01 and its lid closed at 08:14:03"], For(leaving));
        Assert.Equal(["08:14:03  dave      ⏾ laptop is asked to get ready to receive dave-desktop from basement, and to stay awake until it has arrived (inhibit_sleep)"], For(incoming));
    }

    [Fact]
    public void a_frozen_vm_says_where_its_state_went_and_how_long_it_slept()
    {
        var lines = new DemoLines(DateTimeZoneProviders.Tzdb["Europe/Berlin"]);
        var suspended = new VmSuspended("bob", "o-1", "bob-music", "imac", "/tmp/shared/bob-music-o-1.state", null, At);
        var resumed = new VmResumed("bob", "o-2", "bob-music", "kids", At + Duration.FromMinutes(8 * 60 + 45));

        Assert.Equal(["08:14:03  bob       ❄ bob-music frozen on imac into /tmp/shared/bob-music-o-1.state"], For(suspended, lines));
        Assert.Equal(["16:59:03  bob       ☀ bob-music woke on kids after 8 h 45 min in shared storage"], For(resumed, lines));
        Assert.Equal(["08:14:03  bob       ❄ bob-music frozen on imac into /tmp/s.state, to wake on kids"],
            For(new VmSuspended("bob", "o-3", "bob-music", "imac", "/tmp/s.state", "kids", At)));
    }

    [Fact]
    public void a_failed_freeze_or_wake_says_where_the_vm_is()
    {
        Assert.Equal(["08:14:03  bob       ✗ freezing failed: imac could not freeze bob-music: disk full; bob-music still runs on imac"],
            For(new SuspendFailed("bob", "o-1", "bob-music", "imac", "imac could not freeze bob-music: disk full", At)));
        Assert.Equal(["08:14:03  bob       ✗ waking failed: kids could not wake bob-music from /tmp/s.state: no such file; bob-music stays frozen"],
            For(new ResumeFailed("bob", "o-2", "bob-music", "kids", "kids could not wake bob-music from /tmp/s.state: no such file", At)));
    }

    [Fact]
    public void an_inventory_is_shown_only_when_the_power_supply_changed()
    {
        var lines = new DemoLines(DateTimeZoneProviders.Tzdb["Europe/Berlin"]);
        InventoryReported Laptop(bool onBattery, int percent) => new("laptop", 8, 16384, 16384, 400, onBattery, percent, [], At);

        Assert.Empty(For(Laptop(false, 90), lines));
        Assert.Empty(For(Laptop(false, 90), lines));
        Assert.Equal(["08:14:03  laptop    ▪ agent reports: on battery, 80 %"], For(Laptop(true, 80), lines));
        Assert.Equal(["08:14:03  laptop    ▪ agent reports: on mains, 81 %"], For(Laptop(false, 81), lines));
    }

    [Fact]
    public void a_completed_move_gives_its_duration_and_downtime()
    {
        var completed = new MigrationCompleted("alice", "m-1", "alice-desktop", "basement", "imac", 12, 3_210, At);

        Assert.Equal(["08:14:03  alice     ✓ alice-desktop moved basement → imac in 3.2 s (paused 12 ms)"], For(completed));
    }

    [Fact]
    public void a_simulated_move_also_says_how_long_it_took_here()
    {
        var lines = new DemoLines(DateTimeZoneProviders.Tzdb["Europe/Berlin"], simulatedSpeed: 20);
        var requested = new IncomingRequested("alice", "m-1", "d-1", "alice-desktop", "basement", "imac", 8192, "c-1", At);
        var completed = new MigrationCompleted("alice", "m-1", "alice-desktop", "basement", "imac", 131, 68_100, At + Duration.FromMilliseconds(3_400));

        Assert.Empty(For(requested, lines));
        Assert.Equal(["08:14:06  alice     ✓ alice-desktop moved basement → imac in 68.1 s (paused 131 ms), simulated at 20×: 3.4 s here"], For(completed, lines));
    }

    [Fact]
    public void numbers_read_the_same_in_every_culture()
    {
        var culture = System.Globalization.CultureInfo.CurrentCulture;
        System.Globalization.CultureInfo.CurrentCulture = new System.Globalization.CultureInfo("de-DE");
        try
        {
            var completed = new MigrationCompleted("alice", "m-1", "alice-desktop", "basement", "imac", 12, 3_210, At);

            Assert.Equal(["08:14:03  alice     ✓ alice-desktop moved basement → imac in 3.2 s (paused 12 ms)"], For(completed));
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
            ["08:14:03  alice     ✗ moving alice-desktop to imac failed while preparing: imac could not prepare to receive alice-desktop: not enough memory; alice-desktop still runs on basement"],
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
            new HouseChanged("alice", [], ["kids"], At),
            new IncomingReady("alice", "m-1", "imac", "tcp:127.0.0.1:1", At),
            new MigrationRequested("alice", "m-1", "alice-desktop", "basement", "imac", "tcp:127.0.0.1:1", 1000, 300, "c-1", At),
            new MigrationProgressed("alice", "m-1", 50, 1, 1, 0, 1000, At),
            new DisplayAttachRequested("carol", "d-1", "carol-desktop", "kids", "spice://basement:5903", "c-3", At),
            new InventoryReported("imac", 8, 16384, 16384, 1000, false, null, [], At),
            new AgentStatusReported("imac", true, "0.1.0", "simulated", At),
            new SuspendRequested("bob", "o-1", "d-4", "bob-music", "imac", "/tmp/s.state", null, "c-5", At),
            new ResumeRequested("bob", "o-2", "bob-music", "kids", "/tmp/s.state", "c-6", At),
        ];

        Assert.All(quiet, e => Assert.Empty(For(e)));
    }

    private sealed record SessionHeld(string User, string Reason, Instant At);

    [Fact]
    public void an_event_the_demo_does_not_know_yet_is_shown_by_name_and_reason()
    {
        Assert.Equal(["08:14:03  bob       · session held: bob asked to keep it here"], For(new SessionHeld("bob", "bob asked to keep it here", At)));
    }

    [Fact]
    public void a_scheduled_timeout_is_silent_and_its_failure_says_why()
    {
        Assert.Empty(For(new PhaseTimeoutScheduled("alice", "m-1", Phases.Preparing, Duration.FromSeconds(30), At + Duration.FromSeconds(30), At)));
        Assert.Equal(
            ["08:14:03  alice     ✗ moving alice-desktop to imac failed while preparing: imac did not answer prepare_incoming within 30 s; alice-desktop still runs on basement"],
            For(new MigrationFailed("alice", "m-1", "alice-desktop", Phases.Preparing, "imac did not answer prepare_incoming within 30 s",
                "basement", "imac", "c-abort", At)));
    }

    [Fact]
    public void a_resent_command_says_to_whom_and_why()
    {
        var command = new CommandToAgent("imac", "c-1", CommandKind.PrepareIncoming, "alice-desktop", MemoryMb: 8192);

        Assert.Equal(
            ["08:14:03  alice     ↻ prepare_incoming sent again to imac, same command id: imac's agent came online while preparing waited for it"],
            For(new CommandResent("alice", "m-1", Phases.Preparing, command, "imac's agent came online while preparing waited for it", At)));
    }
}
