using Marten;
using NodaTime;
using Presence.Domain.House;
using Presence.Domain.Users;
using Wolverine;

namespace Presence.Server.Users;

/// <summary>A phase's time ran out (scheduled when the decider recorded PhaseTimeoutScheduled), due at <paramref name="DueAt"/>.</summary>
public sealed record PhaseTimeoutDue(string User, string MoveId, string Phase, Instant? DueAt = null);

/// <summary>
/// Hands a phase timeout to the user's saga. Idempotent by construction: the saga compensates only while that phase
/// of that move is still pending, so a timeout arriving after the phase ended, or a second time, does nothing.
/// </summary>
public static class PhaseTimeoutDueHandler
{
    public static async Task<OutgoingMessages> Handle(PhaseTimeoutDue message, IDocumentSession session, HousePolicy policy, IClock clock, ServerNode node, CancellationToken ct) =>
        UserSagaRunner.WaitTheRest(message, message.DueAt, clock)
        ?? await UserSagaRunner.ForUserAsync(session, policy, clock, node, message.User,
            (user, house, seed) => new CheckTimeout { User = user, House = house, Seed = seed, MoveId = message.MoveId, Phase = message.Phase }, ct);
}
