using Marten;
using NodaTime;
using Presence.Domain.House;
using Presence.Domain.Users;
using Wolverine;

namespace Presence.Server.Users;

/// <summary>A settling wait ran out (scheduled when the decider recorded SettlingStarted), due at <paramref name="DueAt"/>.</summary>
public sealed record SettleUser(string User, string SettleId, Instant? DueAt = null);

/// <summary>
/// Hands a settling wait that ran out to the user's saga. Idempotent by construction: the saga acts only on the wait
/// it still holds, so a late, repeated or superseded one (the user moved on, the move happened) does nothing.
/// </summary>
public static class SettleUserHandler
{
    public static async Task<OutgoingMessages> Handle(SettleUser message, IDocumentSession session, HousePolicy policy, IClock clock, ServerNode node, CancellationToken ct) =>
        UserSagaRunner.WaitTheRest(message, message.DueAt, clock)
        ?? await UserSagaRunner.ForUserAsync(session, policy, clock, node, message.User,
            (user, house, seed) => new Settle { User = user, House = house, Seed = seed, SettleId = message.SettleId }, ct);
}
