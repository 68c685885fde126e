using System.Buffers;
using Microsoft.Extensions.Logging;
using MQTTnet;
using MQTTnet.Protocol;
using Presence.Agent.Configuration;

namespace Presence.Agent.Broker;

/// <summary>
/// The agent's one MQTT connection: its last will says "offline", every (re)connect subscribes to the command
/// topic and lets the agent re-announce itself, and a watchdog loop reconnects when a ping fails. (The
/// Disconnected event is not used for that: reconnecting from inside it can deadlock the client.)
/// </summary>
internal sealed class BrokerConnection : IAsyncDisposable
{
    private readonly IMqttClient client;
    private readonly MqttClientOptions clientOptions;
    private readonly string commandTopic;
    private readonly TimeSpan reconnectDelay;
    private readonly string broker;
    private readonly Func<ReadOnlyMemory<byte>, Task<bool>> onCommand;
    private readonly Func<Task> onConnected;
    private readonly ILogger logger;
    private readonly CancellationTokenSource stopping = new();
    private Task watchdog = Task.CompletedTask;
    private bool lastAttemptFailed;
    private int disposed;

    /// <param name="onCommand">Handles one command payload; true to acknowledge it to the broker.</param>
    /// <param name="onConnected">Runs after every successful (re)connect and subscribe: publish what others must know.</param>
    public BrokerConnection(
        AgentOptions options,
        string statusTopic,
        byte[] offlineStatus,
        string commandTopic,
        Func<ReadOnlyMemory<byte>, Task<bool>> onCommand,
        Func<Task> onConnected,
        ILogger logger)
    {
        this.commandTopic = commandTopic;
        this.onCommand = onCommand;
        this.onConnected = onConnected;
        this.logger = logger;
        reconnectDelay = options.Mqtt.ReconnectDelay;
        broker = $"{options.Mqtt.Host}:{options.Mqtt.Port}";

        var builder = new MqttClientOptionsBuilder()
            .WithTcpServer(options.Mqtt.Host, options.Mqtt.Port)
            .WithClientId(options.EffectiveClientId)
            .WithTimeout(TimeSpan.FromSeconds(10))
            .WithWillTopic(statusTopic)
            .WithWillPayload(offlineStatus)
            .WithWillRetain(true)
            .WithWillQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce)
            // A persistent session keeps commands sent while the agent restarts; the journal answers redeliveries.
            .WithCleanStart(options.Mqtt.SessionExpiry == TimeSpan.Zero)
            .WithSessionExpiryInterval((uint)options.Mqtt.SessionExpiry.TotalSeconds);
        if (!string.IsNullOrEmpty(options.Mqtt.Username))
        {
            builder.WithCredentials(options.Mqtt.Username, options.Mqtt.Password);
        }

        clientOptions = builder.Build();
        client = new MqttClientFactory().CreateMqttClient();

        // Attached before the first connect: a persistent session delivers queued commands right after CONNACK.
        client.ApplicationMessageReceivedAsync += ReceiveAsync;
        client.DisconnectedAsync += e =>
        {
            if (e.ClientWasConnected && !stopping.IsCancellationRequested)
            {
                logger.LogWarning("Lost the MQTT broker {Broker} ({Reason}); reconnecting", broker, e.Exception?.Message ?? e.Reason.ToString());
            }

            return Task.CompletedTask;
        };
    }

    public bool IsConnected => client.IsConnected;

    /// <summary>Tries to connect once, then keeps trying in the background; a missing broker does not stop the agent.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await TryConnectAsync(cancellationToken);
        watchdog = Task.Run(WatchAsync, CancellationToken.None);
    }

    /// <summary>False when not connected or the broker did not take it; callers decide whether that matters.</summary>
    public async Task<bool> PublishAsync(string topic, byte[] payload, bool retain)
    {
        if (!client.IsConnected)
        {
            return false;
        }

        try
        {
            var message = new MqttApplicationMessageBuilder()
                .WithTopic(topic)
                .WithPayload(payload)
                .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce)
                .WithRetainFlag(retain)
                .Build();
            // Not the stopping token: the goodbye status is published after the watchdog has been stopped.
            var result = await client.PublishAsync(message, CancellationToken.None);
            return result.IsSuccess;
        }
        catch (Exception e)
        {
            logger.LogDebug("Publish to {Topic} failed: {Reason}", topic, e.Message);
            return false;
        }
    }

    /// <summary>Says goodbye properly: the final retained status, then a clean DISCONNECT (so no last will).</summary>
    public async Task CloseAsync(string statusTopic, byte[] offlineStatus)
    {
        await StopWatchdogAsync();
        if (client.IsConnected)
        {
            await PublishAsync(statusTopic, offlineStatus, retain: true);
            try
            {
                await client.DisconnectAsync(new MqttClientDisconnectOptionsBuilder()
                    .WithReason(MqttClientDisconnectOptionsReason.NormalDisconnection)
                    .Build());
            }
            catch (Exception e)
            {
                logger.LogDebug("Disconnect from {Broker} failed: {Reason}", broker, e.Message);
            }
        }

        Dispose();
    }

    /// <summary>Drops the connection the way a crash does, without DISCONNECT, so the broker publishes the last will.</summary>
    public async Task AbortAsync()
    {
        await StopWatchdogAsync();
        Dispose();
    }

    public async ValueTask DisposeAsync()
    {
        await StopWatchdogAsync();
        Dispose();
    }

    private void Dispose()
    {
        if (Interlocked.Exchange(ref disposed, 1) == 0)
        {
            client.Dispose();
        }
    }

    private async Task StopWatchdogAsync()
    {
        if (!stopping.IsCancellationRequested)
        {
            await stopping.CancelAsync();
        }

        await watchdog;
    }

    private async Task WatchAsync()
    {
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(reconnectDelay, stopping.Token);
                if (!await client.TryPingAsync(stopping.Token))
                {
                    await TryConnectAsync(stopping.Token);
                }
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                logger.LogError(e, "Connection watchdog hiccup");
            }
        }
    }

    private async Task TryConnectAsync(CancellationToken cancellationToken)
    {
        try
        {
            await client.ConnectAsync(clientOptions, cancellationToken);
            var filter = new MqttTopicFilterBuilder()
                .WithTopic(commandTopic)
                .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce)
                .Build();
            await client.SubscribeAsync(new MqttClientSubscribeOptionsBuilder().WithTopicFilter(filter).Build(), cancellationToken);
            logger.LogInformation("Connected to MQTT broker {Broker} as {ClientId}", broker, clientOptions.ClientId);
            lastAttemptFailed = false;
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // Once per outage is enough in the log; the watchdog keeps trying quietly.
            logger.Log(lastAttemptFailed ? LogLevel.Debug : LogLevel.Warning,
                "MQTT broker {Broker} unreachable ({Reason}); retrying every {Delay}", broker, e.Message, reconnectDelay);
            lastAttemptFailed = true;
            return;
        }

        try
        {
            await onConnected();
        }
        catch (Exception e)
        {
            logger.LogError(e, "Announcing the agent after connecting failed");
        }
    }

    private async Task ReceiveAsync(MqttApplicationMessageReceivedEventArgs e)
    {
        // Acknowledged only once the command is recorded: a crash before that gets it redelivered.
        e.AutoAcknowledge = false;
        var acknowledge = true;
        if (e.ApplicationMessage.Topic == commandTopic)
        {
            try
            {
                acknowledge = await onCommand(e.ApplicationMessage.Payload.ToArray());
            }
            catch (Exception ex)
            {
                logger.LogError(ex, "Command handling failed");
            }
        }

        if (acknowledge)
        {
            try
            {
                await e.AcknowledgeAsync(CancellationToken.None);
            }
            catch (Exception ex)
            {
                logger.LogDebug("Acknowledging a command failed: {Reason}", ex.Message);
            }
        }
    }
}
