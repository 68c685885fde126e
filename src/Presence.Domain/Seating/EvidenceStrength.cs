using NodaTime;
using Presence.Domain.House;
using Presence.Domain.Placement;

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

    public static Strength Of(double confidence) => confidence >= CertainConfidence ? Strength.Certain : Strength.Weak;

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
