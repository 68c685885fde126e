using Marten;
using NodaTime;
using Presence.Domain.House;
using Presence.Domain.Hosts;
using Presence.Domain.Migration;
using Presence.Domain.Users;
using Presence.Server.Migration;
using Presence.Server.Placement;
using Wolverine;

namespace Presence.Server.Users;

/// <summary>
/// The whole of what a handler does with a user's saga: load the stream and the house, ask the decider, append
/// what it decided, and queue the agent commands and the state update those events imply. The queued messages
/// leave only after the transaction commits (Wolverine's outbox).
/// </summary>
public static class UserSagaRunner
{
    public static async Task<OutgoingMessages> RunAsync(
        IDocumentSession session, HousePolicy policy, UserInput input, Instant now, CancellationToken ct)
    {
        var stream = await session.Events.FetchForWriting<UserSaga>(input.User, ct);
        var events = UserDecider.Decide(stream.Aggregate, input, now, policy);
        var outgoing = new OutgoingMessages();
        if (events.Count == 0)
        {
            return outgoing;
        }

        stream.AppendMany(events);
        foreach (var command in events.SelectMany(AgentCommands.For))
        {
            outgoing.Add(new SendAgentCommand(command));
        }

        outgoing.Add(new PublishUserState(input.User));
        return outgoing;
    }

    /// <summary>The configured hosts as their agents last described them; a host never heard from is offline.</summary>
    public static async Task<HouseSnapshot> HouseAsync(IQuerySession session, HousePolicy policy, CancellationToken ct)
    {
        var known = await session.Query<HostState>().ToListAsync(ct);
        var byName = known.ToDictionary(h => h.Name);
        return new HouseSnapshot(policy.Hosts
            .Select(h => byName.TryGetValue(h.Name, out var host) ? host.ToFacts() : HostFacts.Unknown(h.Name))
            .ToList()).Normalised();
    }
}
