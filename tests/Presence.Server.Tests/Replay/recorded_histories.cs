using ApprovalTests;
using ApprovalTests.Namers;
using ApprovalTests.Reporters;
using System.Text.Json;
using NodaTime;
using NodaTime.Serialization.SystemTextJson;
using Presence.Domain.Audit;
using Presence.Domain.House;
using Presence.Domain.Placement;
using Presence.Domain.Users;
using Presence.Domain.Replay;
using Presence.Server.Replay;
using Presence.Server.Tests.Infrastructure;

namespace Presence.Server.Tests.Replay;

/// <summary>
/// The histories in eventstore/histories were recorded by the real server (`-- demo --story <name> --export`): the
/// demo's day, and three bad moves. Each is decided again by today's decider under the house it was recorded in; it
/// must come to every recorded decision, and the whole trace is an approved snapshot, so any change in what the
/// decider would do fails here until it is looked at and approved. The bad moves are replayed again under the
/// settings that would have prevented them (`<story>.fix.json`), which must change the outcome.
/// </summary>
[UseReporter(typeof(QuietReporter))]
public sealed class recorded_histories
{
    public static TheoryData<string> Histories() => new(Names());

    private static IEnumerable<string> Names() =>
        Directory.GetFiles(Repository.PathOf("eventstore", "histories"), "*.jsonl").Select(f => Path.GetFileNameWithoutExtension(f)!).Order(StringComparer.Ordinal);

    [Fact]
    public void the_demo_day_and_three_bad_moves_are_recorded()
    {
        var names = Names().ToList();

        Assert.Contains("day-alice", names);
        Assert.Contains("ping-pong-alice", names);
        Assert.Contains("quiet-hours-alice", names);
        Assert.Contains("flapping-wifi-dave", names);
    }

    [Theory]
    [MemberData(nameof(Histories))]
    public void replays_to_the_recorded_decisions(string name)
    {
        var history = Read(name);
        var policy = Counterfactual.Policy(null, history.Header.House, null);

        var (exit, text, report) = Counterfactual.Run(history.Events, policy, null, null, everyStep: true);

        Assert.True(exit == Counterfactual.Identical, text);
        Assert.Equal(history.Header.PolicyVersion, policy.Version);
        Assert.Contains(report.Steps, s => s.Recorded.Count > 0);
        using (ApprovalResults.ForScenario(name))
        {
            Approvals.Verify(text);
        }
    }

    /// <summary>
    /// The histories were recorded when a stream took the whole house at every change (HouseObserved); today's server
    /// records only what changed (HouseChanged). The same history written the new way replays to the same steps, the
    /// same events and the same saga.
    /// </summary>
    [Theory]
    [MemberData(nameof(Histories))]
    public void replays_the_same_with_the_house_recorded_as_changes(string name)
    {
        var history = Read(name);
        var policy = Counterfactual.Policy(null, history.Header.House, null);
        var asChanges = AsChanges(history.Events);
        Assert.Contains(asChanges, r => r.Data is HouseChanged);
        Assert.DoesNotContain(asChanges, r => r.Data is HouseObserved);

        var (_, _, whole) = Counterfactual.Run(history.Events, policy, null, null, everyStep: true);
        var (exit, text, changes) = Counterfactual.Run(asChanges, policy, null, null, everyStep: true);

        Assert.True(exit == Counterfactual.Identical, text);
        Assert.Equal(whole.Steps.Select(Step), changes.Steps.Select(Step));
        Assert.Equal(whole.Events.Select(Json), changes.Events.Select(Json));
        Assert.Equal(Json(Fold(history.Events)), Json(Fold(asChanges)));

        // The input's words may differ (a change names its hosts); when, what was decided and why may not.
        static string Step(ReplayStep s) =>
            $"{s.At} | {string.Join("; ", s.Recorded.Select(d => d.Key))} | {string.Join("; ", s.Replayed.Select(d => d.Key))} | {s.Note}";

        UserSaga Fold(IEnumerable<Recorded> events) =>
            events.Aggregate(UserSaga.Start(history.Header.User, null), (saga, r) => UserDecider.Evolve(saga, r.Data));
    }

    /// <summary>The history as today's server would have written it: each whole house as what changed since the last.</summary>
    private static List<Recorded> AsChanges(IReadOnlyList<Recorded> events)
    {
        var house = HouseSnapshot.Empty;
        var changes = new List<Recorded>();
        foreach (var r in events)
        {
            if (r.Data is HouseObserved o)
            {
                var now = new HouseSnapshot(o.Hosts).Normalised();
                var changed = now.Hosts.Where(h => !house.Hosts.Any(b => b.Name == h.Name && b.SameAs(h))).ToList();
                var gone = house.Hosts.Select(h => h.Name).Where(n => now.Hosts.All(h => h.Name != n)).ToList();
                house = now;
                changes.Add(r with { Data = new HouseChanged(o.User, changed, gone, o.At) });
            }
            else
            {
                changes.Add(r);
            }
        }

        return changes;
    }

    private static readonly JsonSerializerOptions JsonOptions = new JsonSerializerOptions().ConfigureForNodaTime(DateTimeZoneProviders.Tzdb);

    private static string Json(object value) => value.GetType().Name + " " + JsonSerializer.Serialize(value, value.GetType(), JsonOptions);

    [Fact]
    public void the_ping_pong_with_a_cooldown_would_have_moved_twice_instead_of_four_times()
    {
        var report = Fixed("ping-pong-alice", "ping-pong");

        // 08:00 upstairs, then 08:04 downstairs is within the ten minutes: shown there instead. At 08:08 she is back
        // where the VM stayed, and at 08:12 the cooldown is over.
        Count(report.Steps.SelectMany(s => s.Recorded), 4);
        Count(report.Steps.SelectMany(s => s.Replayed), 2);
        var suppressed = Assert.Single(report.Steps, s => s.Replayed.Any(d => d.Rule == Rules.Cooldown));
        Assert.Contains(suppressed.Replayed, d => d.Rule == Rules.ThinClientFallback);

        static void Count(IEnumerable<DecisionSummary> decisions, int moves) =>
            Assert.Equal(moves, decisions.Count(d => d.Key.StartsWith("decided live-migrate", StringComparison.Ordinal)));
    }

    [Fact]
    public void the_late_move_under_quiet_hours_would_have_shown_the_vm_instead()
    {
        var report = Fixed("quiet-hours-alice", "quiet-hours");

        // Recorded: shown at once, then moved when the hold-down ended. Under quiet hours the login itself is told
        // "not now", so no hold-down starts and nothing moves.
        Assert.Single(report.Steps, s => s.Recorded.Any(d => d.Key.StartsWith("decided live-migrate", StringComparison.Ordinal)));
        Assert.Contains(report.Steps, s => s.Replayed.Any(d => d.Rule == Rules.QuietHours));
        Assert.DoesNotContain(report.Steps.SelectMany(s => s.Replayed), d => d.Key.StartsWith("decided live-migrate", StringComparison.Ordinal));
    }

    [Fact]
    public void the_flapping_wifi_with_both_bands_named_would_not_have_pulled_the_vm_onto_the_laptop()
    {
        var report = Fixed("flapping-wifi-dave", "flapping-wifi");

        var hop = report.Steps.First(s => s.Recorded.Any(d => d.Rule == Rules.LeavingWithLaptop));
        Assert.DoesNotContain(hop.Replayed, d => d.Rule == Rules.LeavingWithLaptop);
        Assert.DoesNotContain(report.Events, e => e is PlacementDecided { Rule: Rules.LeavingWithLaptop });
    }

    private static ReplayReport Fixed(string name, string story)
    {
        var history = Read(name);
        var fix = Repository.PathOf("eventstore", "histories", story + ".fix.json");
        var policy = Counterfactual.Policy(null, history.Header.House, fix);

        var (exit, text, report) = Counterfactual.Run(history.Events, policy, null, null, everyStep: false);

        Assert.Equal(Counterfactual.Different, exit);
        using (ApprovalResults.ForScenario(name + " with " + story + ".fix"))
        {
            Approvals.Verify(text);
        }

        return report;
    }

    private static History Read(string name) => HistoryFile.Read(Repository.PathOf("eventstore", "histories", name + ".jsonl"));
}
