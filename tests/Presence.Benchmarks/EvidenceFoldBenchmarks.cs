using System.Collections.Immutable;
using BenchmarkDotNet.Attributes;
using NodaTime;
using Presence.Domain.Signals;
using Presence.Domain.Users;

namespace Presence.Benchmarks;

/// <summary>
/// Folding one idle signal into the saga of a user every computer of a 50-computer house spoke of, as the house
/// benchmark's ingestion leaves them: the fold the decider and the stored saga each run for every signal. What it
/// allocates is the figure to watch (the per-computer clocks were copied whole here; docs/benchmarks.md).
/// </summary>
[MemoryDiagnoser]
public class EvidenceFoldBenchmarks
{
    private UserSaga saga = null!;
    private SignalRecorded idle = null!;

    [GlobalSetup]
    public void Setup()
    {
        var start = Instant.FromUtc(2026, 12, 7, 23, 0);
        saga = UserSaga.Start("user-006", "user-006-vm") with
        {
            LastEvidenceAt = start,
            NewestEvidence = Enumerable.Range(1, 50).ToImmutableSortedDictionary(
                i => $"seat-{i:D3}", i => start.Plus(Duration.FromSeconds(i)), StringComparer.Ordinal),
        };
        var at = start.Plus(Duration.FromSeconds(60));
        idle = new SignalRecorded("user-006",
            new Evidence("idle-1", EvidenceKind.Idle, "seat-025", "user-006", new Dictionary<string, string> { ["state"] = "idle" }, at), at, at);

        // The path named: the computer's clock moves on, the other 49 stay.
        var after = UserDecider.Evolve(saga, idle);
        if (after.NewestEvidence["seat-025"] != at || after.NewestEvidence.Count != 50 || saga.NewestEvidence["seat-025"] == at)
        {
            throw new InvalidOperationException("folding the idle signal did not move seat-025's clock alone");
        }
    }

    [Benchmark]
    public UserSaga FoldAnIdleSignal() => UserDecider.Evolve(saga, idle);
}
