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
public sealed class MqttOutbound(IOptions<MqttOptions> options, HouseKeys keys, ServerSecret secret, ILogger<MqttOutbound> logger) : BackgroundService
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

    public Topics Topics { get; } = new(options.Value.TopicRoot);

    public Task Connected => connection.Connected;

    /// <summary>Whether the connection to the broker is up now, for /health.</summary>
    public bool IsConnected => connection.IsConnected;

    /// <exception cref="MqttNotConnectedException">Not connected, or the broker refused it: Wolverine retries.</exception>
    public async Task PublishAsync(string topic, byte[] payload, bool retain, CancellationToken ct)
    {
        using var activity = Publishing(topic);
        await SendAsync(topic, payload, retain, [], ct);
    }

    /// <summary>
    /// Publishes a command for an agent, signed now with the house's key: a command that waited out an outage in
    /// the queue leaves with a fresh issued_at, so the agent's freshness window measures the wire, not the wait.
    /// </summary>
    /// <exception cref="MqttNotConnectedException">Not connected, or the broker refused it: Wolverine retries.</exception>
    public async Task PublishSignedAsync(string topic, byte[] payload, CancellationToken ct)
    {
        using var activity = Publishing(topic);
        var signature = await keys.SignAsync(topic, payload, ct);
        await SendAsync(topic, payload, retain: false, signature, ct);
    }

    /// <summary>
    /// Not connected, refused, or the connection broke while publishing: all three are the broker's trouble, retried as
    /// such. A broken connection throws MQTTnet's exception around the socket's; let through, the socket inside made
    /// Wolverine's store rules take it for the database being away (/health then blamed PostgreSQL for a broker that
    /// was killed mid-publish). The message text is kept, the exception itself is not (its inner socket error would
    /// be read the same way again).
    /// </summary>
    private async Task SendAsync(string topic, byte[] payload, bool retain, IReadOnlyList<KeyValuePair<string, string>> properties, CancellationToken ct)
    {
        MqttPublished published;
        try
        {
            published = await connection.PublishAsync(topic, payload, retain, properties, ct);
        }
        catch (Exception e) when (e is MQTTnet.Exceptions.MqttCommunicationException or MQTTnet.Exceptions.MqttClientDisconnectedException
                                      or MQTTnet.Exceptions.MqttClientNotConnectedException)
        {
            throw new MqttNotConnectedException($"{topic} was not published: the connection to the broker broke ({e.Message})");
        }

        if (published is { Taken: false, Why: var why })
        {
            throw new MqttNotConnectedException(why ?? $"{topic} was not published");
        }
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
