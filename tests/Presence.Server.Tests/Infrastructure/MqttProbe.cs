using System.Buffers;
using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using MQTTnet;
using MQTTnet.Protocol;

namespace Presence.Server.Tests.Infrastructure;

public sealed record Received(string Topic, string Payload, bool Retained)
{
    public JsonElement Json => JsonDocument.Parse(Payload).RootElement;
}

/// <summary>A plain MQTT client in the role of an emitter or Home Assistant: publishes, and records what it sees.</summary>
public sealed class MqttProbe : IAsyncDisposable
{
    private readonly IMqttClient client = new MqttClientFactory().CreateMqttClient();
    private readonly ConcurrentQueue<Received> received = new();
    private readonly SemaphoreSlim arrived = new(0);

    private MqttProbe()
    {
        client.ApplicationMessageReceivedAsync += e =>
        {
            received.Enqueue(new Received(
                e.ApplicationMessage.Topic,
                Encoding.UTF8.GetString(e.ApplicationMessage.Payload.ToArray()),
                e.ApplicationMessage.Retain));
            arrived.Release();
            return Task.CompletedTask;
        };
    }

    public IReadOnlyCollection<Received> All => received.ToArray();

    public static Task<MqttProbe> ConnectAsync(int port, string clientId, params string[] subscriptions) =>
        ConnectAsAsync(port, clientId, null, subscriptions);

    /// <summary>Connects with an MQTT username: the identity the broker's access rules go by.</summary>
    public static Task<MqttProbe> ConnectAsAsync(int port, string clientId, string? userName, params string[] subscriptions) =>
        ConnectWithPasswordAsync(port, clientId, userName, "", subscriptions);

    /// <summary>Connects as <paramref name="identity"/> of a real mosquitto, with its password.</summary>
    public static Task<MqttProbe> ConnectAsync(ExternalBroker broker, string clientId, string identity, params string[] subscriptions) =>
        ConnectWithPasswordAsync(broker.Port, clientId, identity, broker.PasswordOf(identity), subscriptions);

    // Not an overload of ConnectAsAsync: a call with one subscription would bind it as the password.
    private static async Task<MqttProbe> ConnectWithPasswordAsync(int port, string clientId, string? userName, string password, string[] subscriptions)
    {
        var probe = new MqttProbe();
        var options = new MqttClientOptionsBuilder()
            .WithTcpServer("127.0.0.1", port)
            .WithClientId(clientId)
            .WithProtocolVersion(MQTTnet.Formatter.MqttProtocolVersion.V500);
        if (userName is not null)
        {
            options = options.WithCredentials(userName, password);
        }

        await probe.client.ConnectAsync(options.Build());
        foreach (var topic in subscriptions)
        {
            await probe.client.SubscribeAsync(topic, MqttQualityOfServiceLevel.AtLeastOnce);
        }

        return probe;
    }

    /// <summary>Publishes at QoS 1; the result carries the broker's answer (MQTT 5: e.g. NotAuthorized).</summary>
    public Task<MqttClientPublishResult> PublishAsync(string topic, string json, bool retain = false) =>
        client.PublishAsync(new MqttApplicationMessageBuilder()
            .WithTopic(topic)
            .WithPayload(json)
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce)
            .WithRetainFlag(retain)
            .Build());

    /// <summary>Waits for a message matching the predicate (one already received counts); fails after the timeout.</summary>
    public async Task<Received> WaitForAsync(Func<Received, bool> match, TimeSpan? timeout = null, string? what = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(20));
        while (true)
        {
            var hit = received.FirstOrDefault(match);
            if (hit is not null)
            {
                return hit;
            }

            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero)
            {
                throw new TimeoutException(
                    $"no MQTT message {what ?? "matching"} within the timeout; saw:\n  " +
                    string.Join("\n  ", received.Select(r => $"{r.Topic} {r.Payload}").TakeLast(30)));
            }

            await arrived.WaitAsync(left < TimeSpan.FromMilliseconds(250) ? left : TimeSpan.FromMilliseconds(250));
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (client.IsConnected)
        {
            await client.DisconnectAsync();
        }

        client.Dispose();
    }
}
