using System.Diagnostics.Metrics;
using NodaTime;
using Presence.Contracts.State;
using Presence.Contracts.Wire;

namespace Presence.Server.Mqtt;

/// <summary>
/// Counts rejected inbound messages and tells everyone why on `presence/errors` (not retained): an emitter's
/// author sees the reason without reading the server's log.
/// </summary>
public sealed class Rejections(MqttOutbound outbound, IClock clock, ILogger<Rejections> logger) : IDisposable
{
    private readonly Meter meter = new("Presence.Mqtt");
    private long count;
    private Counter<long>? counter;

    public long Count => Interlocked.Read(ref count);

    public Task RejectAsync(string topic, string error, CancellationToken ct) => RejectAsync(topic, error, null, ct);

    public async Task RejectAsync(string topic, string error, string? id, CancellationToken ct)
    {
        Interlocked.Increment(ref count);
        (counter ??= meter.CreateCounter<long>("presence.mqtt.rejected", description: "inbound MQTT messages rejected")).Add(1);
        logger.LogWarning("Rejected {Topic}: {Error}", topic, error);
        try
        {
            var payload = ContractJson.Serialize(new ErrorPayload(topic, error, clock.GetCurrentInstant(), id));
            await outbound.PublishAsync(outbound.Topics.Errors, payload, retain: false, ct);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogWarning("Could not publish the rejection of {Topic}: {Error}", topic, e.Message);
        }
    }

    public void Dispose() => meter.Dispose();
}
