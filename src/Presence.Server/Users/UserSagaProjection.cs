using JasperFx.Events;
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
    public UserSagaProjection()
    {
        // Explicit Evolve sees every event unless told otherwise; host streams are not users.
        foreach (var type in UserDecider.EventTypes)
        {
            IncludeType(type);
        }
    }

    public override UserSaga Evolve(UserSaga? snapshot, string id, IEvent e) =>
        UserDecider.Evolve(snapshot ?? UserSaga.Start(id, null), e.Data);
}
