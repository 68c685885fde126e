using System.Globalization;
using NodaTime;
using Presence.Contracts.Signals;
using Presence.Domain.Signals;
using static Presence.Domain.Signals.EvidenceDetails;

namespace Presence.Server.Signals;

/// <summary>
/// A signal from the wire as the decider keeps it: evidence in the stream's own words (<see cref="EvidenceDetails"/>),
/// which the decider reads back to find the seat or a laptop leaving. Each wire value is mapped by name, so a new
/// one fails here instead of being stored as a word nothing reads.
/// </summary>
public static class SignalEvidence
{
    /// <summary>The payload in the stream's own words: what was observed, by whom, where, and when.</summary>
    public static Evidence ToEvidence(Signal signal, Instant at)
    {
        var (kind, details) = signal switch
        {
            SessionSignal s => (EvidenceKind.Session, Words((Session.State, Word(s.State)), (Session.Seat, Word(s.Seat)))),
            IdleSignal i => (EvidenceKind.Idle, Words((Idle.Seconds, Number(i.IdleSeconds)))),
            LidSignal l => (EvidenceKind.Lid, Words((Lid.State, Word(l.State)))),
            WifiSignal w => (EvidenceKind.Wifi,
                Words((Wifi.State, Word(w.State)), (Wifi.Ssid, w.Ssid), (Wifi.Bssid, w.Bssid), (Wifi.Rssi, Number(w.Rssi)))),
            PowerSignal p => (EvidenceKind.Power,
                Words((Power.Ac, p.Ac ? Power.True : Power.False), (Power.BatteryPercent, Number(p.BatteryPercent)))),
            _ => throw new ArgumentOutOfRangeException(nameof(signal), signal.GetType().Name, "unknown signal"),
        };

        // Evidence needs an id to be cited by decisions; senders that give none get one made here.
        var id = signal.Id ?? "s-" + Guid.NewGuid().ToString("N")[..12];
        return new Evidence(id, kind, signal.Host, signal.User, details, at);
    }

    /// <summary>What the signal said, in its order; what it left out is not there at all.</summary>
    private static Dictionary<string, string> Words(params (string Key, string? Value)[] details)
    {
        var words = new Dictionary<string, string>();
        foreach (var (key, value) in details)
        {
            if (value is not null)
            {
                words[key] = value;
            }
        }

        return words;
    }

    private static string? Number(long? value) => value?.ToString(CultureInfo.InvariantCulture);

    private static string Word(SessionState state) => state switch
    {
        SessionState.Login => Session.Login,
        SessionState.Logout => Session.Logout,
        SessionState.Lock => Session.Lock,
        SessionState.Unlock => Session.Unlock,
        SessionState.Active => Session.Active,
        _ => throw new ArgumentOutOfRangeException(nameof(state), state, "no evidence word for this session state"),
    };

    private static string Word(SessionSeat seat) => seat switch
    {
        SessionSeat.Console => Session.Console,
        SessionSeat.Remote => Session.Remote,
        _ => throw new ArgumentOutOfRangeException(nameof(seat), seat, "no evidence word for this seat"),
    };

    private static string Word(LidState state) => state switch
    {
        LidState.Open => Lid.Open,
        LidState.Closed => Lid.Closed,
        _ => throw new ArgumentOutOfRangeException(nameof(state), state, "no evidence word for this lid state"),
    };

    private static string Word(WifiState state) => state switch
    {
        WifiState.Connected => Wifi.Connected,
        WifiState.Disconnected => Wifi.Disconnected,
        _ => throw new ArgumentOutOfRangeException(nameof(state), state, "no evidence word for this Wi-Fi state"),
    };
}
