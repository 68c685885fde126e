using NodaTime;
using Presence.Domain.House;
using Presence.Domain.Migration;
using Presence.Domain.Placement;
using Presence.Domain.Seating;
using Presence.Domain.Signals;
using static Presence.Domain.Signals.EvidenceDetails;
using Presence.Domain.Words;

namespace Presence.Domain.Users;

/// <summary>
/// Evidence moves the seat (<see cref="SeatInference"/>), and a new seat is a placement to consider; a laptop
/// leaving the house with its user is a placement that cannot wait.
/// </summary>
public static partial class UserDecider
{
    /// <summary>How far two computers' clocks may disagree before one's evidence counts as older than the other's.</summary>
    private static readonly Duration ClockSlack = Duration.FromSeconds(30);

    private static void OnEvidence(Context ctx, Evidence evidence)
    {
        var state = ctx.State;
        if (evidence.User is { } someone && someone != state.Id)
        {
            OnSomeoneElse(ctx, evidence, someone);
            return;
        }

        // Delivered late: it happened before what put the user where she is, so it says nothing about now. Another
        // computer's clock may run a little behind, so only evidence older by more than that slack counts as late
        // here; evidence late by the same computer's own clock was already set aside by Decide.
        if (state.SeatEvidenceAt is { } seated && evidence.At < seated - ClockSlack)
        {
            return;
        }

        if (LeavingWithLaptop(ctx, evidence) is { } leaving)
        {
            ctx.Emit(new LeavingDetected(state.Id, evidence.Host, leaving, [evidence.Id], ctx.Now));
            if (state.Seat != evidence.Host)
            {
                ctx.Emit(new SeatChanged(state.Id, evidence.Host, state.Seat, 0.8, [evidence.Id], ctx.Now));
            }

            Consider(ctx, evidence.Host, [evidence.Id], Trigger.Urgent, Rules.LeavingWithLaptop);
            return;
        }

        var seat = new SeatBelief(state.Seat, state.SeatConfidence, state.SeatEvidence);
        var belief = SeatInference.Infer(seat, evidence, ctx.Settings);
        if (belief is { Seat: { } same } && same == state.Seat && EvidenceStrength.Of(belief.Confidence) == Strength.Certain
            && EvidenceStrength.Of(state.SeatConfidence) == Strength.Weak)
        {
            // She was only guessed to sit here and now logged in or unlocked: the seat is certain, and a display that
            // waited on the guess is shown at once (a move keeps its hold-down).
            ctx.Emit(new SeatChanged(state.Id, same, same, belief.Confidence, belief.EvidenceIds, ctx.Now));
            if (ctx.State.Settling is { Mode: PlacementMode.AttachDisplay } waiting && waiting.Seat == same)
            {
                Consider(ctx, same, belief.EvidenceIds, Trigger.Settled);
            }

            return;
        }

        if (belief is not null && belief.Seat != state.Seat)
        {
            ctx.Emit(new SeatChanged(state.Id, belief.Seat, state.Seat, belief.Confidence, belief.EvidenceIds, ctx.Now));
            if (belief.Seat is { } target)
            {
                Consider(ctx, target, belief.EvidenceIds, Trigger.Seat);
                return;
            }
        }

        // Leaving the screen takes the desktop off it, whether or not the seat was still hers: an idle-away may
        // have taken her off it already, and the screen still shows her desktop.
        if (SeatInference.LeavesTheScreen(evidence, ctx.Settings) is { } how && ctx.State.ShownOn == evidence.Host)
        {
            Detach(ctx, evidence.Host, $"{state.Id} {how} at {evidence.Host}");
        }
    }

    /// <summary>
    /// Another person's evidence, routed here because this user's desktop is or may be on that computer
    /// (<see cref="HostNews.SeatNews"/>): someone else sitting down at the console takes the seat from this user, and
    /// the screen shows at most one person's desktop, so this one's comes off it before theirs goes on. Acted on
    /// even when it is older than what this stream knows of the computer: taking a desktop off a screen is always
    /// safe, and the other person's saga acts on it in any case.
    /// </summary>
    private static void OnSomeoneElse(Context ctx, Evidence evidence, string someone)
    {
        if (!SeatInference.SitsDown(evidence))
        {
            return;
        }

        var host = evidence.Host;
        if (!EvidenceStrength.MayTakeSeat(new SeatBelief(ctx.State.Seat, ctx.State.SeatConfidence, ctx.State.SeatEvidence), evidence, host))
        {
            return; // a relayed unlock (Home Assistant) never takes a screen from a console login
        }

        if (ctx.State.Seat == host)
        {
            ctx.Emit(new SeatChanged(ctx.State.Id, null, host, 1.0, [evidence.Id], ctx.Now));
        }

        if (ctx.State.ShownOn == host)
        {
            Detach(ctx, host, $"{someone} sat down at {host}");
        }
    }

    /// <summary>The screen of <paramref name="host"/> stops showing this user's VM.</summary>
    private static void Detach(Context ctx, string host, string reason) =>
        ctx.Emit(new DisplayDetachRequested(ctx.State.Id, ctx.User.Vm, host, ctx.Ids.Command("detach/" + host), reason, ctx.Now));

    /// <summary>
    /// Unplugged and then the lid shut within the leave window, or Wi-Fi moved off the home network while still
    /// connected: the laptop is leaving the house with its user, who must find the VM on it.
    /// </summary>
    private static string? LeavingWithLaptop(Context ctx, Evidence evidence)
    {
        var host = ctx.Policy.Host(evidence.Host);
        if (host is not { Role: HostRole.Laptop } || ctx.State.Seat != evidence.Host)
        {
            return null;
        }

        if (evidence.Kind == EvidenceKind.Lid && evidence.Detail(Lid.State) == Lid.Closed
            && ctx.State.UnpluggedAt.TryGetValue(evidence.Host, out var unplugged)
            && evidence.At - unplugged <= ctx.Settings.LeaveWindow && evidence.At >= unplugged)
        {
            return $"{evidence.Host} was unplugged at {Wording.ClockTime(unplugged, ctx.Settings.TimeZone)} and its lid closed at {Wording.ClockTime(evidence.At, ctx.Settings.TimeZone)}";
        }

        if (evidence.Kind == EvidenceKind.Wifi && evidence.Detail(Wifi.State) == Wifi.Connected
            && ctx.Settings.HomeNetworks is { Count: > 0 } home && evidence.Detail(Wifi.Ssid) is { } ssid && !home.Contains(ssid))
        {
            return home.Count == 1
                ? $"{evidence.Host} joined Wi-Fi '{ssid}', away from the home network '{home[0]}'"
                : $"{evidence.Host} joined Wi-Fi '{ssid}', away from the home networks {string.Join(", ", home.Select(n => $"'{n}'"))}";
        }

        return null;
    }
}
