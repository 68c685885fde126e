using NodaTime;
using Presence.Domain.House;
using Presence.Domain.Signals;
using static Presence.Domain.Signals.EvidenceDetails;

namespace Presence.Server.HomeAssistant.Statestream;

/// <summary>A state, read: evidence to record, nothing to record (HA does not know), or why it cannot be read.</summary>
public abstract record StatestreamReading
{
    public sealed record Observed(EvidenceKind Kind, string Host, string? User, IReadOnlyDictionary<string, string> Said) : StatestreamReading;

    /// <summary>Home Assistant's own "no value" (unknown, unavailable) or a state that says nothing: not an error.</summary>
    public sealed record Nothing : StatestreamReading;

    public sealed record Unreadable(string Reason) : StatestreamReading;
}

/// <summary>
/// One mapped entity's plain-string state in the stream's words. Every state an entity really takes is mapped by
/// name, with the source that says it takes it beside it; any other state is unreadable and reported once
/// (<see cref="StatestreamInbound"/>). What Home Assistant relays is weak evidence (<see cref="Origin"/>):
/// the seat follows it only after the display's hold-down, and it never overrides a computer's own console login.
/// </summary>
public static class StatestreamEvidence
{
    /// <summary>
    /// homeassistant/const.py STATE_UNKNOWN / STATE_UNAVAILABLE: what every entity says before it has a value or
    /// while its device is away. Not an error, and not evidence of anything.
    /// </summary>
    private static readonly string[] NoValue = ["unknown", "unavailable"];

    public static StatestreamReading Read(StatestreamEntityOptions entity, string state, HousePolicy policy, IReadOnlyDictionary<string, string> rooms)
    {
        if (NoValue.Contains(state))
        {
            return new StatestreamReading.Nothing();
        }

        if (state.Length == 0 || state.Length > 255 || state.Any(char.IsControl))
        {
            // HA keeps states of at most 255 characters (homeassistant/const.py MAX_LENGTH_STATE_STATE).
            return new StatestreamReading.Unreadable($"state of {entity.Entity} must be 1–255 printable characters (mqtt_statestream publishes the plain state)");
        }

        return entity.Signal switch
        {
            StatestreamSignal.Person => Person(entity, state),
            StatestreamSignal.Room => Room(entity, state, policy, rooms),
            StatestreamSignal.Session => Session(entity, state),
            StatestreamSignal.Power => Power(entity, state),
            StatestreamSignal.Wifi => Wifi(entity, state),
            _ => new StatestreamReading.Unreadable($"{entity.Entity} has no mapping"),
        };
    }

    /// <summary>The evidence itself: the reading, with where it came from and that it is weak.</summary>
    public static Evidence ToEvidence(StatestreamReading.Observed observed, StatestreamEntityOptions entity, string id, Instant at)
    {
        var details = new Dictionary<string, string>(observed.Said)
        {
            [Origin.Source] = Origin.HomeAssistant,
            [Origin.Entity] = entity.Entity,
            [Origin.Strength] = Origin.Weak,
        };
        return new Evidence(id, observed.Kind, observed.Host, observed.User, details, at);
    }

    // person/__init__.py and device_tracker: the state is STATE_HOME "home", STATE_NOT_HOME "not_home", or the name
    // of the zone the person is in (homeassistant/const.py; zone names are the user's own).
    private static StatestreamReading Person(StatestreamEntityOptions e, string state) =>
        new StatestreamReading.Observed(EvidenceKind.Zone, "", e.User, new Dictionary<string, string> { [Zone.Name] = state });

    // mqtt_room/sensor.py: the state is the room (the last level of the topic the scanner published on) or
    // STATE_NOT_HOME after away_timeout. Bermuda (custom_components/bermuda/sensor.py, BermudaSensor.native_value):
    // the area's name. A room the house maps to a computer the user may use is a guess that they sit there; any
    // other room (the kitchen, not_home) is a guess that they sit at none.
    private static StatestreamReading Room(StatestreamEntityOptions e, string state, HousePolicy policy, IReadOnlyDictionary<string, string> rooms)
    {
        var computer = rooms.TryGetValue(state, out var host) && policy.MayUse(e.User!, host) ? host : "";
        return new StatestreamReading.Observed(EvidenceKind.Room, computer, e.User, new Dictionary<string, string> { [EvidenceDetails.Room.Name] = state });
    }

    private static StatestreamReading Session(StatestreamEntityOptions e, string state)
    {
        var word = state switch
        {
            // HASS.Agent SessionStateSensor: SessionInfo.GetActiveSessionLockState().ToString(), the enum
            // HASSAgent/Enums/LockState.cs { Unknown, Locked, Unlocked } (LAB02-Research/HASS.Agent).
            "Unlocked" => EvidenceDetails.Session.Unlock,
            "Locked" => EvidenceDetails.Session.Lock,
            "Unknown" => null,

            // The Mac companion app's Active binary_sensor (home-assistant/iOS Sources/Shared/API/Webhook/Sensors/
            // ActiveSensor.swift: state isActive; HA's STATE_ON / STATE_OFF): on is someone at the Mac, off is
            // screensaver, lock, sleep or idle past the app's setting: nobody at it.
            "on" => EvidenceDetails.Session.Active,
            "off" => EvidenceDetails.Session.Lock,
            _ => "?",
        };
        return word switch
        {
            null => new StatestreamReading.Nothing(),
            "?" => new StatestreamReading.Unreadable(
                $"session state '{state}' of {e.Entity} is not one Presence reads: HASS.Agent's SessionState says Locked, Unlocked or Unknown, the Mac app's Active on or off"),
            _ => new StatestreamReading.Observed(EvidenceKind.Session, e.Host!, e.User,
                new Dictionary<string, string> { [EvidenceDetails.Session.State] = word }),
        };
    }

    private static StatestreamReading Power(StatestreamEntityOptions e, string state)
    {
        // The Mac companion app's Battery State sensor: DeviceBattery.State.description (home-assistant/iOS
        // Sources/Shared/Environment/DeviceBattery.swift): charging "Charging", full "Full", unplugged "Not Charging".
        var ac = state switch
        {
            "Charging" or "Full" => EvidenceDetails.Power.True,
            "Not Charging" => EvidenceDetails.Power.False,
            _ => null,
        };
        return ac is null
            ? new StatestreamReading.Unreadable($"battery state '{state}' of {e.Entity} is not one Presence reads: Charging, Full or Not Charging (the Mac app's Battery State)")
            : new StatestreamReading.Observed(EvidenceKind.Power, e.Host!, null, new Dictionary<string, string> { [EvidenceDetails.Power.Ac] = ac });
    }

    private static StatestreamReading Wifi(StatestreamEntityOptions e, string state)
    {
        // The Mac/iOS app's SSID sensor (home-assistant/iOS ConnectivitySensor.swift) says "Not Connected" without
        // Wi-Fi; the Android app's Wi-Fi connection sensor (its NetworkSensorManager) says "<not connected>".
        // Anything else is the network's name.
        var said = state is "Not Connected" or "<not connected>"
            ? new Dictionary<string, string> { [EvidenceDetails.Wifi.State] = EvidenceDetails.Wifi.Disconnected }
            : new Dictionary<string, string> { [EvidenceDetails.Wifi.State] = EvidenceDetails.Wifi.Connected, [EvidenceDetails.Wifi.Ssid] = state };
        return new StatestreamReading.Observed(EvidenceKind.Wifi, e.Host!, null, said);
    }
}
