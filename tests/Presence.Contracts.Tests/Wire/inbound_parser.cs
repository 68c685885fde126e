using Presence.Contracts.Agents;
using Presence.Contracts.Requests;
using Presence.Contracts.Signals;

namespace Presence.Contracts.Tests.Wire;

/// <summary>InboundParser applies every stateless check of CONTRACT.md "Conventions" to one MQTT delivery.</summary>
public class inbound_parser
{
    private static readonly Topics Topics = new();
    private static readonly Duration Skew = Duration.FromMinutes(5);

    private static Inbound Parse(string topic, string json, Instant? now = null, Duration? skew = null, Topics? topics = null) =>
        InboundParser.Parse(topics ?? Topics, topic, Payload.Utf8(json), now ?? Payload.Now, skew ?? Skew);

    private static string Rejection(string topic, string json, Instant? now = null, Duration? skew = null) =>
        Payload.Rejection(() => Parse(topic, json, now, skew));

    public static TheoryData<string, string, Type> Deliveries => new()
    {
        { "presence/hosts/imac/signals/session", """{"user":"alice","state":"login"}""", typeof(SessionSignal) },
        { "presence/hosts/imac/signals/lid", """{"state":"closed"}""", typeof(LidSignal) },
        { "presence/hosts/imac/signals/wifi", """{"state":"connected","ssid":"home"}""", typeof(WifiSignal) },
        { "presence/hosts/imac/signals/idle", """{"user":"alice","idle_seconds":60}""", typeof(IdleSignal) },
        { "presence/hosts/imac/signals/power", """{"ac":true}""", typeof(PowerSignal) },
        { "presence/hosts/imac/maintenance", """{"state":"on","reason":"disk swap"}""", typeof(MaintenanceRequest) },
        { "presence/users/alice/requests", """{"action":"follow"}""", typeof(UserRequest) },
        { "presence/agents/imac/status", """{"state":"online","agent_version":"0.1.0","hypervisor":"qemu"}""", typeof(AgentStatus) },
        { "presence/agents/imac/inventory", """{"cpus":8,"memory_mb":16384,"memory_free_mb":8192}""", typeof(AgentInventory) },
        { "presence/agents/imac/events", """{"command_id":"c1","vm":"alice-desktop","state":"accepted"}""", typeof(AgentEvent) },
    };

    [Theory]
    [MemberData(nameof(Deliveries))]
    public void each_client_topic_is_parsed_into_its_message(string topic, string json, Type expected)
    {
        var inbound = Parse(topic, json);

        Assert.IsType(expected, inbound.Message);
        Assert.Equal(topic, inbound.Topic);
    }

    [Fact]
    public void a_signal_takes_its_host_and_kind_from_the_topic()
    {
        var inbound = Parse("presence/hosts/macbook/signals/lid", """{"state":"open"}""");

        Assert.Equal(new ParsedTopic(TopicKind.Signal, "macbook", SignalKind: "lid"), inbound.Route);
        var signal = Assert.IsType<LidSignal>(inbound.Message);
        Assert.Equal("macbook", signal.Host);
    }

    [Fact]
    public void a_request_takes_its_user_from_the_topic()
    {
        var inbound = Parse("presence/users/bob/requests", """{"action":"hold"}""");

        Assert.Equal("bob", Assert.IsType<UserRequest>(inbound.Message).User);
        Assert.Equal("bob", inbound.Route.User);
    }

    [Fact]
    public void maintenance_and_agent_messages_take_their_host_from_the_topic()
    {
        Assert.Equal("nas", Assert.IsType<MaintenanceRequest>(Parse("presence/hosts/nas/maintenance", """{"state":"off"}""").Message).Host);
        Assert.Equal("nas", Assert.IsType<AgentStatus>(Parse("presence/agents/nas/status", """{"state":"offline"}""").Message).Host);
        Assert.Equal("nas", Assert.IsType<AgentInventory>(Parse("presence/agents/nas/inventory", """{"cpus":4,"memory_mb":1,"memory_free_mb":0}""").Message).Host);
        Assert.Equal("nas", Assert.IsType<AgentEvent>(Parse("presence/agents/nas/events", """{"command_id":"c","vm":"v","state":"failed"}""").Message).Host);
    }

    [Theory]
    [InlineData("presence/agents/basement/commands", """{"command_id":"c1","type":"resume","vm":"alice-desktop"}""")]
    [InlineData("presence/users/alice/state", """{"user":"alice","vm":"alice-desktop","mode":"local"}""")]
    [InlineData("presence/errors", """{"topic":"x","error":"y","at":"2026-11-25T08:30:00Z"}""")]
    public void topics_only_the_server_publishes_are_rejected(string topic, string json)
    {
        Assert.Equal($"topic '{topic}' is published by the server, not accepted from clients", Rejection(topic, json));
    }

    [Fact]
    public void a_topic_outside_the_contract_is_rejected_with_the_topic_reason()
    {
        Assert.Equal("topic 'presence/hosts/imac/reboot' is not part of the contract", Rejection("presence/hosts/imac/reboot", "{}"));
        Assert.Equal("topic 'elsewhere/x' is not under 'presence/'", Rejection("elsewhere/x", "{}"));
    }

    [Fact]
    public void a_bad_host_in_the_topic_is_named()
    {
        var message = Rejection("presence/hosts/IMac/signals/lid", """{"state":"open"}""");

        Assert.Contains("host 'IMac'", message);
    }

    [Fact]
    public void an_unknown_signal_kind_is_rejected()
    {
        var message = Rejection("presence/hosts/imac/signals/temperature", """{"celsius":21}""");

        Assert.Contains("unknown signal kind 'temperature'", message);
    }

    [Fact]
    public void payload_errors_come_through_unchanged()
    {
        Assert.Equal(
            "field 'battery_percent' must be between 0 and 100, got 101",
            Rejection("presence/hosts/imac/signals/power", """{"ac":false,"battery_percent":101}"""));
        Assert.StartsWith("payload is not valid JSON", Rejection("presence/hosts/imac/signals/power", "{"));
        Assert.Equal("payload must be a JSON object, not an array", Rejection("presence/hosts/imac/signals/power", """[{"ac":true}]"""));
    }

    [Fact]
    public void a_payload_that_is_not_utf8_is_a_contract_rejection()
    {
        byte[] payload = [.. Payload.Utf8("""{"user":"""), 0x22, 0xFF, 0x22, .. Payload.Utf8(""","state":"login"}""")];

        var message = Payload.Rejection(() =>
            InboundParser.Parse(Topics, "presence/hosts/imac/signals/session", payload, Payload.Now, Skew));

        Assert.Equal("payload is not valid UTF-8", message);
    }

    [Fact]
    public void two_payloads_in_one_delivery_are_rejected()
    {
        var message = Rejection("presence/hosts/imac/signals/lid", """{"state":"open"}{"state":"closed"}""");

        Assert.StartsWith("payload is not valid JSON", message);
    }

    [Fact]
    public void the_id_is_extracted()
    {
        var inbound = Parse("presence/users/alice/requests", """{"action":"home","id":"req-42"}""");

        Assert.Equal("req-42", inbound.Id);
    }

    [Fact]
    public void without_an_id_the_id_is_null()
    {
        Assert.Null(Parse("presence/hosts/imac/signals/lid", """{"state":"open"}""").Id);
    }

    [Fact]
    public void an_id_longer_than_64_characters_is_rejected()
    {
        var message = Rejection("presence/agents/imac/status", $$"""{"state":"online","id":"{{new string('i', 65)}}"}""");

        Assert.Equal("field 'id' is 65 characters long; at most 64 allowed", message);
    }

    [Fact]
    public void a_missing_at_is_stamped_with_now()
    {
        var inbound = Parse("presence/hosts/imac/signals/lid", """{"state":"open"}""");

        Assert.Equal(Payload.Now, inbound.At);
        Assert.True(inbound.AtWasStamped);
    }

    [Fact]
    public void a_null_at_is_stamped_with_now()
    {
        var inbound = Parse("presence/hosts/imac/signals/lid", """{"state":"open","at":null}""");

        Assert.Equal(Payload.Now, inbound.At);
        Assert.True(inbound.AtWasStamped);
    }

    [Theory]
    [InlineData("2026-11-25T08:30:00Z", 0)]
    [InlineData("2026-11-25T08:28:00Z", -120)]
    [InlineData("2026-11-25T08:34:59Z", 299)]
    [InlineData("2026-11-25T08:25:00Z", -300)]
    [InlineData("2026-11-25T08:35:00Z", 300)]
    [InlineData("2026-11-25T09:31:00+01:00", 60)]
    [InlineData("2026-11-25T03:29:00-05:00", -60)]
    public void an_at_within_the_skew_is_kept(string at, int secondsFromNow)
    {
        var inbound = Parse("presence/hosts/imac/signals/lid", $$"""{"state":"open","at":"{{at}}"}""");

        Assert.Equal(Payload.Now + Duration.FromSeconds(secondsFromNow), inbound.At);
        Assert.False(inbound.AtWasStamped);
    }

    [Theory]
    [InlineData("2026-11-25T08:35:01Z", "+301s")]
    [InlineData("2026-11-25T08:24:59Z", "-301s")]
    [InlineData("2026-11-25T10:30:00Z", "+7200s")]
    [InlineData("2026-11-24T08:30:00Z", "-86400s")]
    [InlineData("2026-11-25T10:30:00+01:00", "+3600s")]
    public void an_at_beyond_the_skew_is_rejected_in_both_directions(string at, string offBy)
    {
        var message = Rejection("presence/hosts/imac/signals/lid", $$"""{"state":"open","at":"{{at}}"}""");

        Assert.StartsWith("field 'at' (", message);
        Assert.Contains($"is {offBy} from the server clock (2026-11-25T08:30:00Z)", message);
        Assert.EndsWith("at most 300s allowed", message);
    }

    [Fact]
    public void a_sub_second_beyond_the_skew_is_rejected()
    {
        Assert.Throws<ContractException>(() =>
            Parse("presence/hosts/imac/signals/lid", """{"state":"open","at":"2026-11-25T08:35:00.001Z"}"""));
    }

    [Fact]
    public void the_skew_is_configurable()
    {
        const string json = """{"state":"open","at":"2026-11-25T08:30:45Z"}""";

        Assert.Equal(Payload.Now + Duration.FromSeconds(45), Parse("presence/hosts/imac/signals/lid", json).At);
        var message = Rejection("presence/hosts/imac/signals/lid", json, skew: Duration.FromSeconds(30));
        Assert.EndsWith("at most 30s allowed", message);
    }

    [Fact]
    public void the_skew_is_measured_from_the_given_now()
    {
        var later = Payload.Now + Duration.FromHours(1);
        const string json = """{"state":"open","at":"2026-11-25T09:29:00Z"}""";

        Assert.Equal(later - Duration.FromMinutes(1), Parse("presence/hosts/imac/signals/lid", json, now: later).At);
    }

    [Theory]
    [InlineData("presence/users/alice/requests", """{"action":"follow","at":"2026-11-25T09:00:00Z"}""")]
    [InlineData("presence/hosts/imac/maintenance", """{"state":"on","at":"2026-11-25T09:00:00Z"}""")]
    [InlineData("presence/agents/imac/status", """{"state":"online","at":"2026-11-25T09:00:00Z"}""")]
    [InlineData("presence/agents/imac/inventory", """{"cpus":1,"memory_mb":1,"memory_free_mb":1,"at":"2026-11-25T09:00:00Z"}""")]
    [InlineData("presence/agents/imac/events", """{"command_id":"c","vm":"v","state":"accepted","at":"2026-11-25T09:00:00Z"}""")]
    public void the_skew_applies_to_every_inbound_message(string topic, string json)
    {
        Assert.StartsWith("field 'at'", Rejection(topic, json));
    }

    [Theory]
    [InlineData("2026-11-25T08:10:00Z", -1200)]
    [InlineData("2026-11-24T08:30:00Z", -86400)]
    public void an_agents_event_is_taken_however_late_it_is(string at, int secondsFromNow)
    {
        var inbound = Parse("presence/agents/imac/events", $$"""{"command_id":"c","vm":"v","state":"completed","at":"{{at}}"}""");

        Assert.Equal(Payload.Now + Duration.FromSeconds(secondsFromNow), inbound.At);
    }

    [Fact]
    public void an_agents_event_from_the_future_is_refused_naming_the_computer_and_the_limit()
    {
        var message = Rejection("presence/agents/imac/events", """{"command_id":"c","vm":"v","state":"completed","at":"2026-11-25T08:40:00Z"}""");

        Assert.StartsWith("field 'at' (2026-11-25T08:40:00Z) from 'imac' is +600s from the server clock (2026-11-25T08:30:00Z), ahead of it", message);
        Assert.EndsWith("at most 300s ahead allowed", message);
    }

    [Theory]
    [InlineData("presence/agents/imac/status", """{"state":"online","at":"2026-11-25T08:10:00Z"}""")]
    [InlineData("presence/agents/imac/inventory", """{"cpus":1,"memory_mb":1,"memory_free_mb":1,"at":"2026-11-25T08:10:00Z"}""")]
    [InlineData("presence/hosts/imac/signals/lid", """{"state":"open","at":"2026-11-25T08:10:00Z"}""")]
    [InlineData("presence/users/alice/requests", """{"action":"follow","at":"2026-11-25T08:10:00Z"}""")]
    public void only_an_agents_event_may_be_late(string topic, string json)
    {
        Assert.Contains("is -1200s from the server clock", Rejection(topic, json));
    }

    [Fact]
    public void a_skewed_signal_names_the_computer_the_skew_and_the_limit()
    {
        var message = Rejection("presence/hosts/imac/signals/session", """{"user":"alice","state":"login","at":"2026-11-25T08:40:00Z"}""");

        Assert.Equal("field 'at' (2026-11-25T08:40:00Z) from 'imac' is +600s from the server clock (2026-11-25T08:30:00Z); at most 300s allowed", message);
    }

    [Theory]
    [InlineData("presence/users/alice/requests", """{"action":"follow","id":"x1","at":"2026-11-25T08:29:00Z"}""")]
    [InlineData("presence/hosts/imac/maintenance", """{"state":"on","id":"x1","at":"2026-11-25T08:29:00Z"}""")]
    [InlineData("presence/agents/imac/status", """{"state":"online","id":"x1","at":"2026-11-25T08:29:00Z"}""")]
    [InlineData("presence/agents/imac/inventory", """{"cpus":1,"memory_mb":1,"memory_free_mb":1,"id":"x1","at":"2026-11-25T08:29:00Z"}""")]
    [InlineData("presence/agents/imac/events", """{"command_id":"c","vm":"v","state":"accepted","id":"x1","at":"2026-11-25T08:29:00Z"}""")]
    [InlineData("presence/hosts/imac/signals/wifi", """{"state":"disconnected","id":"x1","at":"2026-11-25T08:29:00Z"}""")]
    public void id_and_at_are_extracted_from_every_inbound_message(string topic, string json)
    {
        var inbound = Parse(topic, json);

        Assert.Equal("x1", inbound.Id);
        Assert.Equal(Payload.Now - Duration.FromMinutes(1), inbound.At);
        Assert.False(inbound.AtWasStamped);
    }

    [Fact]
    public void a_custom_root_is_honoured()
    {
        var topics = new Topics("house2/presence");

        var inbound = Parse("house2/presence/hosts/imac/signals/lid", """{"state":"open"}""", topics: topics);

        Assert.IsType<LidSignal>(inbound.Message);
        Assert.Equal("imac", inbound.Route.Host);
        Assert.Equal(
            "topic 'presence/hosts/imac/signals/lid' is not under 'house2/presence/'",
            Payload.Rejection(() => Parse("presence/hosts/imac/signals/lid", """{"state":"open"}""", topics: topics)));
    }
}
