using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using MQTTnet;
using MQTTnet.Protocol;
using MQTTnet.Server;
using Presence.Contracts.Mqtt;

namespace Presence.Contracts.Tests.Mqtt;

/// <summary>The one reconnecting MQTT client the server and the agents share, against a real broker in process.</summary>
public sealed class keeping_a_connection : IAsyncLifetime
{
    private static readonly MqttReconnect Quickly = MqttReconnect.Every(TimeSpan.FromMilliseconds(100));
    private readonly int port = FreePort();
    private readonly List<IAsyncDisposable> owned = [];
    private MqttServer broker = null!;

    public async Task InitializeAsync() => broker = await StartBrokerAsync(persistentSessions: true);

    public async Task DisposeAsync()
    {
        foreach (var disposable in owned)
        {
            await disposable.DisposeAsync();
        }

        await broker.StopAsync();
        broker.Dispose();
    }

    [Fact]
    public async Task a_message_its_handler_did_not_finish_comes_again_after_a_reconnect_and_not_after_it_was_done()
    {
        var deliveries = new ConcurrentQueue<string>();
        var connection = Connection("handler");
        connection.Subscribe(["house/#"]);
        connection.OnMessage((topic, payload) =>
        {
            deliveries.Enqueue(Encoding.UTF8.GetString(payload));
            // The first delivery fails, as a crash before storing would.
            return Task.FromResult(deliveries.Count > 1);
        });
        await connection.StartAsync(CancellationToken.None);
        await connection.Connected.WaitAsync(TimeSpan.FromSeconds(10));

        await PublishAsync("house/signal", "one");
        await WaitUntilAsync(() => deliveries.Count == 1, "the first delivery");
        await broker.DisconnectClientAsync("handler", MqttDisconnectReasonCode.AdministrativeAction);
        await WaitUntilAsync(() => deliveries.Count == 2, "the same message again after the reconnect");

        // The acknowledgement leaves after the handler returns; give it time before dropping the connection again.
        await Task.Delay(500);
        await broker.DisconnectClientAsync("handler", MqttDisconnectReasonCode.AdministrativeAction);
        await WaitUntilAsync(() => connection.IsConnected, "connected again");
        await Task.Delay(300);
        Assert.Equal(["one", "one"], deliveries);
    }

    [Fact]
    public async Task after_a_broker_that_forgot_the_session_it_subscribes_and_announces_again()
    {
        await broker.StopAsync();
        broker.Dispose();
        broker = await StartBrokerAsync(persistentSessions: false);
        var received = new ConcurrentQueue<string>();
        var announced = 0;
        var connection = Connection("forgotten");
        connection.Subscribe(["house/#"]);
        connection.OnMessage((topic, _) =>
        {
            received.Enqueue(topic);
            return Task.FromResult(true);
        });
        connection.OnConnected(() =>
        {
            Interlocked.Increment(ref announced);
            return Task.CompletedTask;
        });
        await connection.StartAsync(CancellationToken.None);

        await broker.DisconnectClientAsync("forgotten", MqttDisconnectReasonCode.AdministrativeAction);
        await WaitUntilAsync(() => Volatile.Read(ref announced) == 2, "announced after the reconnect");
        await PublishAsync("house/after", "x");

        await WaitUntilAsync(() => received.Contains("house/after"), "a message on the subscription made again");
    }

    [Fact]
    public async Task an_announcement_that_failed_runs_again_while_connected_until_it_goes_through_and_then_no_more()
    {
        var attempts = 0;
        var connection = Connection("announcer");
        connection.OnConnected(() =>
        {
            // As an agent whose retained status the broker did not take.
            if (Interlocked.Increment(ref attempts) < 3)
            {
                throw new InvalidOperationException("the broker did not take it");
            }

            return Task.CompletedTask;
        });
        await connection.StartAsync(CancellationToken.None);

        await WaitUntilAsync(() => Volatile.Read(ref attempts) == 3, "the third attempt");
        await Task.Delay(500); // five more checks
        Assert.Equal(3, Volatile.Read(ref attempts));
        Assert.True(connection.IsConnected);
    }

    [Fact]
    public async Task publishing_without_a_broker_says_why_instead_of_throwing()
    {
        var connection = new MqttConnection("nowhere", Options("nowhere", FreePort()), Quickly, NullLogger.Instance);
        owned.Add(connection);
        await connection.StartAsync(CancellationToken.None);

        var published = await connection.PublishAsync("house/x", [1], retain: false, CancellationToken.None);

        Assert.False(published.Taken);
        Assert.Contains("MQTT nowhere is not connected", published.Why);
        Assert.False(await connection.TryPublishAsync("house/x", [1], retain: false));
    }

    private MqttConnection Connection(string clientId)
    {
        var connection = new MqttConnection(clientId, Options(clientId, port), Quickly, NullLogger.Instance);
        owned.Add(connection);
        return connection;
    }

    private static MqttClientOptions Options(string clientId, int port) => new MqttClientOptionsBuilder()
        .WithTcpServer("127.0.0.1", port)
        .WithClientId(clientId)
        .WithCleanStart(false)
        .WithSessionExpiryInterval(600)
        .Build();

    private async Task PublishAsync(string topic, string payload)
    {
        using var client = new MqttClientFactory().CreateMqttClient();
        await client.ConnectAsync(new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", port).Build());
        await client.PublishAsync(new MqttApplicationMessageBuilder()
            .WithTopic(topic).WithPayload(payload).WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build());
        await client.DisconnectAsync();
    }

    private async Task<MqttServer> StartBrokerAsync(bool persistentSessions)
    {
        var factory = new MqttServerFactory();
        var server = factory.CreateMqttServer(factory.CreateServerOptionsBuilder()
            .WithDefaultEndpoint()
            .WithDefaultEndpointBoundIPAddress(IPAddress.Loopback)
            .WithDefaultEndpointPort(port)
            .WithPersistentSessions(persistentSessions)
            .Build());
        await server.StartAsync();
        return server;
    }

    private static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting for {what}");
            await Task.Delay(20);
        }
    }

    private static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
