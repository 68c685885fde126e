using Marten;
using Microsoft.Extensions.DependencyInjection;
using MQTTnet;
using Presence.Domain.Signals;
using Presence.Server.Identities;
using Presence.Server.Tests.Infrastructure;

namespace Presence.Server.Tests.Identities;

/// <summary>
/// Issue 10's attack and its relatives on the embedded broker: an identity is proven by a secret at connect, never
/// taken from a client id or a username alone.
/// </summary>
public sealed class proving_who_connects : IAsyncLifetime
{
    private const string Migrate =
        """{"command_id":"11111111-2222-3333-4444-555555555555","type":"migrate","vm":"alice-desktop","target_host":"imac","target_uri":"tcp:127.0.0.1:45999","mode":"live","max_bandwidth_mbps":1000,"downtime_limit_ms":300}""";

    private TestServer server = null!;
    private MqttProbe basement = null!;
    private MqttProbe watcher = null!;

    public async Task InitializeAsync()
    {
        server = await TestServer.StartAsync();
        basement = await MqttProbe.ConnectAsAsync(server.MqttPort, "basement-agent", "basement", "presence/agents/basement/commands");
        watcher = await MqttProbe.ConnectAsync(server.MqttPort, "watcher", "presence/errors");
    }

    public async Task DisposeAsync()
    {
        await watcher.DisposeAsync();
        await basement.DisposeAsync();
        await server.DisposeAsync();
    }

    public static async Task<MqttClientConnectResultCode> RefusalAsync(int port, string clientId, string? userName, string? password)
    {
        var e = await Assert.ThrowsAsync<MqttRefusedException>(() => MqttProbe.ConnectWithAsync(port, clientId, userName, password));
        return e.Code;
    }

    private async Task EnrolAsync(string name, string secret, IdentityRole role = IdentityRole.Host)
    {
        await using var session = server.Store.LightweightSession();
        session.Store(Enrolment.Of(name, role, secret, NodaTime.SystemClock.Instance.GetCurrentInstant()));
        await session.SaveChangesAsync();
    }

    /// <summary>The broker has read the store once more: a connect with the new secret gets through.</summary>
    private Task UntilTheBrokerKnowsAsync(string name, string secret) =>
        Eventually.TrueAsync(() => MqttProbe.AdmitsAsync(server.MqttPort, name, secret), $"the broker accepting {name}'s new secret");

    [Fact]
    public async Task the_issues_attack_is_refused_at_connect_and_no_command_reaches_the_agent()
    {
        // mosquitto_pub -i presence-server-evil -t presence/agents/basement/commands -m '{…migrate…}'
        var code = await RefusalAsync(server.MqttPort, "presence-server-evil", null, null);
        Assert.Equal(MqttClientConnectResultCode.NotAuthorized, code);

        // The server's username without this process's secret is no better.
        Assert.Equal(MqttClientConnectResultCode.BadUserNameOrPassword, await RefusalAsync(server.MqttPort, "presence-server-evil", "presence-server", null));
        Assert.Equal(MqttClientConnectResultCode.BadUserNameOrPassword, await RefusalAsync(server.MqttPort, "presence-server-evil", "presence-server", "guess"));

        // A client that did get in (a host) cannot send it either; the refusal is reported, and it is the last word.
        await using var imac = await MqttProbe.ConnectAsAsync(server.MqttPort, "imac-evil", "imac");
        await imac.PublishAsync("presence/agents/basement/commands", Migrate);
        await watcher.WaitForAsync(m => m.Topic == "presence/errors" && m.Payload.Contains("presence/agents/basement/commands"), what: "the refusal");
        Assert.Empty(basement.All);
    }

    [Fact]
    public async Task a_well_known_client_id_is_reserved_for_its_owner()
    {
        Assert.Equal(MqttClientConnectResultCode.ClientIdentifierNotValid, await RefusalAsync(server.MqttPort, "presence-server-test-in", "imac", null));
        Assert.Equal(MqttClientConnectResultCode.ClientIdentifierNotValid, await RefusalAsync(server.MqttPort, "presence-agent-basement", "imac", null));

        // The server's own clients are still connected: nobody took their sessions over.
        Assert.True(server.Services.GetRequiredService<Presence.Server.Mqtt.MqttBridge>().Connected.IsCompletedSuccessfully);
    }

    [Fact]
    public async Task an_enrolled_host_needs_its_secret_and_a_client_id_proves_nothing()
    {
        var secret = SecretHash.NewSecret();
        await EnrolAsync("laptop", secret);
        await UntilTheBrokerKnowsAsync("laptop", secret);

        Assert.Equal(MqttClientConnectResultCode.BadUserNameOrPassword, await RefusalAsync(server.MqttPort, "laptop-nopass", "laptop", null));
        Assert.Equal(MqttClientConnectResultCode.BadUserNameOrPassword, await RefusalAsync(server.MqttPort, "laptop-wrong", "laptop", SecretHash.NewSecret()));
        Assert.Equal(MqttClientConnectResultCode.BadUserNameOrPassword, await RefusalAsync(server.MqttPort, "presence-agent-laptop", null, null));

        await using var laptop = await MqttProbe.ConnectWithAsync(server.MqttPort, "presence-agent-laptop", "laptop", secret);
        await laptop.PublishAsync("presence/hosts/laptop/signals/session", """{"id":"with-secret","user":"alice","state":"login"}""");
        await Eventually.TrueAsync(async () => (await SignalIdsAsync()).Contains("with-secret"), "the laptop's signal stored");
    }

    [Fact]
    public async Task on_loopback_an_agent_never_enrolled_speaks_for_its_host_by_its_client_id_alone()
    {
        await using var laptop = await MqttProbe.ConnectWithAsync(server.MqttPort, "presence-agent-laptop", null, null);
        await laptop.PublishAsync("presence/hosts/laptop/signals/session", """{"id":"by-client-id","user":"alice","state":"login"}""");

        await Eventually.TrueAsync(async () => (await SignalIdsAsync()).Contains("by-client-id"), "the laptop's signal stored");
    }

    private async Task<IReadOnlyList<string>> SignalIdsAsync()
    {
        await using var session = server.Store.QuerySession();
        return (await session.Events.FetchStreamAsync("alice")).Select(e => e.Data).OfType<SignalRecorded>().Select(s => s.Evidence.Id).ToList();
    }

    [Fact]
    public async Task anonymous_clients_and_strangers_are_refused_by_default()
    {
        Assert.Equal(MqttClientConnectResultCode.NotAuthorized, await RefusalAsync(server.MqttPort, "stranger", null, null));
        Assert.Equal(MqttClientConnectResultCode.NotAuthorized, await RefusalAsync(server.MqttPort, "stranger", "toaster", null));
    }

    [Fact]
    public async Task a_revoked_or_replaced_secret_ends_the_live_session_and_stops_working()
    {
        var first = SecretHash.NewSecret();
        await EnrolAsync("homeassistant", first, IdentityRole.Controller);
        await UntilTheBrokerKnowsAsync("homeassistant", first);
        await using var live = await MqttProbe.ConnectWithAsync(server.MqttPort, "ha-live", "homeassistant", first);

        var second = SecretHash.NewSecret();
        await EnrolAsync("homeassistant", second, IdentityRole.Controller);
        await live.Disconnected.WaitAsync(TimeSpan.FromSeconds(20));
        Assert.Equal(MqttClientConnectResultCode.BadUserNameOrPassword, await RefusalAsync(server.MqttPort, "ha-old", "homeassistant", first));
        await using var again = await MqttProbe.ConnectWithAsync(server.MqttPort, "ha-again", "homeassistant", second);

        await using (var session = server.Store.LightweightSession())
        {
            session.Delete<Enrolment>("homeassistant");
            await session.SaveChangesAsync();
        }

        await again.Disconnected.WaitAsync(TimeSpan.FromSeconds(20));
        // On loopback a never-enrolled controller may come by name, but a secret that was revoked opens nothing.
        Assert.Equal(MqttClientConnectResultCode.BadUserNameOrPassword, await RefusalAsync(server.MqttPort, "ha-revoked", "homeassistant", second));
    }
}
