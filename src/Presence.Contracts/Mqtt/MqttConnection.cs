using System.Buffers;
using Microsoft.Extensions.Logging;
using MQTTnet;
using MQTTnet.Packets;
using MQTTnet.Protocol;

namespace Presence.Contracts.Mqtt;

/// <summary>How often a connection checks it is still up, and how long it waits before trying again.</summary>
/// <param name="CheckEvery">Time between pings while connected.</param>
/// <param name="FirstRetry">Wait after the first failed attempt; doubled after each further one, up to <paramref name="LongestRetry"/>.</param>
public sealed record MqttReconnect(TimeSpan CheckEvery, TimeSpan FirstRetry, TimeSpan LongestRetry)
{
    /// <summary>The same interval for checking and retrying, never growing.</summary>
    public static MqttReconnect Every(TimeSpan interval) => new(interval, interval, interval);
}

/// <summary>Whether the broker took a message, and if not why, in words for a log or an exception.</summary>
public sealed record MqttPublished(bool Taken, string? Why = null);

/// <summary>
/// One MQTT client that stays connected, for the server and the agents alike. A loop around <c>TryPingAsync</c>
/// reconnects (never the Disconnected event, from which reconnecting can deadlock the client) and subscribes
/// again after every new connection. Messages are acknowledged only once their handler says they are done with
/// (QoS 1, AutoAcknowledge off), so a crash in between means a redelivery, never a lost message. What kind of
/// session (persistent, with a last will…) is the caller's <see cref="MqttClientOptions"/>.
/// <code>
/// await using var connection = new MqttConnection("agent imac", options, MqttReconnect.Every(TimeSpan.FromSeconds(5)), logger);
/// connection.Subscribe([commandTopic]);
/// connection.OnMessage((topic, payload) => HandleAsync(topic, payload));   // before connecting: a session delivers at once
/// connection.OnConnected(AnnounceAsync);
/// await connection.StartAsync(ct);   // or: await connection.RunAsync(stoppingToken) from a BackgroundService
/// </code>
/// </summary>
public sealed class MqttConnection : IAsyncDisposable
{
    private readonly string name;
    private readonly MqttClientOptions options;
    private readonly MqttReconnect reconnect;
    private readonly ILogger logger;
    private readonly IMqttClient client = new MqttClientFactory().CreateMqttClient();
    private readonly TaskCompletionSource connectedOnce = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource stopping = new();
    private IReadOnlyList<string> subscriptions = [];
    private Func<string, byte[], IReadOnlyList<KeyValuePair<string, string>>, Task<bool>>? onMessage;
    private Func<string, byte[], ValueTask<Task<bool>>>? onMessageTaken;
    private Func<Task>? onConnected;
    private Task background = Task.CompletedTask;
    private bool failing;

    /// <summary>
    /// Announcements asked for (one per connection, one per <see cref="AnnounceAgain"/>) and the last asked for when an
    /// announcement that went through began: until they meet, every check announces again.
    /// </summary>
    private int asked;
    private int announcedUpTo;
    private int disposed;

    /// <param name="name">Who connects, for the log: "server in", "agent imac".</param>
    public MqttConnection(string name, MqttClientOptions options, MqttReconnect reconnect, ILogger logger)
    {
        this.name = name;
        this.options = options;
        this.reconnect = reconnect;
        this.logger = logger;
        // Attached before the first connect: a persistent session delivers queued messages right after CONNACK.
        client.ApplicationMessageReceivedAsync += ReceiveAsync;
        client.DisconnectedAsync += e =>
        {
            if (e.ClientWasConnected && !stopping.IsCancellationRequested)
            {
                logger.LogWarning("MQTT {Name} lost {Broker} ({Reason}); reconnecting", name, Broker, e.Exception?.Message ?? e.Reason.ToString());
            }

            return Task.CompletedTask;
        };
    }

    public bool IsConnected => client.IsConnected;

    /// <summary>Completes when the first connection (and its subscriptions) is up.</summary>
    public Task Connected => connectedOnce.Task;

    private string Broker => options.ChannelOptions is MqttClientTcpOptions { RemoteEndpoint: var endpoint }
        ? endpoint switch
        {
            System.Net.DnsEndPoint dns => $"{dns.Host}:{dns.Port}",
            null => "the broker",
            _ => endpoint.ToString() ?? "the broker",
        }
        : "the broker";

    /// <summary>The topic filters subscribed (QoS 1) on every new connection.</summary>
    public void Subscribe(IReadOnlyList<string> topics) => subscriptions = topics;

    /// <summary>
    /// Handles each message that arrives; it is acknowledged when the handler returns true. A handler that throws
    /// leaves it unacknowledged, so the broker delivers it again.
    /// </summary>
    public void OnMessage(Func<string, byte[], Task<bool>> handler) => onMessage = (topic, payload, _) => handler(topic, payload);

    /// <summary>As <see cref="OnMessage(Func{string, byte[], Task{bool}})"/>, with the message's MQTT 5 user properties (in order, repeats kept).</summary>
    public void OnMessage(Func<string, byte[], IReadOnlyList<KeyValuePair<string, string>>, Task<bool>> handler) => onMessage = handler;

    /// <summary>
    /// A handler that answers twice: the outer task once it has taken the message (then the next one is delivered, so
    /// messages are taken in the order the broker sent them), the inner once the message is done with (then it is
    /// acknowledged). Many messages can be on their way at once, e.g. to be stored together in one transaction.
    /// </summary>
    public void OnMessageTaken(Func<string, byte[], ValueTask<Task<bool>>> handler) => onMessageTaken = handler;

    /// <summary>
    /// Runs after every successful connect and subscribe: publish what others must know (retained status…). An
    /// announcement that throws (say, the broker did not take it) runs again at every check while the connection stays
    /// up, until it goes through: a retained status that never arrived would leave the others believing it offline.
    /// </summary>
    public void OnConnected(Func<Task> announce) => onConnected = announce;

    /// <summary>
    /// Has the next check run the announcement again: for a retained update made since (an agent's inventory after a
    /// VM changed) that the broker did not take, which the announcement publishes anew.
    /// </summary>
    public void AnnounceAgain() => Interlocked.Increment(ref asked);

    /// <summary>Stays connected until <paramref name="cancellationToken"/> ends; for a hosted service's loop.</summary>
    public Task RunAsync(CancellationToken cancellationToken) => KeepConnectedAsync(waitFirst: false, cancellationToken);

    /// <summary>Tries to connect once, then keeps trying in the background until closed; a missing broker is no error.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await TryConnectAsync(cancellationToken);
        background = Task.Run(() => KeepConnectedAsync(waitFirst: true, stopping.Token), CancellationToken.None);
    }

    /// <summary>Publishes at QoS 1. Not being connected or a refusal by the broker is an answer; a broken connection throws what MQTTnet throws.</summary>
    public async Task<MqttPublished> PublishAsync(string topic, byte[] payload, bool retain, CancellationToken cancellationToken) =>
        await PublishAsync(topic, payload, retain, [], cancellationToken);

    /// <summary>As <see cref="PublishAsync(string, byte[], bool, CancellationToken)"/>, with MQTT 5 user properties (a command's signature).</summary>
    public async Task<MqttPublished> PublishAsync(
        string topic, byte[] payload, bool retain, IReadOnlyList<KeyValuePair<string, string>> properties, CancellationToken cancellationToken)
    {
        if (!client.IsConnected)
        {
            return new MqttPublished(false, $"MQTT {name} is not connected to {Broker}; cannot publish {topic}");
        }

        var message = new MqttApplicationMessageBuilder()
            .WithTopic(topic)
            .WithPayload(payload)
            .WithContentType("application/json")
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce)
            .WithRetainFlag(retain);
        foreach (var (name, value) in properties)
        {
            message = message.WithUserProperty(name, new ReadOnlyMemory<byte>(System.Text.Encoding.UTF8.GetBytes(value)));
        }

        var result = await client.PublishAsync(message.Build(), cancellationToken);
        return result.IsSuccess ? new MqttPublished(true) : new MqttPublished(false, $"broker refused {topic}: {result.ReasonCode} {result.ReasonString}");
    }

    /// <summary>Publishes, and says only whether it worked: for callers that publish again on the next connection anyway.</summary>
    public async Task<bool> TryPublishAsync(string topic, byte[] payload, bool retain)
    {
        try
        {
            // Not a stopping token: a goodbye is published while closing.
            return (await PublishAsync(topic, payload, retain, CancellationToken.None)).Taken;
        }
        catch (Exception e)
        {
            logger.LogDebug("MQTT {Name}: publishing {Topic} failed: {Reason}", name, topic, e.Message);
            return false;
        }
    }

    /// <summary>
    /// Leaves properly: stops reconnecting, publishes <paramref name="farewell"/> (retained; e.g. an offline status)
    /// when still connected, then a clean DISCONNECT, so the broker does not publish the last will.
    /// </summary>
    public async Task CloseAsync((string Topic, byte[] Payload)? farewell = null)
    {
        await StopReconnectingAsync();
        if (Volatile.Read(ref disposed) == 0 && client.IsConnected)
        {
            if (farewell is { } last)
            {
                await TryPublishAsync(last.Topic, last.Payload, retain: true);
            }

            try
            {
                await client.DisconnectAsync(new MqttClientDisconnectOptionsBuilder()
                    .WithReason(MqttClientDisconnectOptionsReason.NormalDisconnection)
                    .Build());
            }
            catch (Exception e)
            {
                logger.LogDebug("MQTT {Name}: disconnecting from {Broker} failed: {Reason}", name, Broker, e.Message);
            }
        }

        Release();
    }

    /// <summary>Drops the connection the way a crash does, without DISCONNECT, so the broker publishes the last will.</summary>
    public async Task AbortAsync()
    {
        await StopReconnectingAsync();
        Release();
    }

    public async ValueTask DisposeAsync() => await CloseAsync();

    private async Task StopReconnectingAsync()
    {
        if (!stopping.IsCancellationRequested)
        {
            await stopping.CancelAsync();
        }

        await background;
    }

    private void Release()
    {
        if (Interlocked.Exchange(ref disposed, 1) == 0)
        {
            client.Dispose();
        }
    }

    private async Task KeepConnectedAsync(bool waitFirst, CancellationToken cancellationToken)
    {
        var retry = reconnect.FirstRetry;
        var wait = waitFirst ? reconnect.CheckEvery : TimeSpan.Zero;
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(wait, cancellationToken);
                var up = await client.TryPingAsync(cancellationToken);
                if (up && Volatile.Read(ref announcedUpTo) != Volatile.Read(ref asked))
                {
                    await AnnounceAsync(again: true);
                }

                if (up || await TryConnectAsync(cancellationToken))
                {
                    retry = reconnect.FirstRetry;
                    wait = reconnect.CheckEvery;
                }
                else
                {
                    wait = retry;
                    retry = TimeSpan.FromTicks(Math.Min(retry.Ticks * 2, reconnect.LongestRetry.Ticks));
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                logger.LogError(e, "MQTT {Name}: the reconnect loop hiccuped", name);
                wait = reconnect.CheckEvery;
            }
        }
    }

    /// <summary>Connects, subscribes and announces; false (and logged once per outage) when the broker cannot be reached.</summary>
    private async Task<bool> TryConnectAsync(CancellationToken cancellationToken)
    {
        try
        {
            await client.ConnectAsync(options, cancellationToken);
            // Subscribing again on a resumed session is harmless and covers a broker that lost it.
            if (subscriptions.Count > 0)
            {
                var subscribe = new MqttClientSubscribeOptionsBuilder();
                foreach (var topic in subscriptions)
                {
                    subscribe.WithTopicFilter(f => f.WithTopic(topic).WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce));
                }

                await client.SubscribeAsync(subscribe.Build(), cancellationToken);
            }
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // Once per outage is enough in the log; the loop keeps trying quietly.
            logger.Log(failing ? LogLevel.Debug : LogLevel.Warning,
                "MQTT {Name} cannot reach {Broker} ({Reason}); retrying", name, Broker, e.Message);
            failing = true;
            return false;
        }

        logger.LogInformation("MQTT {Name} connected to {Broker} as {ClientId}", name, Broker, options.ClientId);
        failing = false;
        connectedOnce.TrySetResult();
        Interlocked.Increment(ref asked);
        await AnnounceAsync(again: false);
        return true;
    }

    /// <summary>Runs the announcement; one that fails is logged once per connection and tried again at each check.</summary>
    private async Task AnnounceAsync(bool again)
    {
        // Read before announcing: an AnnounceAgain while this runs asks for one more after it.
        var upTo = Volatile.Read(ref asked);
        if (onConnected is not { } announce)
        {
            Volatile.Write(ref announcedUpTo, upTo);
            return;
        }

        try
        {
            await announce();
            Volatile.Write(ref announcedUpTo, upTo);
            if (again)
            {
                logger.LogInformation("MQTT {Name}: announced to {Broker} on a later try", name, Broker);
            }
        }
        catch (Exception e)
        {
            logger.Log(again ? LogLevel.Debug : LogLevel.Warning,
                "MQTT {Name}: announcing to {Broker} failed ({Reason}); trying again in {Wait}", name, Broker, e.Message, reconnect.CheckEvery);
        }
    }

    private async Task ReceiveAsync(MqttApplicationMessageReceivedEventArgs e)
    {
        e.AutoAcknowledge = false;
        if (onMessageTaken is { } take)
        {
            Task<bool> finished;
            try
            {
                finished = await take(e.ApplicationMessage.Topic, e.ApplicationMessage.Payload.ToArray());
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (Exception ex)
            {
                logger.LogError(ex, "MQTT {Name}: taking {Topic} failed; it stays unacknowledged", name, e.ApplicationMessage.Topic);
                return;
            }

            _ = AcknowledgeWhenDoneAsync(e, finished);
            return;
        }

        bool done;
        try
        {
            var properties = e.ApplicationMessage.UserProperties?.Select(p => KeyValuePair.Create(p.Name, p.ReadValueAsString())).ToList() ?? [];
            done = onMessage is not null && await onMessage(e.ApplicationMessage.Topic, e.ApplicationMessage.Payload.ToArray(), properties);
        }
        catch (OperationCanceledException)
        {
            // Shutting down: the broker delivers it again to the next run.
            done = false;
        }
        catch (Exception ex)
        {
            logger.LogError(ex, "MQTT {Name}: handling {Topic} failed; it stays unacknowledged", name, e.ApplicationMessage.Topic);
            done = false;
        }

        if (done)
        {
            await AcknowledgeAsync(e);
        }
    }

    private async Task AcknowledgeWhenDoneAsync(MqttApplicationMessageReceivedEventArgs e, Task<bool> finished)
    {
        bool done;
        try
        {
            done = await finished;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            logger.LogError(ex, "MQTT {Name}: handling {Topic} failed; it stays unacknowledged", name, e.ApplicationMessage.Topic);
            done = false;
        }
        catch (OperationCanceledException)
        {
            done = false;
        }

        if (done)
        {
            await AcknowledgeAsync(e);
        }
    }

    /// <summary>A failed acknowledgement only means a redelivery, which the receiver tells by the message's id.</summary>
    private async Task AcknowledgeAsync(MqttApplicationMessageReceivedEventArgs e)
    {
        try
        {
            await e.AcknowledgeAsync(CancellationToken.None);
        }
        catch (Exception ex)
        {
            logger.LogDebug("MQTT {Name}: acknowledging {Topic} failed: {Reason}", name, e.ApplicationMessage.Topic, ex.Message);
        }
    }
}
