using Marten;
using NodaTime;
using Presence.Domain.House;
using Presence.Domain.Users;
using Wolverine;

namespace Presence.Server.Users;

/// <summary>A settling wait ran out (scheduled when the decider recorded SettlingStarted).</summary>
public sealed record SettleUser(string User, string SettleId);

public static class SettleUserHandler
{
    public static async Task<OutgoingMessages> Handle(SettleUser message, IDocumentSession session, HousePolicy policy, IClock clock, CancellationToken ct)
    {
        if (policy.User(message.User) is null)
        {
            return []; // the user left the house file while the wait ran
        }

        var input = new Settle
        {
            User = message.User,
            SettleId = message.SettleId,
            House = await UserSagaRunner.HouseAsync(session, policy, ct),
            Seed = Guid.NewGuid(),
        };
        return await UserSagaRunner.RunAsync(session, policy, input, clock.GetCurrentInstant(), ct);
    }
}
