using NodaTime;
using Presence.Contracts.Requests;
using Presence.Contracts.Signals;
using Presence.Domain.Migration;
using Presence.Domain.Placement;
using Presence.Domain.Seating;
using Presence.Domain.Signals;
using Presence.Domain.Users;

namespace Presence.Server.Demo;

/// <summary>
/// An event the story waits for in one stream of the store before it goes on, so each step is watched to its end
/// however fast the machine is. It only paces the story: what is printed is whatever the store holds.
/// </summary>
public sealed record Outcome(string Stream, string What, Func<object, bool> Matches)
{
    /// <summary>When one matching event is not enough: decides on all the stream's events since the step began.</summary>
    public Func<IReadOnlyList<object>, bool>? Done { get; init; }

    public bool IsDoneBy(IReadOnlyList<object> events) => Done?.Invoke(events) ?? events.Any(Matches);

    /// <summary>An event of type <typeparamref name="T"/> (that satisfies <paramref name="when"/>) in the user's stream.</summary>
    public static Outcome Of<T>(string user, string what, Func<T, bool>? when = null) =>
        new(user, what, e => e is T t && (when is null || when(t)));

    /// <summary>Any event of the given types in the user's stream: the step is over whichever way it went.</summary>
    public static Outcome AnyOf(string user, string what, params Type[] types) =>
        new(user, what, e => types.Contains(e.GetType()));

    /// <summary>
    /// A move (or freeze, or wake) ended, or was never started. A display shown first while a move waits its
    /// hold-down is not the end: then the step waits for what became of the move.
    /// </summary>
    public static Outcome MoveEnds(string user)
    {
        Type[] moveEnds =
        [
            typeof(MigrationCompleted), typeof(MigrationFailed), typeof(PlacementProposed), typeof(SettlingLapsed), typeof(VmSuspended),
            typeof(SuspendFailed), typeof(VmResumed), typeof(ResumeFailed), typeof(RequestRefused), typeof(MoveSuppressed),
        ];
        var ends = AnyOf(user, $"{user}'s move to end", [.. moveEnds, typeof(DisplayAttached), typeof(DisplayAttachFailed)]);
        return ends with
        {
            Done = events =>
            {
                var waiting = events.ToList().FindLastIndex(e => e is SettlingStarted { Mode: not PlacementMode.AttachDisplay });
                return waiting < 0 ? events.Any(ends.Matches) : events.Skip(waiting + 1).Any(e => moveEnds.Contains(e.GetType()));
            },
        };
    }

    /// <summary>The seat shows the VM (or could not), or the VM came instead.</summary>
    public static Outcome DisplayEnds(string user) => AnyOf(user, $"{user}'s display",
        typeof(DisplayAttached), typeof(DisplayAttachFailed), typeof(MigrationCompleted), typeof(MigrationFailed), typeof(SettlingLapsed));
}

/// <summary>
/// One beat of the story: what to tell the audience, what the house does, what to wait for in the store, and how
/// long to let the audience read afterwards.
/// </summary>
public sealed record Step(string Narration, Func<DemoStage, Task> Act, TimeSpan PauseAfter, IReadOnlyList<Outcome> Until);

/// <summary>
/// The house's story from issue 3 and DESIGN.md, as the MQTT messages its emitters, agents and Home Assistant
/// would send, on a house clock that starts at <see cref="Morning"/>. The steps say what *should* happen; what the
/// decider actually does is only ever read back from the event store.
/// </summary>
public sealed class DemoScript(IReadOnlyList<Step> steps)
{
    /// <summary>When the story's day begins, in the house's time zone (outside quiet hours).</summary>
    public static readonly LocalTime Morning = new(7, 30);

    public IReadOnlyList<Step> Steps { get; } = steps;

    /// <summary>The reading pauses alone; waiting for each step's outcome comes on top.</summary>
    public TimeSpan Length => Steps.Aggregate(TimeSpan.Zero, (sum, s) => sum + s.PauseAfter);

    /// <param name="speed">Divides every reading pause; the waits for outcomes are as long as the house needs.</param>
    public static DemoScript Story(double speed = 1)
    {
        TimeSpan Seconds(double s) => TimeSpan.FromSeconds(s / speed);

        return new DemoScript(
        [
            new Step(
                "07:30, morning. alice logs in at the iMac upstairs. She keeps her desktop local: once she has sat there for the live-migration hold-down, her VM leaves the basement and follows her.",
                s => s.SessionAsync("imac", "alice", SessionState.Login),
                Seconds(2),
                [Outcome.MoveEnds("alice")]),
            new Step(
                "carol logs in at the kids' desktop. She prefers thin-client mode: her VM stays in the basement and the desktop shows it.",
                s => s.SessionAsync("kids", "carol", SessionState.Login),
                Seconds(2),
                [Outcome.DisplayEnds("carol")]),
            new Step(
                "bob, the musician, sits down at the iMac after her: the screen stops showing her desktop first (one person per screen). He prefers thin-client mode, but bob-music is latency-sensitive: shown at once, it then moves to run on the seat.",
                s => s.SessionAsync("imac", "bob", SessionState.Login),
                Seconds(2),
                [Outcome.MoveEnds("bob")]),
            new Step(
                "07:36. alice takes her coffee down to the kids' room and logs in there. Her VM moved minutes ago: against ping-pong, the cooldown keeps it upstairs and the kids' desktop shows it.",
                async s =>
                {
                    await s.ClockToAsync(new LocalTime(7, 36));
                    await s.SessionAsync("kids", "alice", SessionState.Login);
                },
                Seconds(2),
                [Outcome.DisplayEnds("alice")]),
            new Step(
                "She wants it here anyway and asks Home Assistant to move it: a person's request outranks the cooldown.",
                s => s.RequestAsync("alice", RequestAction.Move, "kids"),
                Seconds(2),
                [Outcome.MoveEnds("alice")]),
            new Step(
                "dave logs in at the laptop in the living room; thin client, so the laptop shows his VM.",
                s => s.SessionAsync("laptop", "dave", SessionState.Login),
                Seconds(1.5),
                [Outcome.DisplayEnds("dave")]),
            new Step(
                "dave unplugs the laptop (80 % charged): its agent now reports it on battery, and its emitter sends a power signal.",
                s => s.UnplugAsync("laptop", 80),
                Seconds(1),
                [Outcome.Of<SignalRecorded>("dave", "dave's power signal", r => r.Evidence.Kind == EvidenceKind.Power)]),
            new Step(
                "…and closes the lid to take it to the library: he is leaving the house with it. His VM must be on the laptop before it sleeps, so the laptop stays awake until it has arrived.",
                s => s.LidAsync("laptop", LidState.Closed),
                Seconds(2),
                [Outcome.MoveEnds("dave")]),
            new Step(
                "22:30, evening. alice sits down at the iMac to answer mail. Her VM would follow her, but these are the house's quiet hours: nothing moves across the network, the iMac shows it.",
                async s =>
                {
                    await s.ClockToAsync(new LocalTime(22, 30));
                    await s.SessionAsync("imac", "alice", SessionState.Login);
                },
                Seconds(2),
                [Outcome.DisplayEnds("alice")]),
            new Step(
                "22:50. alice and bob log out upstairs and go to bed; bob-music stays on the iMac.",
                async s =>
                {
                    await s.ClockToAsync(new LocalTime(22, 50));
                    await s.SessionsAsync(SessionState.Logout, ("imac", "alice"), ("imac", "bob"));
                },
                Seconds(1),
                [
                    Outcome.Of<SeatChanged>("alice", "alice off the iMac", c => c.Seat is null),
                    // alice sitting down at the iMac at 22:30 already took the seat from bob (one person per screen).
                    Outcome.Of<SignalRecorded>("bob", "bob's logout", r => r.Evidence.Detail(EvidenceDetails.Session.State) == EvidenceDetails.Session.Logout),
                ]),
            new Step(
                "23:00. Home Assistant puts the iMac into maintenance for a system update. bob is away, so bob-music is frozen to shared storage, to wake wherever he sits down next.",
                async s =>
                {
                    await s.ClockToAsync(new LocalTime(23, 0));
                    await s.MaintenanceAsync("imac", MaintenanceRequest.Switch.On, "system update tonight");
                },
                Seconds(2),
                [Outcome.MoveEnds("bob")]),
            new Step(
                "07:45, next morning. The iMac is still in maintenance; bob logs in at the kids' desktop downstairs, and his frozen VM wakes there.",
                async s =>
                {
                    await s.ClockToAsync(new LocalTime(7, 45));
                    await s.SessionAsync("kids", "bob", SessionState.Login);
                },
                Seconds(1),
                [Outcome.MoveEnds("bob")]),
        ]);
    }
}
