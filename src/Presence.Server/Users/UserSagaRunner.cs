using Marten;
using NodaTime;
using Presence.Domain.House;
using Presence.Domain.Hosts;
using Presence.Domain.Migration;
using Presence.Domain.Placement;
using Presence.Domain.Users;
using Presence.Server.Audit;
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

        stream.AppendMany(Stamp(policy, stream.Aggregate, input, events));
        foreach (var command in events.SelectMany(AgentCommands.For))
        {
            outgoing.Add(new SendAgentCommand(command));
        }

        // Settling waits are durable scheduled messages: they survive a restart, and the saga's state decides
        // whether one that arrives late still matters. Scheduled as a delay from the decider's `now`, because
        // Wolverine counts on the wall clock while the decider's time comes from the injected IClock.
        foreach (var settling in events.OfType<SettlingStarted>())
        {
            var wait = settling.DueAt - now;
            outgoing.Delay(new SettleUser(input.User, settling.SettleId), wait > Duration.Zero ? wait.ToTimeSpan() : TimeSpan.Zero);
        }

        // Phase timeouts likewise: durable, and the saga decides whether one arriving after its phase ended matters.
        foreach (var timeout in events.OfType<PhaseTimeoutScheduled>())
        {
            var wait = timeout.DueAt - now;
            outgoing.Delay(new PhaseTimeoutDue(input.User, timeout.MoveId, timeout.Phase), wait > Duration.Zero ? wait.ToTimeSpan() : TimeSpan.Zero);
        }

        outgoing.Add(new PublishUserState(input.User));
        return outgoing;
    }

    /// <summary>
    /// Hands a change on one host (already appended to its stream in this session) to every user it may matter
    /// to: whose VM runs there, was evacuated from there, or waits frozen to wake there.
    /// </summary>
    /// <remarks><paramref name="onlyWaitingOnIt"/>: only users with a command pending on that host (an agent re-announcing itself).</remarks>
    public static async Task<OutgoingMessages> HostChangedAsync(
        IDocumentSession session, HousePolicy policy, HostState changed, Instant now, CancellationToken ct, bool onlyWaitingOnIt = false)
    {
        var house = await HouseAsync(session, policy, ct, changed);
        var outgoing = new OutgoingMessages();
        var users = onlyWaitingOnIt
            ? await WaitingOnAsync(session, policy, changed.Name, ct)
            : await AffectedAsync(session, policy, house, changed.Name, ct);
        foreach (var user in users)
        {
            outgoing.AddRange(await RunAsync(session, policy,
                new ObserveHostChange { User = user, Host = changed.Name, House = house, Seed = Guid.NewGuid() }, now, ct));
        }

        return outgoing;
    }

    /// <summary>
    /// Users a host's news may concern: whose VM runs there (by their saga, or by the agents' inventories for a user
    /// who has no saga yet), who sit there, or whose VM left or waits to wake there. A house has a handful of users,
    /// so filtering here is cheap.
    /// </summary>
    public static async Task<IReadOnlyList<string>> AffectedAsync(
        IQuerySession session, HousePolicy policy, HouseSnapshot house, string host, CancellationToken ct)
    {
        var sagas = (await session.Query<UserSaga>().ToListAsync(ct)).ToDictionary(s => s.Id);
        return policy.Users
            .Where(u => sagas.TryGetValue(u.Name, out var s)
                ? s.VmHost == host || s.Seat == host || s.EvacuatedFrom == host || s.Suspended?.ResumeOn == host
                  || s.Migration?.Source == host || s.Migration?.Target == host || s.Operation?.Host == host
                  || s.PendingDisplay?.Host == host
                : house.Host(host).Runs(u.Vm))
            .Select(u => u.Name)
            .ToList();
    }

    /// <summary>Users whose move waits for an answer from this host's agent.</summary>
    public static async Task<IReadOnlyList<string>> WaitingOnAsync(IQuerySession session, HousePolicy policy, string host, CancellationToken ct) =>
        (await session.Query<UserSaga>().ToListAsync(ct))
            .Where(s => policy.User(s.Id) is not null && (s.Migration?.Sent?.Host == host || s.Operation?.Host == host))
            .Select(s => s.Id)
            .ToList();

    /// <summary>Which server decided: the machine it ran on, so a house that moves its server can tell the eras apart.</summary>
    public static string Node { get; } = Environment.MachineName;

    /// <summary>
    /// Audit metadata on the events about to be stored, on each event rather than the session, because one session
    /// may decide for several users (a host change): the correlation id is what started the story (the signal or
    /// request, also for the agents' answers, waits and timeouts that carry its decision out), the causation id what
    /// caused this very step, and headers name the decision being carried out, the policy version the decider ran
    /// under and the server node.
    /// </summary>
    private static IEnumerable<object> Stamp(HousePolicy policy, UserSaga? before, UserInput input, IReadOnlyList<object> events)
    {
        var decided = events.OfType<PlacementDecided>().FirstOrDefault();
        var cause = input switch
        {
            ObserveEvidence e => e.Evidence.Id,
            ObserveAgentReport r => r.Report.CommandId,
            Settle s => s.SettleId,
            CheckTimeout t => t.MoveId + "/" + t.Phase,
            ObserveHostChange h => HostState.StreamId(h.Host),
            _ => null,
        };
        var decision = decided?.DecisionId ?? (input is ObserveEvidence ? null : before?.CarryingOut);
        var startedBy = input switch
        {
            ObserveEvidence e => e.Evidence.Id,
            Settle when decided is null => before?.Settling?.EvidenceIds.LastOrDefault(),
            _ when decided is not null => decided.EvidenceIds.LastOrDefault(),
            _ => before?.CarryingOutStartedBy,
        };
        var correlation = startedBy ?? decision ?? before?.LastDecision?.Id ?? cause;
        var headers = new Dictionary<string, string> { ["policy_version"] = policy.Version, ["node"] = Node };
        if (decision is not null)
        {
            headers["decision_id"] = decision;
        }

        return events.Select(data => Stamped.Event(data, correlation, cause, headers));
    }

    /// <summary>The configured hosts as their agents last described them; a host never heard from is offline.</summary>
    public static async Task<HouseSnapshot> HouseAsync(IQuerySession session, HousePolicy policy, CancellationToken ct, HostState? changed = null)
    {
        // The projection of a host event appended in this session is only written on commit, so the caller hands
        // the changed host in rather than the decision seeing the house as it was before.
        var known = await session.Query<HostState>().ToListAsync(ct);
        var byName = known.ToDictionary(h => h.Name);
        if (changed is not null)
        {
            byName[changed.Name] = changed;
        }

        return new HouseSnapshot(policy.Hosts
            .Select(h => byName.TryGetValue(h.Name, out var host) ? host.ToFacts() : HostFacts.Unknown(h.Name))
            .ToList()).Normalised();
    }
}
