using NodaTime;

namespace Presence.Domain.Audit;

/// <summary>
/// One event of a stream as it was stored, with its audit metadata: the unit of history, whether it comes from
/// the event store or from a recorded history file. <see cref="Version"/> is its position in the stream (from 1).
/// </summary>
/// <param name="CorrelationId">What started the story this event belongs to (a signal, a request, or the decision being carried out).</param>
/// <param name="CausationId">What caused this very step (the input the decider was answering).</param>
/// <param name="Headers">E.g. policy_version and node.</param>
public sealed record Recorded(
    long Version,
    IDomainEvent Data,
    string? CorrelationId,
    string? CausationId,
    IReadOnlyDictionary<string, string> Headers)
{
    /// <summary>When it happened by the house's clock.</summary>
    public Instant At => Data.At;

    public string? Header(string name) => Headers.TryGetValue(name, out var value) ? value : null;
}
