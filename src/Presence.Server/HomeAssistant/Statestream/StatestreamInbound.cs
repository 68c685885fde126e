using System.Collections.Concurrent;
using System.Text;
using NodaTime;
using Presence.Domain.House;
using Presence.Server.Mqtt;

namespace Presence.Server.HomeAssistant.Statestream;

/// <summary>
/// The bridge's door for statestream topics: a mapped entity's state that can be read goes on to Wolverine; one that
/// cannot (not UTF-8, a state no mapping knows, an entity nobody mapped) is reported on presence/errors once per
/// entity, not once per message: HA republishes a state on every attribute change, and a sensor stuck on a word
/// Presence does not read would otherwise flood the errors. Once the entity says something readable again, its next
/// problem is reported again.
/// </summary>
public sealed class StatestreamInbound(StatestreamMap map, HousePolicy policy, Rejections rejections, IClock clock)
{
    private readonly ConcurrentDictionary<string, string> reported = new();

    public IReadOnlyList<string> Subscriptions => map.Subscriptions;

    public bool Owns(string topic) => map.IsUnderBase(topic);

    /// <summary>The message for Wolverine, or null when there is nothing to hand over (reported, or HA's "unknown").</summary>
    public async Task<StatestreamArrived?> ReadAsync(string topic, byte[] payload, CancellationToken ct)
    {
        var entity = map.Entity(topic);
        if (entity is null)
        {
            await ReportOnceAsync(topic, map.EntityOf(topic),
                $"{map.EntityOf(topic)} is not mapped in HomeAssistant:Statestream:Entities (only its entities' {map.BaseTopic}/<domain>/<object_id>/state topics are read)", ct);
            return null;
        }

        string state;
        try
        {
            state = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(payload);
        }
        catch (DecoderFallbackException)
        {
            await ReportOnceAsync(topic, entity.Entity, $"state of {entity.Entity} is not UTF-8 text", ct);
            return null;
        }

        switch (StatestreamEvidence.Read(entity, state, policy, map.Rooms))
        {
            case StatestreamReading.Unreadable bad:
                await ReportOnceAsync(topic, entity.Entity, bad.Reason, ct);
                return null;
            case StatestreamReading.Nothing:
                return null;
            default:
                reported.TryRemove(entity.Entity, out _);
                return new StatestreamArrived(topic, entity.Entity, state, clock.GetCurrentInstant());
        }
    }

    private Task ReportOnceAsync(string topic, string entity, string error, CancellationToken ct) =>
        reported.TryAdd(entity, error) ? rejections.RejectAsync(topic, error, ct) : Task.CompletedTask;
}
