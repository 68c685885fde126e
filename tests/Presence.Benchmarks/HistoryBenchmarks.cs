using BenchmarkDotNet.Attributes;
using NodaTime;
using Presence.Domain.Audit;
using Presence.Domain.House;
using Presence.Domain.Replay;
using Presence.Domain.Signals;
using Presence.Domain.Placement;
using Presence.Domain.Users;
using Presence.Server.Replay;

namespace Presence.Benchmarks;

/// <summary>
/// What a decision and a look back cost, on the demo's recorded day for alice (eventstore/histories/day-alice.jsonl):
/// the server folds a user's stream and decides once per signal; explain, state --at and replay fold or decide a
/// whole history. Goals: a decision well under a millisecond, a day's replay in milliseconds.
/// </summary>
[MemoryDiagnoser]
public class HistoryBenchmarks
{
    private string file = "";
    private History history = null!;
    private HousePolicy policy = null!;
    private UserSaga saga = null!;
    private ObserveEvidence login = null!;
    private ObserveEvidence imacLogin = null!;
    private UserSaga settling = null!;
    private Settle settle = null!;
    private Instant now;

    [GlobalSetup]
    public void Setup()
    {
        file = Path.Combine(RepositoryRoot(), "eventstore", "histories", "day-alice.jsonl");
        history = HistoryFile.Read(file);
        policy = Counterfactual.Policy(null, history.Header.House, null);
        saga = Fold();
        var house = history.Events.Select(e => e.Data).Aggregate(HouseSnapshot.Empty, HouseChanged.Fold);
        // An hour after her recorded day ends, her VM where the day left it (the kids' desktop).
        now = history.Events[^1].At + Duration.FromHours(1);
        login = Login("laptop", house);
        imacLogin = Login("imac", house);

        // Each benchmark must take the path it is named for; a rule change that makes one decide something else
        // fails here instead of measuring the wrong thing (DecideALogin once measured a login that decided nothing).
        var planned = Expect<SettlingStarted>(DecideALogin(), "a login at the laptop starts the wait before moving her VM there");
        var refused = Expect<PlacementDecided>(DecideARefusedMove(), "a login at the imac, in maintenance at the end of her day, shows her desktop there");
        if (refused.Rule != Rules.ThinClientFallback || !refused.Rejected.Any(r => r.Rule == Rules.InMaintenance))
        {
            throw new InvalidOperationException($"expected the move to the imac refused for its maintenance, got {refused.Rule}: {refused.Reason}");
        }
        settling = UserDecider.Decide(saga, login, now, policy).Aggregate(saga, UserDecider.Evolve);
        settle = new Settle { User = "alice", House = house, Seed = Guid.NewGuid(), SettleId = planned.SettleId };
        Expect<PlacementDecided>(DecideTheMove(), "the hold-down over, the move to the laptop is decided");
        var replay = ReplayTheDay();
        if (replay.Report.Steps.Count == 0 || replay.Text.Length == 0)
        {
            throw new InvalidOperationException("replaying the day compared no steps");
        }
    }

    /// <summary>Rebuilding alice's saga from her day's stream (what a handler's FetchForWriting does without the projection).</summary>
    [Benchmark]
    public UserSaga Fold() => history.Events.Aggregate(UserSaga.Start("alice", null), (s, e) => UserDecider.Evolve(s, e.Data));

    /// <summary>One decision that plans a move: alice logs in at the laptop, her VM on the kids' desktop; the wait before moving it starts.</summary>
    [Benchmark]
    public IReadOnlyList<object> DecideALogin() => UserDecider.Decide(saga, login, now, policy);

    /// <summary>One decision that turns a move down with its reason: a login at the imac, which is in maintenance; the seat shows the VM where it runs.</summary>
    [Benchmark]
    public IReadOnlyList<object> DecideARefusedMove() => UserDecider.Decide(saga, imacLogin, now, policy);

    /// <summary>The hold-down ran out: the move to the laptop is decided (placement, migration plan, first commands).</summary>
    [Benchmark]
    public IReadOnlyList<object> DecideTheMove() => UserDecider.Decide(settling, settle, now + Duration.FromMinutes(1), policy);

    /// <summary>What `presence replay` runs: deciding alice's whole day again under the recorded house, comparing it step by step, and rendering the report.</summary>
    [Benchmark]
    public (int ExitCode, string Text, ReplayReport Report) ReplayTheDay() => Counterfactual.Run(history.Events, policy, null, null, everyStep: false);

    /// <summary>Reading the day's history file (`replay --history`, `import`).</summary>
    [Benchmark]
    public History ReadTheHistoryFile() => HistoryFile.Read(file);

    private ObserveEvidence Login(string seat, HouseSnapshot house) => new()
    {
        User = "alice",
        House = house,
        Seed = Guid.NewGuid(),
        Evidence = new Evidence("bench-" + seat, EvidenceKind.Session, seat, "alice",
            new Dictionary<string, string> { ["state"] = "login", ["seat"] = "console" }, now),
    };

    private static T Expect<T>(IReadOnlyList<object> decided, string what) =>
        decided.OfType<T>().FirstOrDefault()
        ?? throw new InvalidOperationException($"expected {what} ({typeof(T).Name}), but the decider emitted: {string.Join(", ", decided.Select(e => e.GetType().Name))}");

    internal static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Presence.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"no Presence.sln above {AppContext.BaseDirectory}");
    }
}
