using Marten;
using Presence.Domain.Signals;
using Presence.Server.Tests.Infrastructure;

namespace Presence.Server.Tests.Mqtt;

/// <summary>CONTRACT.md §5, enforced by the embedded broker: a computer speaks only for itself; only the server commands.</summary>
public sealed class enforcing_who_may_publish : IAsyncLifetime
{
    private TestServer server = null!;
    private MqttProbe watcher = null!;

    public async Task InitializeAsync()
    {
        server = await TestServer.StartAsync();
        watcher = await MqttProbe.ConnectAsync(server.MqttPort, "watcher", "presence/errors", "presence/agents/+/commands");
    }

    public async Task DisposeAsync()
    {
        await watcher.DisposeAsync();
        await server.DisposeAsync();
    }

    private async Task<IReadOnlyList<string>> EvidenceIdsAsync()
    {
        await using var session = server.Store.QuerySession();
        var events = await session.Events.FetchStreamAsync("alice");
        return events.Select(e => e.Data).OfType<SignalRecorded>().Select(s => s.Evidence.Id).ToList();
    }

    [Fact]
    public async Task a_computer_cannot_speak_for_another()
    {
        await using var imac = await MqttProbe.ConnectAsAsync(server.MqttPort, "imac-sensor", "imac");
        await imac.PublishAsync("presence/hosts/basement/signals/session", """{"id":"forged","user":"alice","state":"login"}""");
        await imac.PublishAsync("presence/hosts/imac/signals/session", """{"id":"honest","user":"alice","state":"login"}""");

        var error = await watcher.WaitForAsync(m => m.Topic == "presence/errors", what: "a refusal");
        Assert.Equal("presence/hosts/basement/signals/session", error.Json.GetProperty("topic").GetString());
        Assert.Contains("host 'imac' may not publish", error.Json.GetProperty("error").GetString());

        await Eventually.TrueAsync(async () => (await EvidenceIdsAsync()).Contains("honest"), "imac's own signal stored");
        Assert.DoesNotContain("forged", await EvidenceIdsAsync());
    }

    [Fact]
    public async Task only_the_server_sends_commands_and_state()
    {
        await using var imac = await MqttProbe.ConnectAsAsync(server.MqttPort, "imac-agent", "imac");
        await imac.PublishAsync("presence/agents/basement/commands", """{"command_id":"x","type":"migrate","vm":"alice-desktop","target_host":"imac","target_uri":"tcp:127.0.0.1:1"}""");
        await using var homeAssistant = await MqttProbe.ConnectAsAsync(server.MqttPort, "ha-state", "homeassistant");
        await homeAssistant.PublishAsync("presence/users/alice/state", """{"user":"alice","vm_host":"nowhere"}""", retain: true);

        await watcher.WaitForAsync(m => m.Topic == "presence/errors" && m.Payload.Contains("presence/agents/basement/commands"), what: "command refusal");
        await watcher.WaitForAsync(m => m.Topic == "presence/errors" && m.Payload.Contains("presence/users/alice/state"), what: "state refusal");
        Assert.DoesNotContain(watcher.All, m => m.Topic == "presence/agents/basement/commands");

        // The forged retained state never reached the broker's store: a new subscriber sees only the server's.
        await using var late = await MqttProbe.ConnectAsync(server.MqttPort, "late", "presence/users/alice/state");
        var state = await late.WaitForAsync(_ => true, what: "alice's retained state");
        Assert.NotEqual("nowhere", state.Json.GetProperty("vm_host").GetString());
    }

    [Fact]
    public async Task requests_come_from_controllers()
    {
        await using var imac = await MqttProbe.ConnectAsAsync(server.MqttPort, "imac-x", "imac");
        await imac.PublishAsync("presence/users/alice/requests", """{"id":"req-from-host","action":"home"}""");
        await using var homeAssistant = await MqttProbe.ConnectAsAsync(server.MqttPort, "ha", "homeassistant");
        await homeAssistant.PublishAsync("presence/users/alice/requests", """{"id":"req-from-ha","action":"home"}""");

        var error = await watcher.WaitForAsync(m => m.Topic == "presence/errors", what: "request refusal");
        Assert.Contains("requests come from controllers", error.Payload);
        await Eventually.TrueAsync(async () => (await EvidenceIdsAsync()).Contains("req-from-ha"), "Home Assistant's request recorded");
        Assert.DoesNotContain("req-from-host", await EvidenceIdsAsync());
    }

    /// <summary>An MQTT 5 client learns of the refusal from its PUBACK, as mosquitto's ACL would tell it.</summary>
    [Fact]
    public async Task a_refused_publish_is_answered_not_authorized()
    {
        await using var imac = await MqttProbe.ConnectAsAsync(server.MqttPort, "imac-puback", "imac");

        var result = await imac.PublishAsync("presence/hosts/basement/signals/lid", """{"id":"forged-lid","state":"open"}""");

        Assert.Equal(MQTTnet.MqttClientPublishReasonCode.NotAuthorized, result.ReasonCode);
        Assert.Contains("a computer publishes only about itself", result.ReasonString);
    }

    /// <summary>presence/status is the server's availability, which every Home Assistant entity follows; nobody else may set it.</summary>
    [Fact]
    public async Task a_topic_outside_the_contract_is_refused_not_passed_on()
    {
        await using var late = await MqttProbe.ConnectAsync(server.MqttPort, "status-watcher", "presence/status", "presence/whatever/x");
        await using var imac = await MqttProbe.ConnectAsAsync(server.MqttPort, "imac-status", "imac");

        await imac.PublishAsync("presence/status", """{"state":"offline","version":"forged"}""", retain: true);
        await imac.PublishAsync("presence/whatever/x", """{"id":"made-up"}""");

        var status = await watcher.WaitForAsync(m => m.Topic == "presence/errors" && m.Json.GetProperty("topic").GetString() == "presence/status", what: "the status refusal");
        Assert.Contains("'presence/status' is not part of the contract", status.Json.GetProperty("error").GetString());
        var madeUp = await watcher.WaitForAsync(m => m.Topic == "presence/errors" && m.Json.GetProperty("topic").GetString() == "presence/whatever/x", what: "the made-up topic's refusal");
        Assert.Equal("made-up", madeUp.Json.GetProperty("id").GetString());
        Assert.DoesNotContain(late.All, m => m.Payload.Contains("forged") || m.Payload.Contains("made-up"));
    }

    /// <summary>What the server tells one computer (a migration target, a state file) is for that computer alone.</summary>
    [Fact]
    public async Task a_computer_reads_only_its_own_commands()
    {
        await using var imac = await MqttProbe.ConnectAsAsync(server.MqttPort, "imac-nosy", "imac",
            "presence/agents/imac/commands", "presence/agents/basement/commands", "presence/agents/+/commands", "presence/#", "presence/agents/imac/#");

        Assert.Equal(MQTTnet.MqttClientSubscribeResultCode.GrantedQoS1, imac.Granted["presence/agents/imac/commands"]);
        Assert.Equal(MQTTnet.MqttClientSubscribeResultCode.GrantedQoS1, imac.Granted["presence/agents/imac/#"]);
        Assert.Equal(MQTTnet.MqttClientSubscribeResultCode.NotAuthorized, imac.Granted["presence/agents/basement/commands"]);
        Assert.Equal(MQTTnet.MqttClientSubscribeResultCode.NotAuthorized, imac.Granted["presence/agents/+/commands"]);
        Assert.Equal(MQTTnet.MqttClientSubscribeResultCode.NotAuthorized, imac.Granted["presence/#"]);
    }
}
