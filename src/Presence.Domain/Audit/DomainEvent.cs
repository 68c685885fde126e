using NodaTime;

namespace Presence.Domain.Audit;

/// <summary>
/// Every event says when it happened by the house's clock (domain time), which is what history, time travel and
/// replay go by: storage time differs after an outage, a restart or an import.
/// </summary>
public interface IDomainEvent
{
    Instant At { get; }
}
