using System.Diagnostics;
using Presence.Domain.Audit;
using Presence.Domain.House;
using Presence.Domain.Replay;
using Presence.Domain.Users;
using Presence.Server.Replay;

namespace Presence.Benchmarks.EndToEnd;

/// <summary>
/// A year of a house, from the recorded days in eventstore/histories (alice's, bob's, carol's and dave's demo days):
/// person p lives day-file p mod 4 every day. Each day is folded and decided again as recorded; a day's stream is
/// the unit `presence replay` reads, so deciding a year again is that many days of every person; folding takes each
/// person's year as one stream, as it is read back from PostgreSQL.
/// </summary>
public sealed class YearOfAHouse
{
    private static readonly string[] Days = ["day-alice.jsonl", "day-bob.jsonl", "day-carol.jsonl", "day-dave.jsonl"];

    private YearOfAHouse(List<(IReadOnlyList<Recorded> Day, HousePolicy Policy, string User)> people, int days)
    {
        People = people;
        DaysLived = days;
        Events = (long)people.Sum(p => p.Day.Count) * days;
    }

    public IReadOnlyList<(IReadOnlyList<Recorded> Day, HousePolicy Policy, string User)> People { get; }
    public int DaysLived { get; }
    public long Events { get; }

    public static YearOfAHouse Generate(int people, int days)
    {
        var folder = Path.Combine(HistoryBenchmarks.RepositoryRoot(), "eventstore", "histories");
        var recorded = Days.Select(d => HistoryFile.Read(Path.Combine(folder, d))).ToList();
        var list = Enumerable.Range(0, people).Select(p =>
        {
            var history = recorded[p % recorded.Count];
            var user = history.Events.Select(e => (e.Data as IUserEvent)?.User).First(u => u is not null)!;
            return (history.Events, Counterfactual.Policy(null, history.Header.House, null), user);
        }).ToList();
        return new YearOfAHouse(list, days);
    }

    /// <summary>Events per second of rebuilding each person's saga from their year as one stream (<see cref="UserDecider.Evolve"/>), as from PostgreSQL.</summary>
    public static double FoldPerSecond(YearOfAHouse year)
    {
        var clock = Stopwatch.StartNew();
        var check = 0;
        foreach (var (day, _, user) in year.People)
        {
            var saga = UserSaga.Start(user, null);
            for (var d = 0; d < year.DaysLived; d++)
            {
                foreach (var e in day)
                {
                    saga = UserDecider.Evolve(saga, e.Data);
                }
            }

            check += saga.Id.Length;
        }

        return check == 0 ? throw new InvalidOperationException("folded nothing") : year.Events / clock.Elapsed.TotalSeconds;
    }

    /// <summary>
    /// Events per second of deciding each day again and comparing it with what was recorded (<see cref="Replayer"/>),
    /// to the verdict `presence replay` exits with. Under the settings it was recorded with, a day is decided again
    /// exactly as it was: a difference means the replay no longer takes the path it is timed for, and fails the run.
    /// </summary>
    public static double ReplayPerSecond(YearOfAHouse year)
    {
        var clock = Stopwatch.StartNew();
        var steps = 0L;
        var differences = 0L;
        for (var d = 0; d < year.DaysLived; d++)
        {
            foreach (var (day, policy, _) in year.People)
            {
                var report = Replayer.Replay(day, policy);
                steps += report.Steps.Count;
                differences += report.Differences;
            }
        }

        var elapsed = clock.Elapsed;
        if (steps == 0 || differences > 0)
        {
            throw new InvalidOperationException($"deciding the recorded days again compared {steps} steps and found {differences} differences (expected none)");
        }

        return year.Events / elapsed.TotalSeconds;
    }
}
