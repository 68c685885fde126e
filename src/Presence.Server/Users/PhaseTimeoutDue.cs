using Marten;
using NodaTime;
using Presence.Domain.House;
using Presence.Domain.Users;
using Wolverine;

namespace Presence.Server.Users;

/// <summary>A phase's time ran out (scheduled when the decider recorded PhaseTimeoutScheduled).</summary>
public sealed record PhaseTimeoutDue(string User, string MoveId, string Phase);

public static class PhaseTimeoutDueHandler
{
    public static async Task<OutgoingMessages> Handle(PhaseTimeoutDue message, IDocumentSession session, HousePolicy policy, IClock clock, CancellationToken ct)
    {
        if (policy.User(message.User) is null)
        {
            return []; // the user left the house file while the phase ran
        }

        var input = new CheckTimeout
        {
            User = message.User,
            MoveId = message.MoveId,
            Phase = message.Phase,
            House = await UserSagaRunner.HouseAsync(session, policy, ct),
            Seed = Guid.NewGuid(),
        };
        return await UserSagaRunner.RunAsync(session, policy, input, clock.GetCurrentInstant(), ct);
    }
}
