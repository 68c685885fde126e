using Microsoft.Extensions.Options;
using Presence.Contracts.Mqtt;
using Presence.Contracts.Wire;
using Presence.Server.Configuration;

namespace Presence.Server.Mqtt;

/// <summary>
/// The outgoing half of the bridge: its own connection, so publishing never waits behind the inbound handler.
/// Only Wolverine's durable queue calls it, after the transaction that decided to send has committed.
/// </summary>
public sealed class MqttOutbound(IOptions<MqttOptions> options, ServerSecret secret, ILogger<MqttOutbound> logger) : BackgroundService
{
    /// <summary>The durable local queue whose messages this publishes, one at a time and in order.</summary>
    public const string Queue = "mqtt-out";

    private readonly MqttConnection connection = ServerSession.Connection("out", options.Value, secret, logger);

    public Topics Topics { get; } = new(options.Value.TopicRoot);

    public Task Connected => connection.Connected;

    /// <exception cref="MqttNotConnectedException">Not connected, or the broker refused it: Wolverine retries.</exception>
    public async Task PublishAsync(string topic, byte[] payload, bool retain, CancellationToken ct)
    {
        if (await connection.PublishAsync(topic, payload, retain, ct) is { Taken: false, Why: var why })
        {
            throw new MqttNotConnectedException(why ?? $"{topic} was not published");
        }
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken) => connection.RunAsync(stoppingToken);

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        await connection.DisposeAsync();
    }
}

public sealed class MqttNotConnectedException(string message) : Exception(message);
