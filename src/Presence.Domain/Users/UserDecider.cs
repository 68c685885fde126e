using NodaTime;
using Presence.Domain.Audit;
using Presence.Domain.House;
using Presence.Domain.Migration;
using Presence.Domain.Placement;
using Presence.Domain.Seating;
using Presence.Domain.Signals;

namespace Presence.Domain.Users;

/// <summary>
/// The heart of Presence: <see cref="Decide"/> turns one input into events, <see cref="Evolve"/> folds an event into
/// the saga. No clock, no I/O: time and the house's settings are arguments, so the same stream always replays to
/// the same decisions. Its parts live beside this file, one job each: Seating (evidence moves the seat, or the laptop
/// leaves), Settling (the hold-down), Placement (where the VM should be: hard filter, benefit, soft block, mode),
/// Gating (automation level, and the commands that carry a decision out), Requests, AgentReports, Timeouts,
/// HostChanges (agents lost and back), Maintenance, Estimates, Reasons and Evolve.
/// </summary>
public static partial class UserDecider
{
    /// <summary>
    /// Every event a user's stream can hold: every <see cref="IUserEvent"/>. Stores use it to tell user streams from
    /// host streams; a new event joins by implementing the interface.
    /// </summary>
    public static IReadOnlyList<Type> EventTypes { get; } = Implementing(typeof(IUserEvent));

    /// <summary>The events that record what the decider was asked (not what it decided): replay feeds them back in.</summary>
    public static IReadOnlyList<Type> InputTypes { get; } = Implementing(typeof(IUserInputRecord));

    private static Type[] Implementing(Type family) =>
        [.. family.Assembly.GetTypes()
            .Where(t => t is { IsClass: true, IsAbstract: false } && family.IsAssignableFrom(t))
            .OrderBy(t => t.Name, StringComparer.Ordinal)];

    public static IReadOnlyList<IUserEvent> Decide(UserSaga? state, UserInput input, Instant now, HousePolicy policy) =>
        DecideAndFold(state, input, now, policy).Events;

    /// <summary>
    /// As <see cref="Decide"/>, with the saga its events leave: the decider folds each event as it emits it (Evolve), so
    /// a caller that keeps the saga (the replayer) takes it from here instead of folding every event a second time.
    /// With no events, the saga as it was.
    /// </summary>
    public static (IReadOnlyList<IUserEvent> Events, UserSaga? After) DecideAndFold(UserSaga? state, UserInput input, Instant now, HousePolicy policy)
    {
        var user = policy.User(input.User)
            ?? throw new ArgumentException($"user '{input.User}' is not in the house", nameof(input));
        if (NotYetDue(state, input, now))
        {
            return ([], state);
        }

        var ctx = new Context(state ?? UserSaga.Start(user.Name, user.Vm), user, policy, input.House.Normalised(), new Ids(input.Seed), now);

        var newVm = state is not null && state.Vm != user.Vm;
        if (state is null || newVm)
        {
            ctx.Emit(new UserEnrolled(user.Name, user.Vm, user.HomeHost, policy.Version, now));
        }

        // Only what changed is recorded: a house of fifty computers is not copied into the stream at every decision.
        // A new VM is the exception: the saga kept where its old VM ran, not the new one (HouseSeen.Running), so the
        // whole house is recorded once and folded in again.
        var (changed, gone) = ctx.State.HouseSeen.Diff(ctx.House);
        if (newVm)
        {
            changed = [.. ctx.House.Hosts]; // the event's own copy: the caller's house may be one it keeps changing
        }

        if (changed.Count > 0 || gone.Count > 0)
        {
            ctx.Emit(new HouseChanged(user.Name, changed, gone, now));
        }

        // Non-evidence inputs are recorded before the decider acts on them, and kept only if something changed (below).
        var record = Record(input, now);
        if (record is not null)
        {
            ctx.Emit(record);
        }

        switch (input)
        {
            case ObserveEvidence { Evidence: { Kind: EvidenceKind.Request } request }:
                ctx.Emit(new SignalRecorded(user.Name, request, request.At, now, input.Seed));
                OnRequest(ctx, request);
                break;
            case ObserveEvidence { Evidence: var evidence }:
                // Relayed evidence (Home Assistant) carries the time it reached the server, not the computer's own
                // clock: it is never compared with what the computer's agent said (nor counts in its clock, Evolve).
                var late = !EvidenceStrength.Relayed(evidence)
                    && ctx.State.NewestEvidence.TryGetValue(evidence.Host, out var newest) && evidence.At < newest;
                ctx.Emit(new SignalRecorded(user.Name, evidence, evidence.At, now, input.Seed));

                // Evidence older than what the same computer already told us arrived late (a queued emitter): it
                // is kept in the history but cannot override newer evidence. Compared per computer, because two
                // computers' clocks may differ by a few seconds. Someone else's sitting down is acted on even so
                // (see OnSomeoneElse): taking a desktop off a screen is always safe.
                if (!late || evidence.User is { } someone && someone != user.Name)
                {
                    OnEvidence(ctx, evidence);
                }

                break;
            case ObserveAgentReport { Report: var report }:
                OnAgentReport(ctx, report);
                break;
            case Settle settle:
                OnSettle(ctx, settle.SettleId);
                break;
            case ObserveHostChange change:
                OnHostChange(ctx, change.Host);
                break;
            case CheckTimeout timeout:
                OnTimeout(ctx, timeout.MoveId, timeout.Phase);
                break;
        }

        ContinueResume(ctx);
        SwitchToLocal(ctx);

        // An input that changed nothing leaves no trace: a duplicate progress report or a timeout for a phase
        // already over would only clutter the history. One that came with news of the house stays, with its host:
        // replay needs to know which host's change the saga was told of.
        if (record is not null && ctx.Events.Count == 1)
        {
            return ([], state);
        }

        // A wait or timeout that no longer mattered leaves no trace even when the house changed meanwhile: each goes
        // out twice (on time, and a durable backstop that survives a restart), and the copy that arrives after the
        // saga dropped it is no input at all. The house news waits for the next input that matters.
        if (record is SettlingWaitRanOut or PhaseTimeoutRanOut && OnlyHouseNewsBeside(ctx.Events, record))
        {
            return ([], state);
        }

        return (ctx.Events, ctx.State);
    }

    /// <remarks>
    /// A loop of its own, not a lambda over the events: a lambda capturing the record made every call of
    /// <see cref="DecideAndFold"/> allocate its closure on entry, whether it got here or not.
    /// </remarks>
    private static bool OnlyHouseNewsBeside(List<IUserEvent> events, IUserInputRecord record)
    {
        foreach (var e in events)
        {
            if (e is not (HouseObserved or HouseChanged) && !ReferenceEquals(e, record))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// A wait or timeout that came before its due time is no input at all. Timers count whole milliseconds, so an
    /// on-time copy may fire a millisecond early; acted on, the history would hold a wait that ran out before it was
    /// due, which a replay (feeding it when due) cannot reproduce. The saga keeps the wait, and a later copy runs it.
    /// </summary>
    private static bool NotYetDue(UserSaga? state, UserInput input, Instant now) => input switch
    {
        Settle s => state?.Settling is { } settling && settling.SettleId == s.SettleId && now < settling.DueAt,
        CheckTimeout t => state?.Timeout is { } timeout && timeout.MoveId == t.MoveId && timeout.Phase == t.Phase && now < timeout.DueAt,
        _ => false,
    };

    private static IUserInputRecord? Record(UserInput input, Instant now) => input switch
    {
        ObserveAgentReport r => new AgentReported(input.User, r.Report, input.Seed, now),
        Settle s => new SettlingWaitRanOut(input.User, s.SettleId, input.Seed, now),
        CheckTimeout t => new PhaseTimeoutRanOut(input.User, t.MoveId, t.Phase, input.Seed, now),
        ObserveHostChange h => new HostChangeNoticed(input.User, h.Host, input.Seed, now),
        _ => null,
    };

    /// <summary>What one call of Decide works with; Emit folds each event in at once so later steps see it.</summary>
    private sealed class Context(UserSaga state, UserSpec user, HousePolicy policy, HouseSnapshot house, Ids ids, Instant now)
    {
        private int decisions;

        public UserSaga State { get; private set; } = state;
        public UserSpec User { get; } = user;
        public HousePolicy Policy { get; } = policy;
        public PolicySettings Settings => Policy.Settings;
        public HouseSnapshot House { get; } = house;
        public Ids Ids { get; } = ids;
        public Instant Now { get; } = now;
        public List<IUserEvent> Events { get; } = [];
        public VmSpec? Vm => Policy.Vm(User.Vm);
        public int MemoryMb => Vm?.MemoryMb ?? 0;
        public AutomationLevel Automation => AutomationOf(State, User);

        public void Emit(IUserEvent e)
        {
            Events.Add(e);
            State = Evolve(State, e);

            // Every phase a move enters gets its timeout at once, so no path can start a phase that waits forever.
            if (TimeoutFor(this, e) is { } timeout)
            {
                Emit(timeout);
            }
        }

        /// <summary>The first decision keeps the seed's plain decision id; later ones in the same call are numbered.</summary>
        public string NextDecisionId() => decisions++ == 0
            ? Ids.Decision()
            : Ids.Short('d', "decision/", decisions);

        public LocalTime LocalNow =>
            Now.InZone(DateTimeZoneProviders.Tzdb.GetZoneOrNull(Settings.TimeZone) ?? DateTimeZone.Utc).TimeOfDay;

        /// <summary>A copy to think in: what it emits is looked at, and recorded only if adopted.</summary>
        public Context Scratch() => new(State, User, Policy, House, Ids, Now) { decisions = decisions };

        /// <summary>
        /// Takes what a <see cref="Scratch"/> copy of this context (nothing emitted here since) decided as its own.
        /// </summary>
        public void Adopt(Context scratch)
        {
            Events.AddRange(scratch.Events);
            State = scratch.State;
            decisions = scratch.decisions;
        }
    }
}
