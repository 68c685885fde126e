using System.Net;
using System.Net.Sockets;
using MQTTnet;
using MQTTnet.Protocol;
using MQTTnet.Server;

namespace Presence.Agent.Tests.Support;

/// <summary>A real MQTT broker (MQTTnet.Server) on 127.0.0.1 and a free port, for one test.</summary>
public sealed class TestBroker : IAsyncDisposable
{
    private readonly MqttServer server;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, int> refusals = new();
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, int> connections = new();

    private TestBroker(MqttServer server, int port)
    {
        this.server = server;
        Port = port;
        server.InterceptingPublishAsync += e =>
        {
            var topic = e.ApplicationMessage.Topic;
            if (refusals.TryGetValue(topic, out var left) && left > 0 && refusals.TryUpdate(topic, left - 1, left))
            {
                e.ProcessPublish = false;
                e.Response.ReasonCode = MqttPubAckReasonCode.QuotaExceeded;
                e.Response.ReasonString = "refused by the test";
            }

            return Task.CompletedTask;
        };
        server.ClientConnectedAsync += e =>
        {
            connections.AddOrUpdate(e.ClientId, 1, (_, n) => n + 1);
            return Task.CompletedTask;
        };
    }

    /// <summary>How many times <paramref name="clientId"/> has connected.</summary>
    public int ConnectionsOf(string clientId) => connections.GetValueOrDefault(clientId);

    /// <summary>
    /// The next <paramref name="times"/> publishes to <paramref name="topic"/> are refused (PUBACK QuotaExceeded), the
    /// connection kept.
    /// </summary>
    public void RefuseNext(string topic, int times) => refusals[topic] = times;

    /// <summary>How many publishes to <paramref name="topic"/> are still to be refused.</summary>
    public int RefusalsLeft(string topic) => refusals.GetValueOrDefault(topic);

    public int Port { get; }

    public static async Task<TestBroker> StartAsync()
    {
        // The port is free when asked for but another test may take it before the broker binds: try again then.
        for (var attempt = 1; ; attempt++)
        {
            var port = FreePort();
            var factory = new MqttServerFactory();
            var options = factory.CreateServerOptionsBuilder()
                .WithDefaultEndpoint()
                .WithDefaultEndpointBoundIPAddress(IPAddress.Loopback)
                .WithDefaultEndpointPort(port)
                .WithPersistentSessions(true)
                .Build();
            var server = factory.CreateMqttServer(options);
            try
            {
                await server.StartAsync();
                return new TestBroker(server, port);
            }
            catch (SocketException) when (attempt < 5)
            {
                server.Dispose();
            }
        }
    }

    public static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    public async Task<string?> RetainedAsync(string topic)
    {
        var message = await server.GetRetainedMessageAsync(topic);
        return message?.ConvertPayloadToString();
    }

    /// <summary>Drops a client from the broker side, as a network failure would look to the broker.</summary>
    public Task KickAsync(string clientId) => server.DisconnectClientAsync(clientId, MqttDisconnectReasonCode.AdministrativeAction);

    public async Task<IReadOnlyList<string>> ClientIdsAsync() => (await server.GetClientsAsync()).Select(c => c.Id).ToList();

    public async ValueTask DisposeAsync()
    {
        await server.StopAsync();
        server.Dispose();
    }
}
