using System.Collections.Immutable;
using System.Text.Json;
using BenchmarkDotNet.Attributes;
using NodaTime;
using NodaTime.Serialization.SystemTextJson;
using Presence.Contracts.Wire;
using Presence.Domain.Users;

namespace Presence.Benchmarks;

/// <summary>
/// What Marten spends on a saga's JSON, read and written once per user in every transaction that decides for them,
/// with the product's setting (Contracts/Wire/InstantJson before NodaTime's converter) and with NodaTime's alone. The
/// saga is one of a 50-computer house where every computer spoke of its user: an instant per computer
/// (UserSaga.NewestEvidence), as the house benchmark's ingestion leaves them.
/// </summary>
[MemoryDiagnoser]
public class SagaJsonBenchmarks
{
    private readonly JsonSerializerOptions ours = new JsonSerializerOptions().ConfigureTime();
    private readonly JsonSerializerOptions noda = new JsonSerializerOptions().ConfigureForNodaTime(DateTimeZoneProviders.Tzdb);
    private UserSaga saga = null!;
    private byte[] json = [];

    [GlobalSetup]
    public void Setup()
    {
        var start = Instant.FromUtc(2026, 12, 6, 3, 9, 42);
        saga = UserSaga.Start("user-006", "user-006-vm") with
        {
            LastEvidenceAt = start,
            NewestEvidence = Enumerable.Range(1, 50).ToImmutableSortedDictionary(i => $"seat-{i:D3}", i => start.PlusNanoseconds(i * 1_234_567_300L), StringComparer.Ordinal),
        };
        json = JsonSerializer.SerializeToUtf8Bytes(saga, noda);

        // Both settings must write the same text, and this one must take the fast path it is named for.
        if (!json.AsSpan().SequenceEqual(JsonSerializer.SerializeToUtf8Bytes(saga, ours)))
        {
            throw new InvalidOperationException("InstantJson wrote the saga otherwise than NodaTime's converter");
        }

        if (ours.GetConverter(typeof(Instant)) is not InstantJson || noda.GetConverter(typeof(Instant)) is InstantJson)
        {
            throw new InvalidOperationException("the two settings do not differ in the converter for instants");
        }
    }

    [Benchmark(Baseline = true)]
    public UserSaga ReadAndWriteWithNodaTimeAlone() => RoundTrip(noda);

    [Benchmark]
    public UserSaga ReadAndWriteWithInstantJson() => RoundTrip(ours);

    private UserSaga RoundTrip(JsonSerializerOptions options)
    {
        var read = JsonSerializer.Deserialize<UserSaga>(json, options)!;
        JsonSerializer.SerializeToUtf8Bytes(read, options);
        return read;
    }
}
