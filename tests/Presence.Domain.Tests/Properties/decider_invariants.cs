using CsCheck;
using static Presence.Domain.Tests.Support.TheHouse;

namespace Presence.Domain.Tests.Properties;

/// <summary>
/// Invariants of the user saga over random histories: logins at any host (including ones alice may not use and one
/// the policy does not know), agent reports for the commands the saga waits for, for old ones and for made-up ones,
/// from the right host or any other, and the house changing underneath.
/// </summary>
public class decider_invariants
{
    private const int Iterations = 1000;

    [Fact]
    public void nothing_is_ever_placed_on_or_moved_to_a_host_the_user_may_not_use()
    {
        Histories.Sample((thinClient, ops) => Walk(thinClient, ops, step =>
        {
            foreach (var e in step.Events)
            {
                var to = e switch
                {
                    PlacementDecided d => d.To,
                    IncomingRequested r => r.Target,
                    DisplayAttachRequested a => a.Host,
                    _ => null,
                };
                Assert.True(to is null || step.Policy.MayUse(AliceName, to), $"{EventText.Of(e)} goes to a host alice may not use");
            }
        }), iter: Iterations);
    }

    [Fact]
    public void there_is_never_more_than_one_migration_in_flight()
    {
        Histories.Sample((thinClient, ops) => Walk(thinClient, ops, step =>
        {
            var state = step.Before;
            foreach (var e in step.Events)
            {
                if (e is IncomingRequested r)
                {
                    Assert.True(state.Migration is null, $"{r.MigrationId} requested while {state.Migration?.Id} is in flight");
                }

                state = UserDecider.Evolve(state, e);
            }
        }), iter: Iterations);
    }

    [Fact]
    public void the_same_state_input_time_and_policy_give_the_same_events()
    {
        Histories.Sample((thinClient, ops) => Walk(thinClient, ops, step =>
        {
            var again = UserDecider.Decide(step.StateGiven, step.Input, step.Now, step.Policy);
            Assert.Equal(EventText.Of(step.Events), EventText.Of(again));
        }), iter: Iterations);
    }

    [Fact]
    public void after_a_failed_migration_the_vm_is_where_it_was()
    {
        Histories.Sample((thinClient, ops) => Walk(thinClient, ops, step =>
        {
            var state = step.Before;
            foreach (var e in step.Events)
            {
                var before = state;
                state = UserDecider.Evolve(state, e);
                if (e is MigrationFailed failed)
                {
                    var source = Assert.IsType<PendingMigration>(before.Migration).Source;
                    Assert.Equal(source, failed.StillOn);
                    Assert.Equal(source, state.VmHost);
                    Assert.Null(state.Migration);
                }
            }
        }), iter: Iterations);
    }

    [Fact]
    public void the_histories_reach_every_outcome()
    {
        // Guards the generators: a property that never sees a completed or failed move proves little.
        var seen = new HashSet<Type>();
        Histories.Sample((thinClient, ops) => Walk(thinClient, ops, step =>
        {
            lock (seen)
            {
                seen.UnionWith(step.Events.Select(e => e.GetType()));
            }
        }), iter: Iterations, threads: 1);

        Type[] expected =
        [
            typeof(IncomingRequested), typeof(MigrationRequested), typeof(MigrationProgressed), typeof(MigrationCompleted),
            typeof(MigrationFailed), typeof(DisplayAttachRequested), typeof(DisplayAttached), typeof(MoveSuppressed),
        ];
        Assert.All(expected, t => Assert.Contains(t, seen));
    }

    // --- the random histories ---

    private static readonly string[] Seats = [Basement, Imac, Laptop, KidsPc, "garage"];

    public abstract record Op;

    public sealed record Session(string Host, string State, bool Remote) : Op;

    /// <summary>Which: 0 prepare, 1 migrate, 2 display (the ones the saga waits for), 3 one sent earlier, 4 made up.</summary>
    public sealed record Report(int Which, bool RightHost, string OtherHost, ReportState State, int Percent) : Op;

    /// <summary>Kind: 0 an agent comes or goes, 1 free memory changes, 2 the VM shows up somewhere, 3 inventories catch up.</summary>
    public sealed record HouseChanges(string Host, int Kind, int Value) : Op;

    private static readonly Gen<Op> SessionOp =
        Gen.Select(Gen.OneOf(Seats), Gen.OneOf("login", "unlock", "active", "logout", "lock"), Gen.Int[0, 9])
            .Select(t => (Op)new Session(t.Item1, t.Item2, t.Item3 == 0));

    private static readonly Gen<Op> ReportOp =
        Gen.Select(Gen.OneOf(0, 0, 1, 1, 1, 2, 3, 4), Gen.Int[0, 4], Gen.OneOf(Seats), Gen.OneOf(Enum.GetValues<ReportState>()), Gen.Int[0, 100])
            .Select(t => (Op)new Report(t.Item1, t.Item2 > 0, t.Item3, t.Item4, t.Item5));

    private static readonly Gen<Op> HouseOp =
        Gen.Select(Gen.OneOf(Seats), Gen.Int[0, 3], Gen.Int[0, 4])
            .Select(t => (Op)new HouseChanges(t.Item1, t.Item2, t.Item3));

    private static readonly Gen<(bool, Op[])> Histories =
        Gen.Select(Gen.Int[0, 3].Select(i => i == 0), Gen.Frequency((4, SessionOp), (6, ReportOp), (2, HouseOp)).Array[1, 40]);

    private sealed record Step(HousePolicy Policy, UserSaga? StateGiven, UserInput Input, Instant Now, IReadOnlyList<object> Events)
    {
        public UserSaga Before => StateGiven ?? UserSaga.Start(AliceName, Vm);
    }

    /// <summary>Plays one history through the decider, folding its events, and hands each step to <paramref name="check"/>.</summary>
    private static void Walk(bool thinClient, Op[] ops, Action<Step> check)
    {
        var policy = thinClient ? Policy().Prefers(PreferredMode.ThinClient) : Policy();
        var house = Facts();
        UserSaga? state = null;
        var now = Scenario.Start;
        var sent = new List<string>();
        var n = 0;

        foreach (var op in ops)
        {
            n++;
            now += Duration.FromSeconds(1);
            var seed = new Guid(n, 0, 0, new byte[8]);
            if (op is HouseChanges change)
            {
                house = Change(house, change, state);
            }

            UserInput input = op switch
            {
                Session s => new ObserveEvidence
                {
                    User = AliceName, House = house, Seed = seed,
                    Evidence = new Evidence($"ev-{n}", EvidenceKind.Session, s.Host, AliceName,
                        new Dictionary<string, string> { ["state"] = s.State, ["seat"] = s.Remote ? "remote" : "console" }, now),
                },
                Report r => new ObserveAgentReport { User = AliceName, House = house, Seed = seed, Report = ReportFor(r, state, sent, now) },
                _ => new ObserveEvidence
                {
                    User = AliceName, House = house, Seed = seed,
                    Evidence = new Evidence($"ev-{n}", EvidenceKind.Power, Basement, null, new Dictionary<string, string>(), now),
                },
            };

            var events = UserDecider.Decide(state, input, now, policy);
            check(new Step(policy, state, input, now, events));

            foreach (var e in events)
            {
                state = UserDecider.Evolve(state ?? UserSaga.Start(AliceName, Vm), e);
                sent.AddRange(AgentCommands.For(e).Select(c => c.CommandId));
            }
        }
    }

    private static AgentReport ReportFor(Report r, UserSaga? state, List<string> sent, Instant now)
    {
        var m = state?.Migration;
        var display = state?.PendingDisplay;
        (string? Host, string? Command) wanted = r.Which switch
        {
            0 => (m?.Target, m?.PrepareCommandId),
            1 => (m?.Source, m?.MigrateCommandId),
            2 => (display?.Host, display?.CommandId),
            3 when sent.Count > 0 => (r.OtherHost, sent[r.Percent % sent.Count]),
            _ => (null, null),
        };

        var host = r.RightHost && wanted.Host is { } right ? right : r.OtherHost;
        var command = wanted.Command ?? $"made-up-{r.Percent}";
        return new AgentReport(host, command, Vm, r.State, now,
            IncomingUri: r.State == ReportState.Ready ? $"tcp:{host}:49152" : null,
            TotalBytes: 100, RemainingBytes: 100 - r.Percent, TransferredBytes: r.Percent,
            Error: r.State == ReportState.Failed ? "boom" : null);
    }

    private static HouseSnapshot Change(HouseSnapshot house, HouseChanges change, UserSaga? state) => change.Kind switch
    {
        0 => house.Change(change.Host, h => h with { AgentOnline = !h.AgentOnline }),
        1 => house.FreeMemory(change.Host, new[] { 2, 8, 12, 16, 40 }[change.Value] * Gib),
        2 => change.Value switch
        {
            0 => house.VmRunsOn(),
            1 => house.VmRunsOn(Basement, change.Host),
            _ => house.VmRunsOn(change.Host),
        },
        _ => state?.VmHost is { } where ? house.VmRunsOn(where) : house,
    };
}
