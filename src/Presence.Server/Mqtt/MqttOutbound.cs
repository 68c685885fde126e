using Microsoft.Extensions.Options;
using Presence.Contracts.Mqtt;
using Presence.Contracts.Wire;
using Presence.Server.Configuration;
using Presence.Server.Signing;
using Presence.Server.Telemetry;

namespace Presence.Server.Mqtt;

/// <summary>
/// The outgoing half of the bridge: its own connection, so publishing never waits behind the inbound handler.
/// Only Wolverine's durable queue calls it, after the transaction that decided to send has committed.
/// </summary>
public sealed class MqttOutbound(
    IOptions<MqttOptions> options, HouseKeys keys, ServerSecret secret, IHostApplicationLifetime lifetime, ILogger<MqttOutbound> logger)
    : BackgroundService
{
    /// <summary>
    /// The durable local queue whose messages this publishes: each lane's in order, one at a time, lanes in parallel
    /// (<see cref="IPublished"/>, Configuration).
    /// </summary>
    public const string Queue = "mqtt-out";

    // The outbound connection carries the server's availability (presence/status): it is the one that publishes
    // what the house sees, so while it is down nothing Presence shows is current.
    private readonly MqttConnection connection = ServerSession.Connection("out", options.Value, secret, logger,
        (new Topics(options.Value.TopicRoot).ServerStatus, ServerStatus.Payload(online: false)));

    /// <summary>1 while publications wait for the broker: the outage is logged once, not once per message and retry.</summary>
    private int waiting;

    public Topics Topics { get; } = new(options.Value.TopicRoot);

    public Task Connected => connection.Connected;

    /// <summary>Whether the connection to the broker is up now, for /health.</summary>
    public bool IsConnected => connection.IsConnected;

    /// <summary>
    /// Returns once the connection is up. A broker that is away is an expected, retried condition: the queue's
    /// messages wait here (still in PostgreSQL, so a stop loses none), rather than failing, being logged with a stack
    /// and rescheduled every few seconds, each of them (27 such failures in 25 s for a four-person house, before).
    /// </summary>
    /// <exception cref="MqttNotConnectedException">
    /// The server is stopping, or <paramref name="ct"/> ended, before the broker came back: Wolverine keeps the
    /// message and tries again (after the next start).
    /// </exception>
    public async Task WaitForBrokerAsync(CancellationToken ct)
    {
        if (connection.IsConnected)
        {
            return;
        }

        if (Interlocked.Exchange(ref waiting, 1) == 0)
        {
            logger.LogWarning("MQTT server out is not connected to the broker: commands and retained states wait in the outbound queue until it is back");
        }

        using var either = CancellationTokenSource.CreateLinkedTokenSource(ct, lifetime.ApplicationStopping);
        try
        {
            // Polled: reconnecting is the connection's own loop (seconds apart), and at most one message per lane waits.
            while (!connection.IsConnected)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(100), either.Token);
            }
        }
        catch (OperationCanceledException)
        {
            throw new MqttNotConnectedException(lifetime.ApplicationStopping.IsCancellationRequested
                ? "not published: the server is stopping and the broker is still away; kept for the next start"
                : "not published: the broker stayed away");
        }
    }

    /// <exception cref="MqttNotConnectedException">
    /// The broker refused it, or the server is stopping: Wolverine retries.
    /// </exception>
    public async Task PublishAsync(string topic, byte[] payload, bool retain, CancellationToken ct)
    {
        using var activity = Publishing(topic);
        do
        {
            await WaitForBrokerAsync(ct);
        }
        while (!await TrySendAsync(topic, payload, retain, [], ct));
    }

    /// <summary>
    /// Publishes a command for an agent, signed now with the house's key: a command that waited out an outage in
    /// the queue leaves with a fresh issued_at, so the agent's freshness window measures the wire, not the wait.
    /// </summary>
    /// <exception cref="MqttNotConnectedException">
    /// The broker refused it, or the server is stopping: Wolverine retries.
    /// </exception>
    public async Task PublishSignedAsync(string topic, byte[] payload, CancellationToken ct)
    {
        using var activity = Publishing(topic);
        bool sent;
        do
        {
            // Before signing: the signature's issued_at must be when it leaves, not when it began to wait.
            await WaitForBrokerAsync(ct);
            var signature = await keys.SignAsync(topic, payload, ct);
            sent = await TrySendAsync(topic, payload, retain: false, signature, ct);
        }
        while (!sent);
    }

    /// <summary>
    /// False when the connection was gone or broke while publishing: the broker went away, so the caller waits for it
    /// like any outage and publishes again (at least once, as QoS 1 is anyway). Failed, the publish was logged by
    /// Wolverine as an error with its stack, for a broker that was merely restarted at the wrong moment. A broken
    /// connection throws MQTTnet's exception around the socket's; let through, the socket inside made Wolverine's
    /// store rules take it for the database being away (/health then blamed PostgreSQL).
    /// </summary>
    /// <exception cref="MqttNotConnectedException">
    /// The broker refused it, or its PUBACK did not come in time while the connection stayed up: Wolverine retries.
    /// </exception>
    private async Task<bool> TrySendAsync(
        string topic, byte[] payload, bool retain, IReadOnlyList<KeyValuePair<string, string>> properties, CancellationToken ct)
    {
        MqttPublished published;
        try
        {
            published = await connection.PublishAsync(topic, payload, retain, properties, ct);
        }
        catch (MQTTnet.Exceptions.MqttCommunicationTimedOutException e) when (connection.IsConnected)
        {
            // The message text is kept, the exception itself is not (its inner socket error would be read as the
            // database's again).
            throw new MqttNotConnectedException($"{topic} was not published: {e.Message}");
        }
        catch (Exception e) when (e is MQTTnet.Exceptions.MqttCommunicationException or MQTTnet.Exceptions.MqttClientDisconnectedException
                                      or MQTTnet.Exceptions.MqttClientNotConnectedException)
        {
            if (ct.IsCancellationRequested)
            {
                // The wait would end at once too: said as the broker's trouble, never as the database's.
                throw new MqttNotConnectedException($"{topic} was not published: the connection to the broker broke ({e.Message})");
            }

            if (connection.IsConnected)
            {
                // MQTTnet marks the connection down a moment after failing what waited on it: not a busy loop meanwhile.
                await Task.Delay(TimeSpan.FromMilliseconds(50), CancellationToken.None);
            }

            return false;
        }

        if (published is { Taken: false, Why: var why })
        {
            if (!connection.IsConnected)
            {
                return false; // gone between the wait and the publish
            }

            throw new MqttNotConnectedException(why ?? $"{topic} was not published");
        }

        // Read first: every publish passes here, and a write would bounce the field between the lanes' cores.
        if (Volatile.Read(ref waiting) == 1 && Interlocked.Exchange(ref waiting, 0) == 1)
        {
            logger.LogInformation("MQTT server out: the broker is back; what waited is being published");
        }

        return true;
    }

    private static System.Diagnostics.Activity? Publishing(string topic) =>
        PresenceTelemetry.Source.StartActivity("presence.mqtt.publish", System.Diagnostics.ActivityKind.Producer)
            ?.SetTag("messaging.system", "mqtt")
            .SetTag("messaging.destination.name", topic);

    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Again after every reconnect: a last will the broker published meanwhile said offline. Not taken, it is tried
        // again at the connection's next check (MqttConnection.OnConnected), and the failure is logged there.
        connection.OnConnected(async () =>
        {
            if (await connection.PublishAsync(Topics.ServerStatus, ServerStatus.Payload(online: true), retain: true, stoppingToken) is { Taken: false, Why: var why })
            {
                throw new InvalidOperationException($"could not publish {Topics.ServerStatus} online: {why}");
            }
        });
        return connection.RunAsync(stoppingToken);
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        // A clean stop says offline itself; the broker keeps the will for a crash.
        await connection.CloseAsync((Topics.ServerStatus, ServerStatus.Payload(online: false)));
    }
}

/// <summary>
/// A message the outbound queue publishes, and the lane it keeps its order in. Commands for one agent leave in the
/// order they were decided (at a seat, the previous person's detach_display before the next person's attach_display),
/// and a user's retained state topic is published from the stored saga one at a time (two at once could leave an older
/// state retained last). Nothing else is ordered: with one sequential queue an attach at the seat someone just sat
/// down at waited behind the detach at the seat they left, the state topic of their logout before it, and each
/// publish's PUBACK and handled mark.
/// </summary>
public interface IPublished
{
    string Lane { get; }
}

public sealed class MqttNotConnectedException(string message) : Exception(message);
