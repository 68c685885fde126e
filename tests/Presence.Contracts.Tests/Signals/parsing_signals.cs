using Presence.Contracts.Signals;

namespace Presence.Contracts.Tests.Signals;

/// <summary>CONTRACT.md §1: every signal kind, read from payloads shaped like the contract's table.</summary>
public class parsing_signals
{
    private static Signal Parse(string kind, string json, string host = "imac") => Signal.Parse(host, kind, Payload.Utf8(json));

    [Fact]
    public void a_session_signal_carries_user_state_and_seat()
    {
        var signal = Assert.IsType<SessionSignal>(Parse("session", """{"user":"alice","state":"login","seat":"remote"}"""));

        Assert.Equal("imac", signal.Host);
        Assert.Equal("session", signal.Kind);
        Assert.Equal("alice", signal.UserName);
        Assert.Equal("alice", signal.User);
        Assert.Equal(SessionState.Login, signal.State);
        Assert.Equal(SessionSeat.Remote, signal.Seat);
    }

    [Theory]
    [InlineData("login", SessionState.Login)]
    [InlineData("logout", SessionState.Logout)]
    [InlineData("lock", SessionState.Lock)]
    [InlineData("unlock", SessionState.Unlock)]
    [InlineData("active", SessionState.Active)]
    public void every_session_state_of_the_contract_is_understood(string wire, SessionState expected)
    {
        var signal = Assert.IsType<SessionSignal>(Parse("session", $$"""{"user":"alice","state":"{{wire}}"}"""));

        Assert.Equal(expected, signal.State);
    }

    [Fact]
    public void a_session_without_seat_is_at_the_console()
    {
        var signal = Assert.IsType<SessionSignal>(Parse("session", """{"user":"alice","state":"unlock"}"""));

        Assert.Equal(SessionSeat.Console, signal.Seat);
    }

    [Fact]
    public void a_null_seat_counts_as_absent()
    {
        var signal = Assert.IsType<SessionSignal>(Parse("session", """{"user":"alice","state":"unlock","seat":null}"""));

        Assert.Equal(SessionSeat.Console, signal.Seat);
    }

    [Theory]
    [InlineData("open", LidState.Open)]
    [InlineData("closed", LidState.Closed)]
    public void a_lid_signal_is_open_or_closed(string wire, LidState expected)
    {
        var signal = Assert.IsType<LidSignal>(Parse("lid", $$"""{"state":"{{wire}}"}""", host: "macbook"));

        Assert.Equal("macbook", signal.Host);
        Assert.Equal("lid", signal.Kind);
        Assert.Equal(expected, signal.State);
        Assert.Null(signal.User);
    }

    [Fact]
    public void a_wifi_signal_carries_ssid_bssid_and_rssi()
    {
        var signal = Assert.IsType<WifiSignal>(
            Parse("wifi", """{"state":"connected","ssid":"home","bssid":"aa:bb:cc:dd:ee:ff","rssi":-54}"""));

        Assert.Equal("wifi", signal.Kind);
        Assert.Equal(WifiState.Connected, signal.State);
        Assert.Equal("home", signal.Ssid);
        Assert.Equal("aa:bb:cc:dd:ee:ff", signal.Bssid);
        Assert.Equal(-54, signal.Rssi);
    }

    [Fact]
    public void a_wifi_signal_needs_only_its_state()
    {
        var signal = Assert.IsType<WifiSignal>(Parse("wifi", """{"state":"disconnected"}"""));

        Assert.Equal(WifiState.Disconnected, signal.State);
        Assert.Null(signal.Ssid);
        Assert.Null(signal.Bssid);
        Assert.Null(signal.Rssi);
    }

    [Fact]
    public void an_idle_signal_carries_user_and_seconds()
    {
        var signal = Assert.IsType<IdleSignal>(Parse("idle", """{"user":"alice","idle_seconds":312}"""));

        Assert.Equal("idle", signal.Kind);
        Assert.Equal("alice", signal.User);
        Assert.Equal(312, signal.IdleSeconds);
    }

    [Fact]
    public void zero_idle_seconds_is_allowed()
    {
        var signal = Assert.IsType<IdleSignal>(Parse("idle", """{"user":"alice","idle_seconds":0}"""));

        Assert.Equal(0, signal.IdleSeconds);
    }

    [Fact]
    public void a_power_signal_carries_ac_and_battery()
    {
        var signal = Assert.IsType<PowerSignal>(Parse("power", """{"ac":false,"battery_percent":87}"""));

        Assert.Equal("power", signal.Kind);
        Assert.False(signal.Ac);
        Assert.Equal(87, signal.BatteryPercent);
    }

    [Theory]
    [InlineData("""{"ac":true}""")]
    [InlineData("""{"ac":true,"battery_percent":null}""")]
    public void a_desktop_on_ac_has_no_battery(string json)
    {
        var signal = Assert.IsType<PowerSignal>(Parse("power", json));

        Assert.True(signal.Ac);
        Assert.Null(signal.BatteryPercent);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(100)]
    public void battery_percent_bounds_are_inclusive(int percent)
    {
        var signal = Assert.IsType<PowerSignal>(Parse("power", $$"""{"ac":false,"battery_percent":{{percent}}}"""));

        Assert.Equal(percent, signal.BatteryPercent);
    }

    [Fact]
    public void id_and_at_are_carried_on_every_signal()
    {
        var signal = Parse("lid", """{"state":"open","id":"lid-0001","at":"2026-11-25T08:29:58Z"}""");

        Assert.Equal("lid-0001", signal.Id);
        Assert.Equal(Instant.FromUtc(2026, 11, 25, 8, 29, 58), signal.At);
    }

    [Fact]
    public void without_id_and_at_both_are_null()
    {
        var signal = Parse("lid", """{"state":"open"}""");

        Assert.Null(signal.Id);
        Assert.Null(signal.At);
    }

    [Fact]
    public void unknown_keys_are_ignored()
    {
        var signal = Assert.IsType<PowerSignal>(
            Parse("power", """{"ac":true,"firmware":"1.2","charger":{"watts":65,"ports":[1,2]},"battery_percent":55,"extra":null}"""));

        Assert.True(signal.Ac);
        Assert.Equal(55, signal.BatteryPercent);
    }

    [Fact]
    public void the_contract_lists_five_signal_kinds()
    {
        Assert.Equal(["session", "lid", "wifi", "idle", "power"], Signal.Kinds);
    }

    [Fact]
    public void an_unknown_signal_kind_is_rejected_with_the_known_ones()
    {
        var message = Payload.Rejection(() => Parse("temperature", """{"celsius":21}"""));

        Assert.Contains("'temperature'", message);
        Assert.Contains("session|lid|wifi|idle|power", message);
    }
}

/// <summary>Emitters written in .NET (the demo, agents' sensors) serialise signals with the contract's JSON.</summary>
public class serialising_signals
{
    [Fact]
    public void every_signal_kind_round_trips_through_its_parser()
    {
        Presence.Contracts.Signals.Signal[] signals =
        [
            new Presence.Contracts.Signals.SessionSignal { UserName = "alice", State = Presence.Contracts.Signals.SessionState.Login, Id = "s1" },
            new Presence.Contracts.Signals.LidSignal { State = Presence.Contracts.Signals.LidState.Closed },
            new Presence.Contracts.Signals.WifiSignal { State = Presence.Contracts.Signals.WifiState.Connected, Ssid = "home", Rssi = -60 },
            new Presence.Contracts.Signals.IdleSignal { UserName = "alice", IdleSeconds = 42 },
            new Presence.Contracts.Signals.PowerSignal { Ac = false, BatteryPercent = 80 },
        ];

        foreach (var signal in signals)
        {
            var json = Presence.Contracts.Wire.ContractJson.Serialize<object>(signal with { Host = "laptop" });
            var parsed = Presence.Contracts.Signals.Signal.Parse("laptop", signal.Kind, json);
            Assert.Equal(signal with { Host = "laptop" }, parsed);
            Assert.DoesNotContain("\"kind\"", System.Text.Encoding.UTF8.GetString(json));
        }
    }
}
