using NodaTime;
using Presence.Domain.House;
using Presence.Domain.Placement;
using Presence.Domain.Signals;
using static Presence.Domain.Signals.EvidenceDetails;

namespace Presence.Domain.Seating;

/// <summary>How sure a piece of evidence makes the decider of where a person sits.</summary>
public enum Strength
{
    /// <summary>A guess: activity in a session, idling, Wi-Fi, a room-presence sensor. It waits, and yields.</summary>
    Weak,

    /// <summary>The person did it at the console: logged in or unlocked (or out, or locked). Acted on at once.</summary>
    Certain,
}

/// <summary>
/// The one home of "evidence strength decides the wait". Certain evidence (a console login or unlock) shows the
/// desktop on that screen at once: no hold-down guards the first pixel. Weak evidence waits the hold-down of what it
/// would do, and never moves a person away from a seat that certain evidence gave them: that takes certain evidence
/// elsewhere, a logout or lock there, or idling there for IdleAway (the computer itself saying nobody is at it). The
/// hold-downs of the expensive actions (a migration, waking a frozen VM) guard them whatever the evidence.
/// </summary>
public static class EvidenceStrength
{
    /// <summary>The confidence certain evidence gives a seat (<see cref="SeatBelief.Confidence"/>).</summary>
    public const double CertainConfidence = 1.0;

    /// <summary>
    /// The most a relayed piece of evidence (Home Assistant's, <see cref="Origin"/>) may make the decider sure of a seat:
    /// as sure as a session's activity, never certain.
    /// </summary>
    public const double RelayedConfidence = 0.9;

    /// <summary>How sure a room-presence sensor (Bluetooth, BLE trilateration) makes the decider: a guess.</summary>
    public const double RoomConfidence = 0.6;

    public static Strength Of(double confidence) => confidence >= CertainConfidence ? Strength.Certain : Strength.Weak;

    /// <summary>
    /// How strong the evidence says it is: weak when its sender marked it so (<see cref="Origin.Strength"/>, everything
    /// Home Assistant relays), else as strong as what it says (a console login is certain).
    /// </summary>
    public static Strength Claimed(Evidence evidence) =>
        evidence.Detail(Origin.Strength) == Origin.Weak ? Strength.Weak : Strength.Certain;

    /// <summary>Whether someone other than a computer's own agent relayed it (<see cref="Origin.Source"/>).</summary>
    public static bool Relayed(Evidence evidence) => evidence.Detail(Origin.Source) is not null;

    /// <summary>The confidence <paramref name="confidence"/> becomes when the evidence may claim no more than it says.</summary>
    public static double Capped(Evidence evidence, double confidence) =>
        Claimed(evidence) == Strength.Weak ? Math.Min(confidence, RelayedConfidence) : confidence;

    /// <summary>
    /// Whether a guess that the person is at no computer (a room sensor in a room without one, Home Assistant's
    /// not_home) may take them off their seat: only off a seat a guess gave them, never off a console login. Idling
    /// is no such guess: it is the computer itself saying nobody touches it.
    /// </summary>
    public static bool GuessMayClear(SeatBelief current) => current.Seat is not null && Of(current.Confidence) == Strength.Weak;

    /// <summary>
    /// Whether someone else sitting down at <paramref name="host"/> takes it from the person whose seat
    /// <paramref name="current"/> is: yes, unless their sitting down is only relayed (weak) and the seat there came
    /// from certain evidence: a relayed unlock never overrides a console login.
    /// </summary>
    public static bool MayTakeSeat(SeatBelief current, Evidence sittingDown, string host) =>
        !(Claimed(sittingDown) == Strength.Weak && current.Seat == host && Of(current.Confidence) == Strength.Certain);

    /// <summary>
    /// Whether a new belief may replace the current one: anything may, except weak evidence that would take the
    /// person from a seat certain evidence gave them to another one.
    /// </summary>
    public static bool MayReplace(SeatBelief current, SeatBelief next) =>
        !(Of(next.Confidence) == Strength.Weak && next.Seat is not null
          && current.Seat is not null && current.Seat != next.Seat && Of(current.Confidence) == Strength.Certain);

    /// <summary>How long a seat must hold before <paramref name="mode"/> is carried out, given how sure the seat is.</summary>
    public static Duration HoldDown(PlacementMode mode, Strength strength, HoldDowns holds) => mode switch
    {
        PlacementMode.AttachDisplay when strength == Strength.Certain => Duration.Zero,
        PlacementMode.AttachDisplay => holds.AttachDisplay,
        PlacementMode.LiveMigration => holds.LiveMigration,
        _ => holds.SuspendResume,
    };
}
