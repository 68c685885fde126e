using MQTTnet.Server;

namespace Presence.Server.Tests.Infrastructure;

/// <summary>A broker that outlives server restarts, as mosquitto would, with persistent sessions for QoS 1.</summary>
public sealed class ExternalBroker : IAsyncDisposable
{
    private readonly MqttServer server;

    private ExternalBroker(MqttServer server, int port)
    {
        this.server = server;
        Port = port;
    }

    public int Port { get; }

    public static async Task<ExternalBroker> StartAsync()
    {
        var port = Ports.Free();
        var server = new MqttServerFactory().CreateMqttServer(new MqttServerOptionsBuilder()
            .WithDefaultEndpoint()
            .WithDefaultEndpointBoundIPAddress(System.Net.IPAddress.Loopback)
            .WithDefaultEndpointPort(port)
            .WithPersistentSessions()
            .Build());
        await server.StartAsync();
        return new ExternalBroker(server, port);
    }

    public async ValueTask DisposeAsync()
    {
        await server.StopAsync();
        server.Dispose();
    }
}
