using System.Text.Json;
using NodaTime;
using Presence.Contracts.Signals;
using Presence.Domain.Signals;
using Presence.Server.Signals;
using static Presence.Domain.Signals.EvidenceDetails;

namespace Presence.Server.Tests.Signals;

/// <summary>
/// Each kind of signal becomes evidence in the words the decider reads back (<see cref="EvidenceDetails"/>). The
/// words are stored in every stream and recorded history, so they must stay what they were: the wire's own values.
/// </summary>
public sealed class turning_signals_into_evidence
{
    private static readonly Instant At = Instant.FromUtc(2026, 11, 25, 7, 30);

    [Fact]
    public void a_session_says_its_state_and_seat_and_whose_it_is()
    {
        var evidence = SignalEvidence.ToEvidence(
            new SessionSignal { Host = "imac", Id = "login-1", UserName = "alice", State = SessionState.Login, Seat = SessionSeat.Remote }, At);

        Assert.Equal(new Evidence("login-1", EvidenceKind.Session, "imac", "alice", evidence.Details, At), evidence);
        Assert.Equal([(Session.State, "login"), (Session.Seat, "remote")], Pairs(evidence));
    }

    [Fact]
    public void idling_says_for_how_many_seconds()
    {
        var evidence = SignalEvidence.ToEvidence(new IdleSignal { Host = "kids", Id = "idle-1", UserName = "dan", IdleSeconds = 1800 }, At);

        Assert.Equal((EvidenceKind.Idle, "dan"), (evidence.Kind, evidence.User));
        Assert.Equal([(Idle.Seconds, "1800")], Pairs(evidence));
    }

    [Fact]
    public void a_lid_says_whether_it_is_closed_and_names_no_user()
    {
        var evidence = SignalEvidence.ToEvidence(new LidSignal { Host = "laptop", Id = "lid-1", State = LidState.Closed }, At);

        Assert.Equal((EvidenceKind.Lid, "laptop", (string?)null), (evidence.Kind, evidence.Host, evidence.User));
        Assert.Equal([(Lid.State, Lid.Closed)], Pairs(evidence));
        Assert.Equal("closed", evidence.Detail(Lid.State));
    }

    [Fact]
    public void wifi_says_its_network_and_leaves_out_what_the_sender_did_not_know()
    {
        var full = SignalEvidence.ToEvidence(
            new WifiSignal { Host = "laptop", Id = "wifi-1", State = WifiState.Connected, Ssid = "home-5G", Bssid = "aa:bb:cc:dd:ee:ff", Rssi = -61 }, At);
        var bare = SignalEvidence.ToEvidence(new WifiSignal { Host = "laptop", Id = "wifi-2", State = WifiState.Disconnected }, At);

        Assert.Equal(EvidenceKind.Wifi, full.Kind);
        Assert.Equal([(Wifi.State, "connected"), (Wifi.Ssid, "home-5G"), (Wifi.Bssid, "aa:bb:cc:dd:ee:ff"), (Wifi.Rssi, "-61")], Pairs(full));
        Assert.Equal([(Wifi.State, "disconnected")], Pairs(bare));
    }

    [Fact]
    public void power_says_whether_it_is_plugged_in_and_the_battery_level()
    {
        var unplugged = SignalEvidence.ToEvidence(new PowerSignal { Host = "laptop", Id = "power-1", Ac = false, BatteryPercent = 85 }, At);
        var plugged = SignalEvidence.ToEvidence(new PowerSignal { Host = "laptop", Id = "power-2", Ac = true }, At);

        Assert.Equal(EvidenceKind.Power, unplugged.Kind);
        Assert.Equal([(Power.Ac, "false"), (Power.BatteryPercent, "85")], Pairs(unplugged));
        Assert.Equal([(Power.Ac, "true")], Pairs(plugged));
    }

    [Fact]
    public void a_signal_without_an_id_gets_one_to_be_cited_by()
    {
        var evidence = SignalEvidence.ToEvidence(new LidSignal { Host = "laptop", State = LidState.Open }, At);

        Assert.Matches("^s-[0-9a-f]{12}$", evidence.Id);
        Assert.Equal([(Lid.State, Lid.Open)], Pairs(evidence));
    }

    /// <summary>Every wire value becomes the word it always was (the wire's snake_case name), whatever is added later.</summary>
    [Fact]
    public void every_wire_value_keeps_its_word()
    {
        Assert.All(Enum.GetValues<SessionState>(), state => Assert.Equal(Snake(state),
            SignalEvidence.ToEvidence(new SessionSignal { Host = "imac", UserName = "alice", State = state }, At).Detail(Session.State)));
        Assert.All(Enum.GetValues<SessionSeat>(), seat => Assert.Equal(Snake(seat),
            SignalEvidence.ToEvidence(new SessionSignal { Host = "imac", UserName = "alice", State = SessionState.Login, Seat = seat }, At).Detail(Session.Seat)));
        Assert.All(Enum.GetValues<LidState>(), state => Assert.Equal(Snake(state),
            SignalEvidence.ToEvidence(new LidSignal { Host = "laptop", State = state }, At).Detail(Lid.State)));
        Assert.All(Enum.GetValues<WifiState>(), state => Assert.Equal(Snake(state),
            SignalEvidence.ToEvidence(new WifiSignal { Host = "laptop", State = state }, At).Detail(Wifi.State)));
    }

    private static (string, string)[] Pairs(Evidence evidence) => [.. evidence.Details.Select(d => (d.Key, d.Value))];

    private static string Snake(Enum value) => JsonNamingPolicy.SnakeCaseLower.ConvertName(value.ToString());
}
