using System.Buffers;
using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using MQTTnet;
using MQTTnet.Protocol;
using Presence.Contracts.Mqtt;

namespace Presence.Server.Tests.Infrastructure;

public sealed record Received(string Topic, string Payload, bool Retained)
{
    public JsonElement Json => JsonDocument.Parse(Payload).RootElement;
}

/// <summary>The broker answered CONNECT with a refusal (MQTTnet 5 returns it rather than throwing).</summary>
public sealed class MqttRefusedException(MqttClientConnectResultCode code, string? reason) : Exception($"the broker refused the connection: {code} {reason}")
{
    public MqttClientConnectResultCode Code { get; } = code;
}

/// <summary>A plain MQTT client in the role of an emitter or Home Assistant: publishes, and records what it sees.</summary>
public sealed class MqttProbe : IAsyncDisposable
{
    private readonly IMqttClient client = new MqttClientFactory().CreateMqttClient();
    private readonly ConcurrentQueue<Received> received = new();
    private readonly SemaphoreSlim arrived = new(0);
    private readonly TaskCompletionSource disconnected = new(TaskCreationOptions.RunContinuationsAsynchronously);

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
        client.DisconnectedAsync += _ =>
        {
            disconnected.TrySetResult();
            return Task.CompletedTask;
        };
    }

    public IReadOnlyCollection<Received> All => received.ToArray();

    /// <summary>
    /// A watcher: connects as the controller presence-cli, which may read everything; on a loopback broker an identity
    /// that was never enrolled needs no password.
    /// </summary>
    public static Task<MqttProbe> ConnectAsync(int port, string clientId, params string[] subscriptions) =>
        ConnectWithAsync(port, clientId, "presence-cli", null, subscriptions);

    /// <summary>Connects with an MQTT username (no password): the identity the broker's access rules go by.</summary>
    public static Task<MqttProbe> ConnectAsAsync(int port, string clientId, string? userName, params string[] subscriptions) =>
        ConnectWithAsync(port, clientId, userName, null, subscriptions);

    /// <summary>Connects as <paramref name="identity"/> of a real mosquitto, with its password.</summary>
    public static Task<MqttProbe> ConnectAsync(ExternalBroker broker, string clientId, string identity, params string[] subscriptions) =>
        ConnectWithAsync(broker.Port, clientId, identity, broker.PasswordOf(identity), subscriptions);

    /// <summary>Connects with a username and password (null for neither: anonymous); a refusal throws <see cref="MqttRefusedException"/>.</summary>
    public static Task<MqttProbe> ConnectWithAsync(int port, string clientId, string? userName, string? password, params string[] subscriptions) =>
        ConnectWithAsync(port, clientId, userName, password, tls: null, subscriptions);

    /// <summary>As <see cref="ConnectWithAsync(int, string, string?, string?, string[])"/>, over TLS trusting as <paramref name="tls"/> says (null: plain).</summary>
    public static async Task<MqttProbe> ConnectWithAsync(int port, string clientId, string? userName, string? password, MqttTrust? tls, params string[] subscriptions)
    {
        var probe = new MqttProbe();
        var options = new MqttClientOptionsBuilder()
            .WithTcpServer("127.0.0.1", port)
            .WithClientId(clientId)
            .WithTimeout(TimeSpan.FromSeconds(10))
            .WithProtocolVersion(MQTTnet.Formatter.MqttProtocolVersion.V500);
        if (tls is not null)
        {
            options = options.WithTrust("127.0.0.1", tls, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
        }

        if (userName is not null)
        {
            options = options.WithCredentials(userName, password ?? "");
        }

        MqttClientConnectResult result;
        try
        {
            result = await probe.client.ConnectAsync(options.Build());
        }
        catch
        {
            probe.client.Dispose();
            throw;
        }

        if (result.ResultCode != MqttClientConnectResultCode.Success)
        {
            probe.client.Dispose();
            throw new MqttRefusedException(result.ResultCode, result.ReasonString);
        }

        foreach (var topic in subscriptions)
        {
            var granted = await probe.client.SubscribeAsync(topic, MqttQualityOfServiceLevel.AtLeastOnce);
            probe.Granted[topic] = granted.Items.Single().ResultCode;
        }

        return probe;
    }

    /// <summary>Whether the broker lets <paramref name="userName"/> in with <paramref name="password"/> now (the connection is closed again).</summary>
    public static async Task<bool> AdmitsAsync(int port, string userName, string password)
    {
        try
        {
            await using var probe = await ConnectWithAsync(port, $"{userName}-{Guid.NewGuid():N}", userName, password);
            return true;
        }
        catch (MqttRefusedException)
        {
            return false;
        }
    }

    /// <summary>What the broker answered to each subscription.</summary>
    public Dictionary<string, MqttClientSubscribeResultCode> Granted { get; } = [];

    public bool IsConnected => client.IsConnected;

    /// <summary>Completes when the broker ends the connection.</summary>
    public Task Disconnected => disconnected.Task;

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
        try
        {
            if (client.IsConnected)
            {
                await client.DisconnectAsync();
            }
        }
        catch (MQTTnet.Exceptions.MqttCommunicationException)
        {
            // The broker ended the connection between the check and the goodbye (CI: a revoked identity's session,
            // "Broken pipe"): it is closed either way.
        }

        client.Dispose();
    }
}
