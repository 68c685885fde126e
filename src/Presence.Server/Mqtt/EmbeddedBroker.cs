using System.Net;
using Microsoft.Extensions.Options;
using MQTTnet.Server;
using Presence.Server.Configuration;

namespace Presence.Server.Mqtt;

/// <summary>
/// With no external broker configured the server is the broker (MQTTnet.Server), so `dotnet run` needs nothing
/// else. Retained messages live in memory: the server re-publishes user state on start.
/// </summary>
public sealed class EmbeddedBroker(IOptions<MqttOptions> options, ILogger<EmbeddedBroker> logger) : IHostedService, IAsyncDisposable
{
    private MqttServer? server;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var mqtt = options.Value;
        if (mqtt.Broker != BrokerKind.Embedded)
        {
            return;
        }

        var address = IPAddress.TryParse(mqtt.Host, out var ip) ? ip : IPAddress.Any;
        var serverOptions = new MqttServerOptionsBuilder()
            .WithDefaultEndpoint()
            .WithDefaultEndpointBoundIPAddress(address)
            .WithDefaultEndpointPort(mqtt.Port)
            .WithPersistentSessions()
            .Build();
        server = new MqttServerFactory().CreateMqttServer(serverOptions);
        try
        {
            await server.StartAsync();
        }
        catch (System.Net.Sockets.SocketException e)
        {
            throw new InvalidOperationException(
                $"the embedded MQTT broker cannot listen on {address}:{mqtt.Port} ({e.Message}); set Mqtt:Port to a free port, or Mqtt:Broker=external to use a running broker",
                e);
        }

        logger.LogInformation("Embedded MQTT broker listening on {Address}:{Port}", address, mqtt.Port);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (server is not null)
        {
            await server.StopAsync();
        }
    }

    public ValueTask DisposeAsync()
    {
        server?.Dispose();
        server = null;
        return ValueTask.CompletedTask;
    }
}
