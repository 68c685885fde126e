using NodaTime;
using Presence.Domain.Audit;
using Presence.Domain.House;
using Presence.Domain.Signals;
using Presence.Domain.Users;

namespace Presence.Domain.Replay;

/// <summary>
/// Counterfactual replay: decides a user's recorded inputs again, under the same or other settings, and sets what
/// would be decided beside what was. The world's inputs (signals and requests, what the house looked like) come
/// from the history; what followed from the decisions (agents' answers, waits and timeouts running out) follows the
/// replay's own decisions: a recorded answer is fed only to a command the replay also sent, and a command the
/// recording never sent is assumed to succeed in its estimated time.
/// </summary>
public static partial class Replayer
{
    /// <summary>What an assumed agent takes to get a target ready or show a display.</summary>
    private static readonly Duration QuickStep = Duration.FromSeconds(1);

    /// <summary>A move with no estimate (never the case for one this decider made) is assumed to take this.</summary>
    private static readonly Duration DefaultMove = Duration.FromSeconds(10);

    public static ReplayReport Replay(IReadOnlyList<Recorded> history, HousePolicy policy, Instant? from = null, Instant? to = null)
    {
        var user = history.Select(r => (r.Data as IUserEvent)?.User).FirstOrDefault(u => u is not null)
            ?? throw new ArgumentException("the history holds no user events", nameof(history));
        if (policy.User(user) is null)
        {
            throw new ArgumentException($"user '{user}' is not in the house being replayed", nameof(policy));
        }

        if (from is { } f && to is { } t && t < f)
        {
            throw new ArgumentException($"--to ({t}) is before --from ({f})", nameof(to));
        }

        var calls = Calls(history);
        var window = calls.Where(c => (from is null || c.Now >= from) && (to is null || c.Now <= to)).ToList();
        var start = window.Count == 0 ? history.Count : window[0].FirstEvent;
        var run = new Run(user, policy, history, start);

        foreach (var call in window)
        {
            run.FireDue(call.Now, inclusive: false);
            run.Feed(call);
        }

        run.FireDue(to ?? Instant.MaxValue, inclusive: true);
        return new ReplayReport(
            user,
            RecordedPolicy(history),
            policy.Version,
            from,
            to,
            run.Steps,
            run.Events);
    }

    /// <summary>The version of the settings the history was last decided under (the newest record that says).</summary>
    private static string? RecordedPolicy(IReadOnlyList<Recorded> history)
    {
        for (var i = history.Count - 1; i >= 0; i--)
        {
            if (history[i].Header("policy_version") is { } version)
            {
                return version;
            }
        }

        return null;
    }

    /// <summary>One call of the decider as the history shows it: the input record and everything it caused.</summary>
    public sealed record Call(int FirstEvent, int LastEvent, Instant Now, IDomainEvent Input, HouseSnapshot House, IReadOnlyList<IDomainEvent> Events);

    /// <summary>
    /// Cuts the history into decider calls. A call's events start with the enrolment and house it recorded (when they
    /// changed), then the input record, then what the decider made of it. A house recorded with no input record after
    /// it is a call too: a host changed and the saga only took note of the house.
    /// </summary>
    public static IReadOnlyList<Call> Calls(IReadOnlyList<Recorded> history)
    {
        var calls = new List<Call>();
        var house = HouseSnapshot.Empty;
        var events = new List<IDomainEvent>();
        var first = 0;
        IDomainEvent? input = null;
        IUserEvent? observed = null; // the house recorded for this call: HouseObserved (old streams) or HouseChanged

        void Close(int last)
        {
            if ((input ?? observed) is { } what)
            {
                calls.Add(new Call(first, last, NowOf(what), what, house, events.ToArray()));
            }

            events.Clear();
            input = null;
            observed = null;
            first = last + 1;
        }

        for (var i = 0; i < history.Count; i++)
        {
            var e = history[i].Data;
            var startsAnother = e switch
            {
                UserEnrolled => events.Count > 0,
                HouseObserved or HouseChanged => input is not null || observed is not null,
                // A house recorded at another moment than the input was a call of its own.
                IUserInputRecord => input is not null || (observed is not null && NowOf(observed) != NowOf(e)),
                _ => false,
            };
            if (startsAnother)
            {
                Close(i - 1);
            }

            if (e is HouseObserved or HouseChanged)
            {
                observed = (IUserEvent)e;
                house = HouseChanged.Fold(house, e);
            }
            else if (e is IUserInputRecord)
            {
                input = e;
            }

            events.Add(e);
        }

        Close(history.Count - 1);
        return calls;
    }

    private static Instant NowOf(IDomainEvent input) => input is SignalRecorded s ? s.ReceivedAt ?? s.At : input.At;
}
