using Marten;
using NodaTime;
using Presence.Domain.Migration;
using Presence.Domain.Placement;
using Presence.Domain.Audit;
using Presence.Domain.Replay;
using Presence.Domain.Words;
using Presence.Server.Audit;
using Presence.Server.Demo;
using Presence.Server.Replay;
using Presence.Server.Hosting;
using Presence.Server.Tests.Infrastructure;

namespace Presence.Server.Tests.Demo;

/// <summary>
/// The demo's own script, played fast against the default house (the repository's appsettings.json), with the real
/// server, broker, decider and simulated agents: every turn of issue 3's story is in the event store, and what it
/// prints is what the store holds.
/// </summary>
public sealed class the_demo_tells_the_story
{
    private const double Speed = 20;

    [Fact]
    public async Task a_day_and_a_morning_of_the_house_with_every_rule_printed()
    {
        using var guard = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        var connectionString = await PostgresCluster.NewDatabaseAsync("demo");
        var builder = PresenceApp.CreateBuilder(["--Urls=http://127.0.0.1:0", $"--Mqtt:Port={Ports.Free()}", $"--Demo:Speed={Speed}"]);
        var output = new StringWriter();

        await using var house = await DemoHouse.StartAsync(builder, connectionString, output, guard.Token);
        await house.PlayAsync(DemoScript.Story(house.Options.Speed), guard.Token);
        await house.PrintSummaryAsync(guard.Token);

        await using var session = house.Store.QuerySession();
        async Task<List<object>> Stream(string user) =>
            (await session.Events.FetchStreamAsync(user, token: guard.Token)).Select(e => e.Data).ToList();
        var alice = await Stream("alice");
        var bob = await Stream("bob");
        var carol = await Stream("carol");
        var dave = await Stream("dave");
        var printed = output.ToString();
        var zone = house.Clock.Zone;
        LocalTime At(Instant instant) => instant.InZone(zone).TimeOfDay;
        string Clock(Instant instant) => instant.InZone(zone).ToString("HH:mm", null);
        void Printed(string user, PlacementDecided d) => Assert.Contains($"{user,-8}  → decided ({d.Rule}) to {Wording.Move(d.Mode, d.Vm, d.From, d.To)}: {d.Reason}", printed);

        // Morning: the iMac shows alice's desktop at once; her VM waits the live-migration hold-down, then follows her.
        var settling = alice.OfType<SettlingStarted>().First();
        var shownFirst = alice.OfType<PlacementDecided>().First();
        Assert.Equal(("imac", PlacementMode.AttachDisplay), (shownFirst.To, shownFirst.Mode));
        Assert.True(alice.IndexOf(shownFirst) < alice.IndexOf(settling), "shown before the hold-down began");
        var toImac = alice.OfType<PlacementDecided>().First(d => d.Mode == PlacementMode.LiveMigration);
        Assert.Equal(("imac", PlacementMode.LiveMigration), (settling.Seat, settling.Mode));
        Assert.Equal((Rules.FollowSeat, "imac", PlacementMode.LiveMigration), (toImac.Rule, toImac.To, toImac.Mode));
        Assert.True(alice.IndexOf(settling) < alice.IndexOf(toImac));
        Assert.True(toImac.At >= settling.DueAt, "the move waited for the hold-down");
        Assert.InRange(At(toImac.At), new LocalTime(7, 30), new LocalTime(7, 35));
        Assert.Contains(alice.OfType<MigrationCompleted>(), c => (c.Source, c.Target) == ("basement", "imac"));
        Printed("alice", toImac);
        Assert.Contains("alice     ⧗ waits 100 ms to be sure about imac before a live migration", printed);

        // carol, thin client: the kids' desktop shows her VM.
        var carolShown = carol.OfType<PlacementDecided>().Single();
        Assert.Equal((Rules.PreferThinClient, PlacementMode.AttachDisplay, "kids"), (carolShown.Rule, carolShown.Mode, carolShown.To));
        Assert.Contains(carol.OfType<DisplayAttached>(), a => (a.Host, a.Vm) == ("kids", "carol-desktop"));
        Printed("carol", carolShown);
        Assert.Contains("carol     ▣ kids shows carol-desktop", printed);

        // bob prefers thin client, but his music VM is latency-sensitive: it runs on his seat.
        var music = bob.OfType<PlacementDecided>().First(d => d.Mode == PlacementMode.LiveMigration);
        Assert.Equal((Rules.LatencySensitive, PlacementMode.LiveMigration, "imac"), (music.Rule, music.Mode, music.To));
        Assert.Contains(bob.OfType<MigrationCompleted>(), c => (c.Source, c.Target) == ("basement", "imac"));
        Printed("bob", music);

        // Minutes later at the kids' desktop: the cooldown keeps alice's VM upstairs and the desk shows it, until she asks.
        var cooldown = alice.OfType<MoveSuppressed>().First(s => s.Rule == Rules.Cooldown);
        Assert.Equal("kids", cooldown.Wanted);
        Assert.Contains($"alice     × did not move {cooldown.Vm} to kids (cooldown): {cooldown.Reason}", printed);
        var shownDownstairs = alice.OfType<PlacementDecided>().Single(d => d.Mode == PlacementMode.AttachDisplay && d.To == "kids");
        Assert.Equal(Rules.ThinClientFallback, shownDownstairs.Rule);
        Assert.Contains(shownDownstairs.Rejected, r => r.Rule == Rules.Cooldown);
        Assert.Contains(alice.OfType<DisplayAttached>(), a => a.Host == "kids");
        var asked = alice.OfType<PlacementDecided>().Single(d => d.Rule == Rules.RequestMove);
        Assert.Equal(("imac", "kids", PlacementMode.LiveMigration), (asked.From, asked.To, asked.Mode));
        Assert.Contains(alice.OfType<MigrationCompleted>(), c => (c.Source, c.Target) == ("imac", "kids"));
        Printed("alice", asked);

        // dave unplugs the laptop and closes the lid: his VM lands on the laptop, which stays awake for it.
        Assert.Single(dave.OfType<LeavingDetected>());
        var leaving = dave.OfType<PlacementDecided>().Single(d => d.Rule == Rules.LeavingWithLaptop);
        Assert.Equal(("basement", "laptop", PlacementMode.LiveMigration), (leaving.From, leaving.To, leaving.Mode));
        Assert.Contains(dave.OfType<IncomingRequested>(), r => r.Target == "laptop" && r.InhibitSleep);
        Assert.Contains(dave.OfType<MigrationCompleted>(), c => c.Target == "laptop");
        Printed("dave", leaving);
        Assert.Contains("laptop    ▪ agent reports: on battery, 80 %", printed);

        // 22:30: quiet hours keep alice's VM downstairs; the iMac shows it.
        var quiet = alice.OfType<MoveSuppressed>().First(s => s.Rule == Rules.QuietHours);
        Assert.Equal("imac", quiet.Wanted);
        Assert.Equal("22:30", Clock(quiet.At));
        Assert.Contains($"alice     × did not move {quiet.Vm} to imac (quiet_hours): {quiet.Reason}", printed);
        Assert.Contains(alice.OfType<DisplayAttached>(), a => a.Host == "imac");

        // Maintenance on the iMac while bob sleeps: his VM is frozen to shared storage; next morning it wakes downstairs.
        var evacuate = bob.OfType<PlacementDecided>().Single(d => d.Rule == Rules.MaintenanceEvacuate);
        Assert.Equal(PlacementMode.SuspendResume, evacuate.Mode);
        var frozen = Assert.Single(bob.OfType<VmSuspended>());
        Assert.Equal("imac", frozen.Host);
        Assert.StartsWith(house.Policy.Settings.SharedStorage, frozen.File);
        var wake = bob.OfType<PlacementDecided>().Single(d => d.Rule == Rules.ResumeAtSeat);
        Assert.Equal("kids", wake.To);
        var woke = Assert.Single(bob.OfType<VmResumed>());
        Assert.Equal("kids", woke.Host);
        Assert.Equal("07:45", Clock(woke.At));
        Assert.True(woke.At - frozen.At > Duration.FromHours(8), "it slept the night through");
        Printed("bob", evacuate);
        Printed("bob", wake);
        Assert.Contains($"bob       ❄ bob-music frozen on imac into {frozen.File}", printed);
        Assert.Contains("bob       ☀ bob-music woke on kids after 8 h 45 min in shared storage", printed);

        // Every step was told to its end, and nothing the steps sent was refused.
        Assert.Contains("[12/12]", printed);
        Assert.DoesNotContain("! rejected", printed);
        Assert.DoesNotContain("(skipped", printed);
        Assert.DoesNotContain("the story goes on", printed);
        Assert.Contains("Where everything is now", printed);
        Assert.Contains("bob       bob-music       runs on kids; bob sits at kids", printed);

        // What the real server recorded, concurrency and all, decides again to the very same events: each stream
        // holds every input its decisions used.
        foreach (var user in new[] { "alice", "bob", "carol", "dave" })
        {
            var history = await StoredHistory.LoadAsync(session, user, guard.Token);
            var replay = Replayer.Replay(history, house.Policy);
            Assert.True(replay.Identical, ReplayText.Render(replay, zone));
            Assert.Equal(history.Select(r => r.Data.GetType()), replay.Events.Select(e => e.GetType()));
            Assert.Equal(history.OfType<Recorded>().Select(r => r.At), replay.Events.Select(e => e.At));
        }

        // And exported, each user's history reads back whole.
        var exported = await house.ExportAsync(Path.Combine(Path.GetTempPath(), $"presence-histories-{Guid.NewGuid():N}"), "day", ["alice", "bob", "carol", "dave"], guard.Token);
        Assert.Equal(4, exported.Count);
        Assert.Equal(alice.Count, HistoryFile.Read(exported[0]).Events.Count);
    }
}
