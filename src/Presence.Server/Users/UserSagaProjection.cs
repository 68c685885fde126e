using System.Runtime.CompilerServices;
using JasperFx.Events;
using JasperFx.Events.Daemon;
using Marten.Events.Aggregation;
using Presence.Domain.Users;

namespace Presence.Server.Users;

/// <summary>
/// Keeps each user's saga as a document updated in the same transaction as the events (inline), so handlers
/// fetch it in one read and the state topic and dashboard read it instead of the raw stream. The fold itself is
/// the domain's <see cref="UserDecider.Evolve"/>; Marten only stores the result.
/// </summary>
public partial class UserSagaProjection : SingleStreamProjection<UserSaga, string>
{
    /// <summary>
    /// The saga a session's decisions left (<see cref="SagaStream.Append"/>), by the last event they appended: the
    /// decider folds each event as it emits it (UserDecider.DecideAndFold), and folding them all again at commit was
    /// the same work twice, a 500-host house's whole facts included when a person first meets it. Taken only when the
    /// commit folds exactly those events onto exactly the saga the decisions started from; anything else is folded.
    /// Weak keys: an entry goes with its events.
    /// </summary>
    private static readonly ConditionalWeakTable<object, Decided> Folded = [];

    public UserSagaProjection()
    {
        // An explicit fold sees every event unless told otherwise; host streams are not users.
        foreach (var type in UserDecider.EventTypes)
        {
            IncludeType(type);
        }
    }

    /// <summary>
    /// Remembers that <paramref name="events"/> events, the last <paramref name="last"/>, take <paramref name="from"/>
    /// to <paramref name="after"/>.
    /// </summary>
    internal static void Remember(object last, UserSaga? from, UserSaga after, int events) =>
        Folded.AddOrUpdate(last, new Decided(from, after, events));

    // Every fold of a user's stream comes here (inline at commit, and live): Marten calls DetermineAction, when it is
    // overridden, in place of Evolve.
    public override (UserSaga?, ActionType) DetermineAction(UserSaga? snapshot, string identity, IReadOnlyList<IEvent> events)
    {
        if (events.Count == 0)
        {
            return (snapshot, snapshot is null ? ActionType.Nothing : ActionType.Store);
        }

        // A new stream's first decision started from UserSaga.Start(user, vm), the fold below from Start(user, null):
        // its first event, UserEnrolled, leaves both the same saga.
        if (Folded.TryGetValue(events[^1].Data, out var decided)
            && ReferenceEquals(decided.From, snapshot) && decided.Events == events.Count)
        {
            return (decided.After, ActionType.Store);
        }

        var saga = snapshot ?? UserSaga.Start(identity, null);
        for (var i = 0; i < events.Count; i++)
        {
            saga = UserDecider.Evolve(saga, events[i].Data);
        }

        return (saga, ActionType.Store);
    }

    private sealed record Decided(UserSaga? From, UserSaga After, int Events);
}
