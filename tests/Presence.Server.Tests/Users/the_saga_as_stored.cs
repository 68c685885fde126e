using System.Text.Json;
using NodaTime;
using Presence.Contracts.Wire;
using Presence.Domain.Users;

namespace Presence.Server.Tests.Users;

/// <summary>
/// The saga's per-computer instants are kept in a sorted immutable tree (Domain/Users/HostInstants) where a hash map
/// was: the documents stored before read as they did, and they are written in the same shape.
/// </summary>
public class the_saga_as_stored
{
    private static readonly JsonSerializerOptions Json = new JsonSerializerOptions().ConfigureTime();

    [Fact]
    public void a_saga_stored_with_a_map_of_instants_reads_back_ordinal_and_is_written_as_the_same_object()
    {
        // As the hash map wrote them: in the order the evidence first came.
        const string stored = """
            {"Id":"alice","Vm":"alice-vm",
             "NewestEvidence":{"seat-b":"2026-12-07T23:00:02Z","Seat-a":"2026-12-07T23:00:01Z","seat-a":"2026-12-07T23:00:03.5Z"},
             "UnpluggedAt":{"laptop":"2026-12-07T22:59:00Z"}}
            """;

        var saga = JsonSerializer.Deserialize<UserSaga>(stored, Json)!;

        Assert.Equal(["Seat-a", "seat-a", "seat-b"], saga.NewestEvidence.Keys);
        Assert.Same(StringComparer.Ordinal, saga.NewestEvidence.KeyComparer);
        Assert.Equal(Instant.FromUtc(2026, 12, 7, 23, 0, 3).Plus(Duration.FromMilliseconds(500)), saga.NewestEvidence["seat-a"]);
        Assert.Equal(Instant.FromUtc(2026, 12, 7, 22, 59), saga.UnpluggedAt["laptop"]);

        using var written = JsonDocument.Parse(JsonSerializer.Serialize(saga, Json));
        using var before = JsonDocument.Parse(stored);
        foreach (var property in new[] { "NewestEvidence", "UnpluggedAt" })
        {
            Assert.Equal(Pairs(before.RootElement.GetProperty(property)), Pairs(written.RootElement.GetProperty(property)));
        }
    }

    [Fact]
    public void a_map_of_instants_that_is_not_an_object_is_refused_by_name()
    {
        var error = Assert.Throws<JsonException>(() =>
            JsonSerializer.Deserialize<UserSaga>("""{"Id":"alice","NewestEvidence":["seat-a"]}""", Json));

        Assert.Contains("host to instant", error.Message);
    }

    [Fact]
    public void a_signal_moves_its_computer_s_clock_in_the_new_saga_and_leaves_the_old_one_as_it_was()
    {
        var start = Instant.FromUtc(2026, 12, 7, 23, 0);
        var saga = UserSaga.Start("alice", "alice-vm");
        foreach (var (seat, at) in new[] { ("seat-a", start), ("seat-b", start.Plus(Duration.FromSeconds(1))) })
        {
            saga = UserDecider.Evolve(saga, Signal(seat, at));
        }

        var later = UserDecider.Evolve(saga, Signal("seat-a", start.Plus(Duration.FromSeconds(5))));

        Assert.Equal(start, saga.NewestEvidence["seat-a"]);
        Assert.Equal(start.Plus(Duration.FromSeconds(5)), later.NewestEvidence["seat-a"]);
        Assert.Equal(start.Plus(Duration.FromSeconds(1)), later.NewestEvidence["seat-b"]);
    }

    private static Domain.Signals.SignalRecorded Signal(string seat, Instant at) =>
        new("alice", new Domain.Signals.Evidence(seat + "-" + at.ToUnixTimeTicks(), Domain.Signals.EvidenceKind.Idle, seat, "alice",
            new Dictionary<string, string> { ["state"] = "idle" }, at), at, at);

    private static List<(string, string)> Pairs(JsonElement map) =>
        [.. map.EnumerateObject().Select(p => (p.Name, InstantText(p.Value))).OrderBy(p => p.Name, StringComparer.Ordinal)];

    private static string InstantText(JsonElement value) => JsonSerializer.Deserialize<Instant>(value.GetRawText(), Json).ToString();
}
