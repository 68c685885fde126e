using MQTTnet;
using Presence.Server.Tests.Infrastructure;

namespace Presence.Server.Tests.Identities;

/// <summary>With Mqtt:AllowAnonymous=true a client without identity may watch what the house shows, and nothing more.</summary>
public sealed class anonymous_clients_only_watch : IAsyncLifetime
{
    private TestServer server = null!;

    public async Task InitializeAsync() => server = await TestServer.StartAsync(settings: ["--Mqtt:AllowAnonymous=true"]);

    public Task DisposeAsync() => server.DisposeAsync().AsTask();

    [Fact]
    public async Task an_anonymous_client_sees_state_and_status_but_not_commands_signals_or_errors()
    {
        await using var anonymous = await MqttProbe.ConnectWithAsync(server.MqttPort, "anonymous-watcher", null, null,
            "presence/users/+/state", "presence/agents/basement/status", "presence/agents/+/commands", "presence/hosts/+/signals/#", "presence/#", "presence/errors");

        Assert.Equal(MqttClientSubscribeResultCode.GrantedQoS1, anonymous.Granted["presence/users/+/state"]);
        Assert.Equal(MqttClientSubscribeResultCode.GrantedQoS1, anonymous.Granted["presence/agents/basement/status"]);
        Assert.Equal(MqttClientSubscribeResultCode.NotAuthorized, anonymous.Granted["presence/agents/+/commands"]);
        Assert.Equal(MqttClientSubscribeResultCode.NotAuthorized, anonymous.Granted["presence/hosts/+/signals/#"]);
        Assert.Equal(MqttClientSubscribeResultCode.NotAuthorized, anonymous.Granted["presence/#"]);
        Assert.Equal(MqttClientSubscribeResultCode.NotAuthorized, anonymous.Granted["presence/errors"]);
    }

    [Fact]
    public async Task an_anonymous_client_never_publishes()
    {
        await using var watcher = await MqttProbe.ConnectAsync(server.MqttPort, "watcher", "presence/errors");
        await using var anonymous = await MqttProbe.ConnectWithAsync(server.MqttPort, "anonymous-publisher", null, null);
        var before = await server.EventCountAsync();

        await anonymous.PublishAsync("presence/hosts/imac/signals/session", """{"id":"anon","user":"alice","state":"login"}""");

        var error = await watcher.WaitForAsync(m => m.Topic == "presence/errors", what: "the refusal");
        Assert.Contains("anonymous clients only watch", error.Json.GetProperty("error").GetString());
        Assert.Equal(before, await server.EventCountAsync());
    }
}
