using Presence.Domain.Users;
using NodaTime;
using Presence.Domain.House;
using Presence.Domain.Signals;
using static Presence.Domain.Signals.EvidenceDetails;

namespace Presence.Domain.Seating;

/// <summary>The decider's belief about which host a user sits at changed. Seat null: at none of them.</summary>
public sealed record SeatChanged(
    string User,
    string? Seat,
    string? PreviousSeat,
    double Confidence,
    IReadOnlyList<string> EvidenceIds,
    Instant At) : IUserEvent;

public sealed record SeatBelief(string? Seat, double Confidence, IReadOnlyList<string> EvidenceIds);

/// <summary>
/// Infers the seat from evidence. A console login, unlock or activity puts the user at that host; a logout or lock
/// at the seat they hold takes them off it, and so does idling there past the policy's IdleAway. A remote session
/// never moves the seat: the person is elsewhere.
/// </summary>
public static class SeatInference
{
    public static SeatBelief? Infer(SeatBelief current, Evidence evidence) => Infer(current, evidence, new PolicySettings());

    public static SeatBelief? Infer(SeatBelief current, Evidence evidence, PolicySettings settings)
    {
        if (evidence.Kind == EvidenceKind.Idle)
        {
            var away = settings.IdleAway > Duration.Zero && current.Seat == evidence.Host
                && long.TryParse(evidence.Detail(Idle.Seconds), out var idle) && Duration.FromSeconds(idle) >= settings.IdleAway;
            return away ? new SeatBelief(null, 0.7, [evidence.Id]) : null;
        }

        if (evidence.Kind is EvidenceKind.Room or EvidenceKind.Zone)
        {
            return Whereabouts(current, evidence);
        }

        if (evidence.Kind != EvidenceKind.Session || evidence.Detail(Session.Seat) == Session.Remote)
        {
            return null;
        }

        // Relayed evidence (Home Assistant's session sensor) is capped below certain: it waits the display's
        // hold-down and never moves a person off a seat a console login gave them (EvidenceStrength).
        var sure = EvidenceStrength.Capped(evidence, EvidenceStrength.CertainConfidence);
        var belief = evidence.Detail(Session.State) switch
        {
            Session.Login or Session.Unlock => new SeatBelief(evidence.Host, sure, [evidence.Id]),
            Session.Active => new SeatBelief(evidence.Host, EvidenceStrength.Capped(evidence, 0.9), [evidence.Id]),
            Session.Logout or Session.Lock when current.Seat == evidence.Host => new SeatBelief(null, sure, [evidence.Id]),
            _ => null,
        };
        return belief is not null && EvidenceStrength.MayReplace(current, belief) ? belief : null;
    }

    /// <summary>
    /// A room sensor or Home Assistant's person: a room with a computer (its Host) is a guess that the person sits
    /// there; a room without one, not_home or another zone is a guess that they sit nowhere, which clears only a
    /// guessed seat. Home (a zone) says nothing about which computer.
    /// </summary>
    private static SeatBelief? Whereabouts(SeatBelief current, Evidence evidence)
    {
        if (evidence.Kind == EvidenceKind.Room && evidence.Host.Length > 0)
        {
            var near = new SeatBelief(evidence.Host, EvidenceStrength.RoomConfidence, [evidence.Id]);
            return current.Seat != evidence.Host && EvidenceStrength.MayReplace(current, near) ? near : null;
        }

        var elsewhere = evidence.Kind == EvidenceKind.Room || evidence.Detail(Zone.Name) != Zone.Home;
        return elsewhere && EvidenceStrength.GuessMayClear(current)
            ? new SeatBelief(null, EvidenceStrength.RoomConfidence, [evidence.Id])
            : null;
    }

    /// <summary>A person at the computer's own console logged in, unlocked or is active there: the screen is theirs.</summary>
    public static bool SitsDown(Evidence evidence) =>
        evidence.Kind == EvidenceKind.Session
        && evidence.Detail(Session.Seat) != Session.Remote
        && evidence.Detail(Session.State) is Session.Login or Session.Unlock or Session.Active;

    /// <summary>
    /// How the person left the computer's screen, in words ("logged out"), when that takes their desktop off it: a
    /// console logout always, a lock only where the house says so (<see cref="PolicySettings.DetachOnLock"/>).
    /// </summary>
    public static string? LeavesTheScreen(Evidence evidence, PolicySettings settings) =>
        evidence.Kind != EvidenceKind.Session || evidence.Detail(Session.Seat) == Session.Remote ? null
        : evidence.Detail(Session.State) switch
        {
            Session.Logout => "logged out",
            Session.Lock when settings.DetachOnLock => "locked the screen",
            _ => null,
        };
}
