using Marten;
using NodaTime;
using Presence.Domain.Audit;
using Presence.Domain.House;
using Presence.Domain.Hosts;
using Presence.Domain.Migration;
using Presence.Domain.Placement;
using Presence.Domain.Signals;
using Presence.Domain.Users;
using Presence.Server.Audit;
using Presence.Server.Migration;
using Presence.Server.Placement;
using Presence.Server.Telemetry;
using Wolverine;

namespace Presence.Server.Users;

/// <summary>One user's input, made by a handler from its message and the house and fresh seed the runner hands it.</summary>
public delegate UserInput InputFor(string user, HouseSnapshot house, Guid seed);

/// <summary>
/// The one path from a message to the sagas it concerns: read the clock once, load the house once, give each user's
/// input a fresh seed, ask the decider, append what it decided with its audit stamp, and queue the agent commands,
/// waits and state updates those events imply. The queued messages leave only after the transaction commits
/// (Wolverine's outbox). A user no longer in the house file is not decided for: a scheduled wait or timeout may
/// outlive its user.
/// </summary>
public static class UserSagaRunner
{
    /// <summary>A message about one user.</summary>
    public static async Task<OutgoingMessages> ForUserAsync(
        IDocumentSession session, HousePolicy policy, IClock clock, ServerNode node, string user, InputFor input, CancellationToken ct)
    {
        if (policy.User(user) is null)
        {
            return [];
        }

        return await RunAsync(session, policy, clock, node, await HouseReads.ReadAsync(session, policy, ct), [user], input, ct);
    }

    /// <summary>
    /// A person's evidence that may concern others too (sitting down at a console: <see cref="HostNews.SeatNews"/>),
    /// for those others first and then the person, in one transaction, so the commands leave in that order.
    /// </summary>
    public static async Task<OutgoingMessages> ForSeatAsync(
        IDocumentSession session, HousePolicy policy, IClock clock, ServerNode node, Evidence evidence, InputFor input, CancellationToken ct)
    {
        var sagas = HostNews.SeatSharedBy(evidence) is { } seat ? await SagaIndex.InvolvingAsync(session, seat, [], ct) : [];
        var users = HostNews.SeatNews(evidence, policy, sagas).Where(u => policy.User(u) is not null).ToList();
        return await RunAsync(session, policy, clock, node, await HouseReads.ReadAsync(session, policy, ct), users, input, ct);
    }

    /// <summary>
    /// News about one host (already appended to its stream in this session), for every user it concerns
    /// (<see cref="HostNews.Concerns"/>) or, with <paramref name="onlyWaitingOnIt"/>, only those waiting on its agent.
    /// <paramref name="changed"/> is the host as its news left it: its projection is written only on commit.
    /// </summary>
    public static async Task<OutgoingMessages> ForHostAsync(
        IDocumentSession session, HousePolicy policy, IClock clock, ServerNode node, string host, InputFor input, CancellationToken ct,
        HostState? changed = null, bool onlyWaitingOnIt = false)
    {
        var house = await HouseReads.ReadAsync(session, policy, ct, changed);

        // Only the sagas the rules below may pick: those involved with the host, and those of users whose VM the house
        // shows running there (who may have no saga yet). Any other saga is concerned by neither rule.
        var sagas = await SagaIndex.InvolvingAsync(session, host, onlyWaitingOnIt ? [] : HostNews.RunningOn(host, policy, house), ct);
        var users = onlyWaitingOnIt ? HostNews.WaitingOn(host, policy, sagas) : HostNews.Concerns(host, policy, sagas, house);
        return await RunAsync(session, policy, clock, node, house, users, input, ct);
    }

    /// <summary>
    /// A host's new inventory, for the users whose seat there still shows their VM from where it ran before it moved
    /// there (<see cref="HostNews.AwaitingLocalDisplay"/>): it may now report the VM's own display address. Every
    /// agent's inventory comes this way, so only sagas showing something on that host and running there are read,
    /// found through the index of sagas involved with it.
    /// </summary>
    public static async Task<OutgoingMessages> InventoryChangedAsync(
        IDocumentSession session, HousePolicy policy, IClock clock, ServerNode node, HostState changed, CancellationToken ct)
    {
        var candidates = await SagaIndex.Involving(session, changed.Name, [])
            .Where(s => s.ShownOn == changed.Name && s.VmHost == changed.Name).ToListAsync(ct);
        var users = HostNews.AwaitingLocalDisplay(changed.Name, policy, candidates);
        if (users.Count == 0)
        {
            return [];
        }

        var house = await HouseReads.ReadAsync(session, policy, ct, changed);
        return await RunAsync(session, policy, clock, node, house, users,
            (user, h, seed) => new ObserveHostChange { User = user, House = h, Seed = seed, Host = changed.Name }, ct);
    }

    /// <summary>A change of a host's agent or maintenance, for the users it concerns.</summary>
    public static Task<OutgoingMessages> HostChangedAsync(
        IDocumentSession session, HousePolicy policy, IClock clock, ServerNode node, HostState changed, CancellationToken ct, bool onlyWaitingOnIt = false) =>
        ForHostAsync(session, policy, clock, node, changed.Name,
            (user, house, seed) => new ObserveHostChange { User = user, House = house, Seed = seed, Host = changed.Name },
            ct, changed, onlyWaitingOnIt);

    private static async Task<OutgoingMessages> RunAsync(
        IDocumentSession session, HousePolicy policy, IClock clock, ServerNode node, HouseSnapshot house, IReadOnlyList<string> users, InputFor input, CancellationToken ct)
    {
        // One instant for the whole message: every user it concerns is decided as of the same moment.
        var now = clock.GetCurrentInstant();
        var outgoing = new OutgoingMessages();
        foreach (var user in users)
        {
            outgoing.AddRange(await DecideAsync(session, policy, node, input(user, house, Guid.NewGuid()), now, ct));
        }

        return outgoing;
    }

    private static async Task<OutgoingMessages> DecideAsync(
        IDocumentSession session, HousePolicy policy, ServerNode node, UserInput input, Instant now, CancellationToken ct)
    {
        var stream = await SagaStreams.FetchAsync(session, input.User, ct);
        var before = stream.Saga;
        var (events, decided) = PresenceTelemetry.Decide(before, input, now, policy);
        var outgoing = new OutgoingMessages();
        if (events.Count == 0)
        {
            return outgoing;
        }

        var stamp = AuditStamp.For(input, before, events, policy.Version, node.Name);
        var after = decided!;
        stream.Append(session, [.. events.Select(e => Stamped.Event(e, stamp))], after);
        foreach (var command in events.SelectMany(AgentCommands.For))
        {
            outgoing.Add(new SendAgentCommand(command));
        }

        // Each wait goes out twice (see Configuration.ConfigureUsers): an in-memory copy that fires on time and a durable
        // one that survives a restart and otherwise arrives after the saga dropped the wait. Scheduled as a delay from
        // the decider's `now`, because Wolverine counts on the wall clock while the decider's time comes from the
        // injected IClock.
        foreach (var settling in events.OfType<SettlingStarted>())
        {
            Schedule(outgoing, new SettleUser(input.User, settling.SettleId, settling.DueAt), Wait(settling.DueAt, now), durable: true);
        }

        foreach (var timeout in events.OfType<PhaseTimeoutScheduled>())
        {
            Schedule(outgoing, new PhaseTimeoutDue(input.User, timeout.MoveId, timeout.Phase, timeout.DueAt), Wait(timeout.DueAt, now), durable: Phases.CanHang(timeout.Phase));
        }

        if (policy.User(input.User) is not { } spec || StateChanges(before, after, spec))
        {
            outgoing.Add(new PublishUserState(input.User));
        }

        return outgoing;
    }

    /// <summary>
    /// Whether the retained state topic would say something new. Most evidence (idle, Wi-Fi, a battery's level) only
    /// records what was seen: re-publishing an unchanged state cost each such signal a durable envelope, a second
    /// saga read and a commit (issue 11 §6). A first saga is always published.
    /// </summary>
    private static bool StateChanges(UserSaga? before, UserSaga after, UserSpec user) =>
        before is null || PublishUserStateHandler.ToPayload(before, user) != PublishUserStateHandler.ToPayload(after, user);

    private static void Schedule<T>(OutgoingMessages outgoing, T message, TimeSpan wait, bool durable) where T : notnull
    {
        outgoing.ToEndpoint(message, Configuration.OnTimeQueue, new DeliveryOptions { ScheduleDelay = wait });
        if (durable)
        {
            outgoing.Delay(message, wait + Configuration.BackstopAfter);
        }
    }

    /// <summary>
    /// A wait or timeout whose on-time copy came before it was due waits the rest on the same queue, and the saga is not
    /// touched (the decider would ignore it: UserDecider.NotYetDue). Wolverine's in-memory copy waits with Task.Delay,
    /// which here fired early for 76 of 300 delays, by up to 4.4 ms (measured on this box, .NET 10). Null when it is
    /// due, or when it carries no due time (one scheduled before it did).
    /// </summary>
    public static OutgoingMessages? WaitTheRest<T>(T message, Instant? due, IClock clock) where T : notnull
    {
        var now = clock.GetCurrentInstant();
        if (due is not { } at || at <= now)
        {
            return null;
        }

        var outgoing = new OutgoingMessages();
        outgoing.ToEndpoint(message, Configuration.OnTimeQueue, new DeliveryOptions { ScheduleDelay = Wait(at, now) });
        return outgoing;
    }

    /// <summary>The delay until <paramref name="due"/>, rounded up to whole milliseconds plus one (timers count whole ones).</summary>
    private static TimeSpan Wait(Instant due, Instant now) =>
        due > now ? TimeSpan.FromMilliseconds(Math.Ceiling((due - now).TotalMilliseconds) + 1) : TimeSpan.Zero;
}
