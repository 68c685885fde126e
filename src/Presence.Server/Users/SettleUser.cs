using Marten;
using NodaTime;
using Presence.Domain.House;
using Presence.Domain.Users;
using Wolverine;

namespace Presence.Server.Users;

/// <summary>A settling wait ran out (scheduled when the decider recorded SettlingStarted).</summary>
public sealed record SettleUser(string User, string SettleId);

/// <summary>
/// Hands a settling wait that ran out to the user's saga. Idempotent by construction: the saga acts only on the wait
/// it still holds, so a late, repeated or superseded one (the user moved on, the move happened) does nothing.
/// </summary>
public static class SettleUserHandler
{
    public static Task<OutgoingMessages> Handle(SettleUser message, IDocumentSession session, HousePolicy policy, IClock clock, ServerNode node, CancellationToken ct) =>
        UserSagaRunner.ForUserAsync(session, policy, clock, node, message.User,
            (user, house, seed) => new Settle { User = user, House = house, Seed = seed, SettleId = message.SettleId }, ct);
}
