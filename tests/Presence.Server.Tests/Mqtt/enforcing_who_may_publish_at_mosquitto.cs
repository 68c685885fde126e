using Marten;
using MQTTnet;
using MQTTnet.Protocol;
using Presence.Domain.Signals;
using Presence.Server.Tests.Infrastructure;

namespace Presence.Server.Tests.Mqtt;

/// <summary>
/// CONTRACT.md §5 with an external broker: a real mosquitto with a password per identity and the ACL shipped in
/// integrations/mosquitto/acl refuses what an identity may not publish (MQTT 5 answers NotAuthorized), so nothing of
/// it reaches the server, while the same identity's own messages pass and are stored.
/// </summary>
public sealed class enforcing_who_may_publish_at_mosquitto : IAsyncLifetime
{
    private ExternalBroker broker = null!;
    private TestServer server = null!;

    public async Task InitializeAsync()
    {
        broker = await ExternalBroker.StartAsync();
        server = await TestServer.StartAsync(broker, await PostgresCluster.NewDatabaseAsync("acl"), "acl");
    }

    public async Task DisposeAsync()
    {
        await server.DisposeAsync();
        await broker.DisposeAsync();
    }

    [Fact]
    public async Task a_computer_cannot_speak_for_another()
    {
        await using var laptop = await MqttProbe.ConnectAsync(broker, "laptop-sensor", "laptop");

        var forged = await laptop.PublishAsync("presence/hosts/imac/signals/session", """{"id":"forged","user":"alice","state":"login"}""");
        var forgedMaintenance = await laptop.PublishAsync("presence/hosts/basement/maintenance", """{"id":"forged-maintenance","state":"on"}""");
        var honest = await laptop.PublishAsync("presence/hosts/laptop/signals/session", """{"id":"honest","user":"alice","state":"login"}""");

        Assert.Equal(MqttClientPublishReasonCode.NotAuthorized, forged.ReasonCode);
        Assert.Equal(MqttClientPublishReasonCode.NotAuthorized, forgedMaintenance.ReasonCode);
        Assert.True(honest.IsSuccess, honest.ReasonString);
        await Eventually.TrueAsync(async () => (await EvidenceIdsAsync("alice")).Contains("honest"), "the laptop's own signal stored");
        Assert.DoesNotContain("forged", await EvidenceIdsAsync("alice"));
        await using var session = server.Store.QuerySession();
        Assert.Null(await session.Events.FetchStreamStateAsync(Presence.Domain.Hosts.HostState.StreamId("basement")));
    }

    [Fact]
    public async Task only_the_server_sends_commands_and_state()
    {
        await using var watcher = await MqttProbe.ConnectAsync(broker, "watcher", "presence-cli", "presence/agents/+/commands", "presence/agents/+/events");
        // The attack of issue 10: a client id that looks like the server's proves nothing; the login is imac's.
        await using var imac = await MqttProbe.ConnectAsync(broker, "presence-server-evil", "imac");

        var toAnother = await imac.PublishAsync("presence/agents/basement/commands",
            """{"command_id":"11111111-2222-3333-4444-555555555555","type":"migrate","vm":"alice-desktop","target_host":"imac","target_uri":"tcp:127.0.0.1:45999"}""");
        var toItself = await imac.PublishAsync("presence/agents/imac/commands",
            """{"command_id":"11111111-2222-3333-4444-666666666666","type":"resume","vm":"alice-desktop"}""");
        var state = await imac.PublishAsync("presence/users/alice/state", """{"user":"alice","vm_host":"nowhere"}""", retain: true);
        var ownEvents = await imac.PublishAsync("presence/agents/imac/events",
            """{"command_id":"11111111-2222-3333-4444-777777777777","vm":"alice-desktop","state":"accepted"}""");

        Assert.Equal(MqttClientPublishReasonCode.NotAuthorized, toAnother.ReasonCode);
        Assert.Equal(MqttClientPublishReasonCode.NotAuthorized, toItself.ReasonCode);
        Assert.Equal(MqttClientPublishReasonCode.NotAuthorized, state.ReasonCode);
        Assert.True(ownEvents.IsSuccess, ownEvents.ReasonString);

        // The watcher sees imac's own answer, published after the commands; the commands never reached anyone.
        await watcher.WaitForAsync(m => m.Topic == "presence/agents/imac/events", what: "imac's own events");
        Assert.DoesNotContain(watcher.All, m => m.Topic.EndsWith("/commands", StringComparison.Ordinal));

        // Nor did the forged retained state: a new subscriber sees no state, or only the server's.
        await using var late = await MqttProbe.ConnectAsync(broker, "late", "homeassistant", "presence/users/alice/state");
        await using var marker = await MqttProbe.ConnectAsync(broker, "marker", "presence-server");
        await marker.PublishAsync("presence/users/alice/state", """{"user":"alice","vm_host":"basement","marker":true}""");
        await late.WaitForAsync(m => m.Payload.Contains("\"marker\"", StringComparison.Ordinal), what: "the server's own state");
        Assert.DoesNotContain(late.All, m => m.Payload.Contains("nowhere", StringComparison.Ordinal));
    }

    [Fact]
    public async Task requests_come_from_controllers()
    {
        await using var imac = await MqttProbe.ConnectAsync(broker, "imac-x", "imac");
        await using var homeAssistant = await MqttProbe.ConnectAsync(broker, "ha", "homeassistant");

        var fromHost = await imac.PublishAsync("presence/users/alice/requests", """{"id":"req-from-host","action":"home"}""");
        var fromController = await homeAssistant.PublishAsync("presence/users/alice/requests", """{"id":"req-from-ha","action":"home"}""");

        Assert.Equal(MqttClientPublishReasonCode.NotAuthorized, fromHost.ReasonCode);
        Assert.True(fromController.IsSuccess, fromController.ReasonString);
        await Eventually.TrueAsync(async () => (await EvidenceIdsAsync("alice")).Contains("req-from-ha"), "Home Assistant's request recorded");
        Assert.DoesNotContain("req-from-host", await EvidenceIdsAsync("alice"));
    }

    [Theory]
    [InlineData(null, null)]
    [InlineData("imac", "not-imacs-password")]
    [InlineData("presence-server", "")]
    public async Task no_identity_without_its_password(string? user, string? password)
    {
        using var client = new MqttClientFactory().CreateMqttClient();
        var options = new MqttClientOptionsBuilder()
            .WithTcpServer("127.0.0.1", broker.Port)
            .WithClientId("presence-server-guess")
            .WithProtocolVersion(MQTTnet.Formatter.MqttProtocolVersion.V500);
        if (user is not null)
        {
            options = options.WithCredentials(user, password);
        }

        var result = await client.ConnectAsync(options.Build());

        Assert.Contains(result.ResultCode, new[] { MqttClientConnectResultCode.NotAuthorized, MqttClientConnectResultCode.BadUserNameOrPassword });
        Assert.False(client.IsConnected);
    }

    private async Task<IReadOnlyList<string>> EvidenceIdsAsync(string user)
    {
        await using var session = server.Store.QuerySession();
        var events = await session.Events.FetchStreamAsync(user);
        return events.Select(e => e.Data).OfType<SignalRecorded>().Select(s => s.Evidence.Id).ToList();
    }
}
