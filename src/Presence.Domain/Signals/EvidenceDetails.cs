namespace Presence.Domain.Signals;

/// <summary>
/// The words of <see cref="Evidence.Details"/>, per kind of evidence: the server writes them (SignalEvidence,
/// from the wire's payloads), the decider reads them, and tests build evidence with them. They are stored in every
/// user's stream and in recorded histories, so a value is never changed, only added.
/// </summary>
public static class EvidenceDetails
{
    /// <summary>A user's session at a computer (<see cref="EvidenceKind.Session"/>).</summary>
    public static class Session
    {
        public const string State = "state";
        public const string Seat = "seat";

        public const string Login = "login";
        public const string Logout = "logout";
        public const string Lock = "lock";
        public const string Unlock = "unlock";
        public const string Active = "active";

        /// <summary>At the computer's own screen and keyboard: a seat.</summary>
        public const string Console = "console";

        /// <summary>From elsewhere (remote desktop, ssh): the person is not at this computer.</summary>
        public const string Remote = "remote";
    }

    /// <summary>How long a user has not touched the computer (<see cref="EvidenceKind.Idle"/>).</summary>
    public static class Idle
    {
        /// <summary>Whole seconds, written in the invariant culture.</summary>
        public const string Seconds = "idle_seconds";
    }

    /// <summary>A laptop's lid (<see cref="EvidenceKind.Lid"/>).</summary>
    public static class Lid
    {
        public const string State = "state";

        public const string Open = "open";
        public const string Closed = "closed";
    }

    /// <summary>A computer's Wi-Fi (<see cref="EvidenceKind.Wifi"/>).</summary>
    public static class Wifi
    {
        public const string State = "state";
        public const string Ssid = "ssid";
        public const string Bssid = "bssid";

        /// <summary>Signal strength in dBm, written in the invariant culture.</summary>
        public const string Rssi = "rssi";

        public const string Connected = "connected";
        public const string Disconnected = "disconnected";
    }

    /// <summary>A computer's power supply (<see cref="EvidenceKind.Power"/>).</summary>
    public static class Power
    {
        /// <summary>Whether it runs on mains: <see cref="True"/> or <see cref="False"/> (unplugged).</summary>
        public const string Ac = "ac";

        public const string BatteryPercent = "battery_percent";

        public const string True = "true";
        public const string False = "false";
    }

    /// <summary>What a person asked for (<see cref="EvidenceKind.Request"/>), in the wire's words.</summary>
    public static class Request
    {
        public const string Action = "action";
        public const string Target = "target";
        public const string DecisionId = "decision_id";

        /// <summary>The automation level an <see cref="Automation"/> request sets: manual, recommend or automatic.</summary>
        public const string Level = "level";

        public const string Follow = "follow";
        public const string Hold = "hold";
        public const string Release = "release";
        public const string Move = "move";
        public const string Home = "home";
        public const string Approve = "approve";
        public const string Decline = "decline";
        public const string Automation = "automation";
    }

    /// <summary>
    /// Where evidence came from when a computer's own agent did not send it, and how strong it claims to be (read by
    /// <see cref="Seating.EvidenceStrength"/>). Absent on evidence from a computer's agent: that is the default.
    /// </summary>
    public static class Origin
    {
        public const string Source = "source";

        /// <summary>The entity that said so, e.g. person.alice or sensor.imac_sessionstate.</summary>
        public const string Entity = "entity";

        public const string Strength = "strength";

        /// <summary>Relayed by Home Assistant's mqtt_statestream.</summary>
        public const string HomeAssistant = "home_assistant";

        public const string Weak = "weak";
    }

    /// <summary>A room-presence sensor put a person in a room (<see cref="EvidenceKind.Room"/>).</summary>
    public static class Room
    {
        /// <summary>The room as the sensor named it (mqtt_room: the room's topic; Bermuda: the area's name).</summary>
        public const string Name = "room";

        /// <summary>Home Assistant's word for "in no room the sensor knows" (mqtt_room's away timeout).</summary>
        public const string NotHome = "not_home";
    }

    /// <summary>Where a person is as Home Assistant's person or device_tracker says (<see cref="EvidenceKind.Zone"/>).</summary>
    public static class Zone
    {
        /// <summary>home, not_home, or the name of another zone (work, school).</summary>
        public const string Name = "zone";

        public const string Home = "home";
        public const string NotHome = "not_home";
    }
}
