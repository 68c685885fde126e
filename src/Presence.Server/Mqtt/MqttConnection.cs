using Microsoft.Extensions.Options;
using MQTTnet;
using MQTTnet.Protocol;
using Presence.Server.Configuration;

namespace Presence.Server.Mqtt;

/// <summary>
/// One MQTT client that stays connected: a loop around TryPingAsync reconnects (never the Disconnected event,
/// which can deadlock), and re-subscribes after every new connection.
/// </summary>
public sealed class MqttConnection(string role, MqttOptions mqtt, ILogger logger) : IAsyncDisposable
{
    private readonly IMqttClient client = new MqttClientFactory().CreateMqttClient();
    private readonly TaskCompletionSource connectedOnce = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private IReadOnlyList<string> subscriptions = [];

    public IMqttClient Client => client;

    public bool IsConnected => client.IsConnected;

    /// <summary>Completes when the first connection (and its subscriptions) is up.</summary>
    public Task Connected => connectedOnce.Task;

    public void Subscribe(IReadOnlyList<string> topics) => subscriptions = topics;

    public async Task RunAsync(CancellationToken ct)
    {
        var options = new MqttClientOptionsBuilder()
            .WithTcpServer(mqtt.Host == "0.0.0.0" ? "127.0.0.1" : mqtt.Host, mqtt.Port)
            .WithClientId($"presence-server-{mqtt.NodeName}-{role}")
            .WithProtocolVersion(MQTTnet.Formatter.MqttProtocolVersion.V500)
            // A persistent session: QoS 1 messages that arrive while we restart wait for us at the broker.
            .WithCleanStart(false)
            .WithSessionExpiryInterval((uint)TimeSpan.FromDays(7).TotalSeconds)
            .WithKeepAlivePeriod(TimeSpan.FromSeconds(15));
        if (mqtt.Username is { Length: > 0 } user)
        {
            options = options.WithCredentials(user, mqtt.Password);
        }

        var built = options.Build();
        var delay = TimeSpan.FromMilliseconds(200);
        while (!ct.IsCancellationRequested)
        {
            try
            {
                if (!await client.TryPingAsync(ct))
                {
                    await client.ConnectAsync(built, ct);
                    // Subscribing again on a resumed session is harmless and covers a broker that lost it.
                    if (subscriptions.Count > 0)
                    {
                        var subscribe = new MqttClientSubscribeOptionsBuilder();
                        foreach (var topic in subscriptions)
                        {
                            subscribe.WithTopicFilter(f => f.WithTopic(topic).WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce));
                        }

                        await client.SubscribeAsync(subscribe.Build(), ct);
                    }

                    logger.LogInformation("MQTT {Role} connected to {Host}:{Port}", role, mqtt.Host, mqtt.Port);
                    connectedOnce.TrySetResult();
                    delay = TimeSpan.FromMilliseconds(200);
                }

                await Task.Delay(TimeSpan.FromSeconds(1), ct);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e)
            {
                logger.LogWarning("MQTT {Role} cannot reach {Host}:{Port}: {Error}; retrying in {Delay}", role, mqtt.Host, mqtt.Port, e.Message, delay);
                try
                {
                    await Task.Delay(delay, ct);
                }
                catch (OperationCanceledException)
                {
                    break;
                }

                delay = TimeSpan.FromMilliseconds(Math.Min(delay.TotalMilliseconds * 2, 10_000));
            }
        }
    }

    public async Task PublishAsync(string topic, byte[] payload, bool retain, CancellationToken ct)
    {
        var message = new MqttApplicationMessageBuilder()
            .WithTopic(topic)
            .WithPayload(payload)
            .WithContentType("application/json")
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce)
            .WithRetainFlag(retain)
            .Build();
        if (!client.IsConnected)
        {
            throw new MqttNotConnectedException($"MQTT {role} is not connected to {mqtt.Host}:{mqtt.Port}; cannot publish {topic}");
        }

        var result = await client.PublishAsync(message, ct);
        if (!result.IsSuccess)
        {
            throw new MqttNotConnectedException($"broker refused {topic}: {result.ReasonCode} {result.ReasonString}");
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (client.IsConnected)
        {
            try
            {
                await client.DisconnectAsync(new MqttClientDisconnectOptionsBuilder().Build());
            }
            catch (Exception e)
            {
                logger.LogDebug("MQTT {Role} disconnect: {Error}", role, e.Message);
            }
        }

        client.Dispose();
    }
}

public sealed class MqttNotConnectedException(string message) : Exception(message);
