using JasperFx.Events;
using Presence.Domain.Audit;

namespace Presence.Server.Audit;

/// <summary>
/// An event to append with its audit metadata already on it. Marten keeps an event's own metadata rather than the
/// session's, so each event can carry its own story even when one session appends for several users, or appends a
/// history recorded elsewhere.
/// </summary>
public static class Stamped
{
    /// <summary>An event the decider just decided, with the metadata <see cref="AuditStamp.For"/> chose for it.</summary>
    public static IEvent Event(object data, AuditStamp stamp) => Event(data, stamp.CorrelationId, stamp.CausationId, stamp.Headers);

    public static IEvent Event(object data, string? correlationId, string? causationId, IEnumerable<KeyValuePair<string, string>> headers)
    {
        var e = (IEvent)Activator.CreateInstance(typeof(Event<>).MakeGenericType(data.GetType()), data)!;
        e.CorrelationId = correlationId;
        e.CausationId = causationId;
        foreach (var (name, value) in headers)
        {
            e.SetHeader(name, value);
        }

        return e;
    }
}
