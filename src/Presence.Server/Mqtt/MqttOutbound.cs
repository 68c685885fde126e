using Microsoft.Extensions.Options;
using Presence.Contracts.Wire;
using Presence.Server.Configuration;

namespace Presence.Server.Mqtt;

/// <summary>
/// The outgoing half of the bridge: its own connection, so publishing never waits behind the inbound handler.
/// Only Wolverine's durable queue calls it, after the transaction that decided to send has committed.
/// </summary>
public sealed class MqttOutbound(IOptions<MqttOptions> options, ILogger<MqttOutbound> logger) : BackgroundService
{
    /// <summary>The durable local queue whose messages this publishes, one at a time and in order.</summary>
    public const string Queue = "mqtt-out";

    private readonly MqttConnection connection = new("out", options.Value, logger);

    public Topics Topics { get; } = new(options.Value.TopicRoot);

    public Task Connected => connection.Connected;

    public Task PublishAsync(string topic, byte[] payload, bool retain, CancellationToken ct) =>
        connection.PublishAsync(topic, payload, retain, ct);

    protected override Task ExecuteAsync(CancellationToken stoppingToken) => connection.RunAsync(stoppingToken);

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        await connection.DisposeAsync();
    }
}
