using System.Collections.Concurrent;
using System.Reflection;
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
    /// <summary>
    /// One <c>Event&lt;T&gt;</c> constructor per event type, made once: <c>MakeGenericType</c> and
    /// <c>Activator.CreateInstance</c> on every event were 2.4 % of the server's CPU in a burst of idle signals
    /// (perf, docs/benchmarks.md).
    /// </summary>
    private static readonly ConcurrentDictionary<Type, Func<object, IEvent>> Factories = new();

    private static Func<object, IEvent> MakeFactory(Type type) =>
        typeof(Stamped).GetMethod(nameof(Create), BindingFlags.NonPublic | BindingFlags.Static)!
            .MakeGenericMethod(type).CreateDelegate<Func<object, IEvent>>();

    private static IEvent Create<T>(object data) where T : notnull => new Event<T>((T)data);

    /// <summary>An event the decider just decided, with the metadata <see cref="AuditStamp.For"/> chose for it.</summary>
    public static IEvent Event(object data, AuditStamp stamp) => Event(data, stamp.CorrelationId, stamp.CausationId, stamp.Headers);

    public static IEvent Event(object data, string? correlationId, string? causationId, IEnumerable<KeyValuePair<string, string>> headers)
    {
        var e = Factories.GetOrAdd(data.GetType(), MakeFactory)(data);
        e.CorrelationId = correlationId;
        e.CausationId = causationId;
        foreach (var (name, value) in headers)
        {
            e.SetHeader(name, value);
        }

        return e;
    }
}
