using BenchmarkDotNet.Attributes;
using NodaTime;
using Presence.Domain.Audit;
using Presence.Domain.House;
using Presence.Domain.Replay;
using Presence.Domain.Signals;
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
    private Instant now;

    [GlobalSetup]
    public void Setup()
    {
        file = Path.Combine(RepositoryRoot(), "eventstore", "histories", "day-alice.jsonl");
        history = HistoryFile.Read(file);
        policy = Counterfactual.Policy(null, history.Header.House, null);
        saga = Fold();
        var house = history.Events.Select(e => e.Data).OfType<HouseObserved>().Last();
        now = history.Events[^1].At + Duration.FromHours(1);
        login = new ObserveEvidence
        {
            User = "alice",
            House = new HouseSnapshot(house.Hosts),
            Seed = Guid.NewGuid(),
            Evidence = new Evidence("bench-1", EvidenceKind.Session, "kids", "alice",
                new Dictionary<string, string> { ["state"] = "login", ["seat"] = "console" }, now),
        };
    }

    /// <summary>Rebuilding alice's saga from her day's stream (what a handler's FetchForWriting does without the projection).</summary>
    [Benchmark]
    public UserSaga Fold() => history.Events.Aggregate(UserSaga.Start("alice", null), (s, e) => UserDecider.Evolve(s, e.Data));

    /// <summary>One decision: alice logs in at the kids' desktop at the end of her day.</summary>
    [Benchmark]
    public IReadOnlyList<object> DecideALogin() => UserDecider.Decide(saga, login, now, policy);

    /// <summary>Deciding alice's whole day again under the recorded house (`presence replay`).</summary>
    [Benchmark]
    public ReplayReport ReplayTheDay() => Replayer.Replay(history.Events, policy);

    /// <summary>Reading the day's history file (`replay --history`, `import`).</summary>
    [Benchmark]
    public History ReadTheHistoryFile() => HistoryFile.Read(file);

    private static string RepositoryRoot()
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
