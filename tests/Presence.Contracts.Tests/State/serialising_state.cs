using System.Text;
using System.Text.Json;
using Presence.Contracts.State;

namespace Presence.Contracts.Tests.State;

/// <summary>CONTRACT.md §4: the retained user state and the error payload the server publishes.</summary>
public class serialising_state
{
    private static readonly UserStatePayload AliceAtTheImac = new()
    {
        User = "alice",
        SeatHost = null,
        Vm = "alice-desktop",
        VmHost = "basement",
        Mode = SessionMode.ThinClient,
        Migration = null,
        LastDecision = null,
    };

    private static JsonElement Serialise<T>(T value)
    {
        using var document = JsonDocument.Parse(ContractJson.Serialize(value));
        return document.RootElement.Clone();
    }

    [Fact]
    public void state_has_snake_case_keys_with_explicit_nulls()
    {
        var json = Encoding.UTF8.GetString(ContractJson.Serialize(AliceAtTheImac));

        Assert.Equal(
            """{"user":"alice","seat_host":null,"vm":"alice-desktop","vm_host":"basement","mode":"thin_client","migration":null,"last_decision":null}""",
            json);
    }

    [Fact]
    public void seat_host_migration_and_last_decision_are_present_as_null()
    {
        var root = Serialise(AliceAtTheImac);

        Assert.Equal(JsonValueKind.Null, root.GetProperty("seat_host").ValueKind);
        Assert.Equal(JsonValueKind.Null, root.GetProperty("migration").ValueKind);
        Assert.Equal(JsonValueKind.Null, root.GetProperty("last_decision").ValueKind);
    }

    [Fact]
    public void vm_host_is_present_as_null_when_unknown()
    {
        var root = Serialise(AliceAtTheImac with { VmHost = null });

        Assert.Equal(JsonValueKind.Null, root.GetProperty("vm_host").ValueKind);
    }

    [Theory]
    [InlineData(SessionMode.ThinClient, "thin_client")]
    [InlineData(SessionMode.Local, "local")]
    [InlineData(SessionMode.Moving, "moving")]
    [InlineData(SessionMode.Held, "held")]
    [InlineData(SessionMode.Suspended, "suspended")]
    public void every_mode_is_written_in_snake_case(SessionMode mode, string wire)
    {
        var root = Serialise(AliceAtTheImac with { Mode = mode });

        Assert.Equal(wire, root.GetProperty("mode").GetString());
        Assert.Equal(wire, ContractJson.WireName(mode));
    }

    [Fact]
    public void a_full_state_writes_migration_decision_and_since()
    {
        var state = AliceAtTheImac with
        {
            SeatHost = "imac",
            Mode = SessionMode.Moving,
            Migration = new MigrationSummary("m-7", "basement", "imac", "transferring", 42.5),
            LastDecision = new DecisionSummary("d-3", "follow_the_user", "alice unlocked imac"),
            Since = Payload.Now,
        };

        var json = Encoding.UTF8.GetString(ContractJson.Serialize(state));

        Assert.Equal(
            """{"user":"alice","seat_host":"imac","vm":"alice-desktop","vm_host":"basement","mode":"moving","migration":{"id":"m-7","from":"basement","to":"imac","phase":"transferring","percent":42.5},"last_decision":{"id":"d-3","rule":"follow_the_user","reason":"alice unlocked imac"},"since":"2026-11-25T08:30:00Z"}""",
            json);
    }

    [Fact]
    public void state_reads_back_through_the_same_options()
    {
        var state = AliceAtTheImac with
        {
            SeatHost = "imac",
            Migration = new MigrationSummary("m-7", "basement", "imac", "transferring", null),
            LastDecision = new DecisionSummary("d-3", "follow_the_user", "alice unlocked imac"),
            Since = Payload.Now,
        };

        var back = JsonSerializer.Deserialize<UserStatePayload>(ContractJson.Serialize(state), ContractJson.Options);

        Assert.Equal(state, back);
    }

    [Fact]
    public void an_error_payload_names_topic_error_and_time()
    {
        var root = Serialise(new ErrorPayload(
            "presence/hosts/imac/signals/power", "field 'battery_percent' must be between 0 and 100, got 101", Payload.Now));

        Assert.Equal(["topic", "error", "at"], root.EnumerateObject().Select(p => p.Name));
        Assert.Equal("presence/hosts/imac/signals/power", root.GetProperty("topic").GetString());
        Assert.Equal("field 'battery_percent' must be between 0 and 100, got 101", root.GetProperty("error").GetString());
        Assert.Equal("2026-11-25T08:30:00Z", root.GetProperty("at").GetString());
    }

    [Fact]
    public void wire_names_are_the_snake_case_of_the_enum()
    {
        Assert.Equal("thin_client|local|moving|held|suspended", ContractJson.WireNames<SessionMode>());
    }

    [Fact]
    public void the_options_are_shared_and_frozen()
    {
        Assert.True(ContractJson.Options.IsReadOnly);
        Assert.Same(ContractJson.Options, ContractJson.Options);
    }
}
