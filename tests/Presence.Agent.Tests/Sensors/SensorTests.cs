using Microsoft.Extensions.Logging.Abstractions;
using NodaTime;
using Presence.Agent.Configuration;
using Presence.Agent.Processes;
using Presence.Agent.Sensors;
using Presence.Agent.Tests.Support;
using Presence.Contracts.Signals;
using Presence.Contracts.Wire;

namespace Presence.Agent.Tests.Sensors;

/// <summary>
/// Sensors read a fake /proc and /sys tree and recorded loginctl and nmcli output; every payload they publish
/// must be one <see cref="Signal.Parse"/> accepts, on the contract's topic, and only when something changed.
/// </summary>
public sealed class SensorTests : IDisposable
{
    private static readonly Instant Start = Instant.FromUtc(2026, 11, 25, 8, 0);
    private readonly string root = Directory.CreateTempSubdirectory("presence-sensors-").FullName;
    private readonly List<(string Topic, byte[] Payload)> published = [];
    private readonly SettableClock clock = new(Start);
    private readonly ListLogger log = new();
    private readonly RecordingRunner runner = new();
    private bool brokerTakes = true;

    public void Dispose() => Directory.Delete(root, recursive: true);

    private SensorHub Hub(IHostSensor sensor) => new(
        "basement",
        new Topics(),
        [(sensor, TimeSpan.FromSeconds(1))],
        (topic, payload) =>
        {
            if (brokerTakes)
            {
                published.Add((topic, payload));
            }

            return Task.FromResult(brokerTakes);
        },
        _ => Task.CompletedTask,
        clock,
        log);

    private void Write(string path, string text)
    {
        var full = Path.Combine(root, path.TrimStart('/'));
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        File.WriteAllText(full, text);
    }

    /// <summary>Each publish parsed the way the server parses it.</summary>
    private List<Signal> Signals() => published.Select(p =>
    {
        var parts = p.Topic.Split('/');
        Assert.Equal(["presence", "hosts", "basement", "signals"], parts[..4]);
        var signal = Signal.Parse("basement", parts[4], p.Payload);
        Assert.NotNull(signal.Id);
        Assert.NotNull(signal.At);
        return signal;
    }).ToList();

    [Fact]
    public async Task The_lid_is_published_when_it_opens_or_closes_and_not_in_between()
    {
        Write("/proc/acpi/button/lid/LID0/state", "state:      closed\n");
        var sensor = new LidSensor(new SystemFiles(root));
        var hub = Hub(sensor);

        await hub.PollAsync(sensor, CancellationToken.None);
        await hub.PollAsync(sensor, CancellationToken.None);
        Write("/proc/acpi/button/lid/LID0/state", "state:      open\n");
        await hub.PollAsync(sensor, CancellationToken.None);
        await hub.PollAsync(sensor, CancellationToken.None);

        var signals = Signals();
        Assert.Equal([LidState.Closed, LidState.Open], signals.Cast<LidSignal>().Select(s => s.State));
        Assert.Equal("presence/hosts/basement/signals/lid", published[0].Topic);
        Assert.NotEqual(signals[0].Id, signals[1].Id);
    }

    [Fact]
    public async Task Power_reads_the_adapter_and_the_system_battery_not_a_mouses()
    {
        Write("/sys/class/power_supply/AC/type", "Mains\n");
        Write("/sys/class/power_supply/AC/online", "1\n");
        Write("/sys/class/power_supply/BAT0/type", "Battery\n");
        Write("/sys/class/power_supply/BAT0/capacity", "81\n");
        Write("/sys/class/power_supply/BAT0/status", "Charging\n");
        Write("/sys/class/power_supply/hidpp_battery_0/type", "Battery\n");
        Write("/sys/class/power_supply/hidpp_battery_0/scope", "Device\n");
        Write("/sys/class/power_supply/hidpp_battery_0/capacity", "5\n");
        var sensor = new PowerSensor(new SystemFiles(root));
        var hub = Hub(sensor);

        await hub.PollAsync(sensor, CancellationToken.None);
        Write("/sys/class/power_supply/AC/online", "0\n");
        Write("/sys/class/power_supply/BAT0/status", "Discharging\n");
        await hub.PollAsync(sensor, CancellationToken.None);
        await hub.PollAsync(sensor, CancellationToken.None);
        Write("/sys/class/power_supply/BAT0/capacity", "80\n");
        await hub.PollAsync(sensor, CancellationToken.None);

        Assert.Equal(
            [(true, (int?)81), (false, 81), (false, 80)],
            Signals().Cast<PowerSignal>().Select(s => (s.Ac, s.BatteryPercent)));
        Assert.Equal("""{"ac":true,"battery_percent":81""", System.Text.Encoding.UTF8.GetString(published[0].Payload)[..31]);
    }

    [Fact]
    public async Task A_sensor_without_its_source_logs_once_and_publishes_nothing()
    {
        var lid = new LidSensor(new SystemFiles(root));
        var power = new PowerSensor(new SystemFiles(root));
        var hub = Hub(lid);

        for (var i = 0; i < 3; i++)
        {
            await hub.PollAsync(lid, CancellationToken.None);
            await hub.PollAsync(power, CancellationToken.None);
        }

        Assert.Empty(published);
        Assert.Single(log.Lines, l => l.Message.StartsWith("Sensor Lid has nothing to read", StringComparison.Ordinal));
        Assert.Single(log.Lines, l => l.Message.StartsWith("Sensor Power has nothing to read", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_change_the_broker_did_not_take_is_published_on_the_next_poll()
    {
        Write("/proc/acpi/button/lid/LID0/state", "state:      closed\n");
        var sensor = new LidSensor(new SystemFiles(root));
        var hub = Hub(sensor);

        brokerTakes = false;
        await hub.PollAsync(sensor, CancellationToken.None);
        brokerTakes = true;
        await hub.PollAsync(sensor, CancellationToken.None);
        await hub.PollAsync(sensor, CancellationToken.None);

        Assert.Equal(LidState.Closed, Assert.IsType<LidSignal>(Assert.Single(Signals())).State);
    }

    // nmcli -t escapes the colons inside a BSSID.
    private const string NmcliHome = "no:Neighbours:11\\:22\\:33\\:44\\:55\\:66:40\nyes:HomeNet:AA\\:BB\\:CC\\:DD\\:EE\\:FF:72\nno::66\\:55\\:44\\:33\\:22\\:11:20\n";

    [Fact]
    public async Task Wifi_publishes_the_network_it_joins_and_another_access_point_but_not_a_wavering_signal()
    {
        var sensor = new WifiSensor(runner, "nmcli");
        var hub = Hub(sensor);

        runner.Answer = (line, _) => Task.FromResult(RecordingRunner.Ok(NmcliHome));
        await hub.PollAsync(sensor, CancellationToken.None);
        runner.Answer = (line, _) => Task.FromResult(RecordingRunner.Ok(NmcliHome.Replace(":72", ":64")));
        await hub.PollAsync(sensor, CancellationToken.None);
        runner.Answer = (line, _) => Task.FromResult(RecordingRunner.Ok(NmcliHome.Replace("AA\\:BB", "AA\\:BC")));
        await hub.PollAsync(sensor, CancellationToken.None);
        runner.Answer = (line, _) => Task.FromResult(RecordingRunner.Ok(NmcliHome.Replace("yes:", "no:")));
        await hub.PollAsync(sensor, CancellationToken.None);
        await hub.PollAsync(sensor, CancellationToken.None);

        Assert.Equal("nmcli -t -f ACTIVE,SSID,BSSID,SIGNAL dev wifi list --rescan no", runner.Commands[0]);
        var signals = Signals().Cast<WifiSignal>().ToList();
        Assert.Equal(3, signals.Count);
        Assert.Equal((WifiState.Connected, "HomeNet", "aa:bb:cc:dd:ee:ff", (int?)-64), (signals[0].State, signals[0].Ssid, signals[0].Bssid, signals[0].Rssi));
        Assert.Equal("aa:bc:cc:dd:ee:ff", signals[1].Bssid);
        Assert.Equal(WifiState.Disconnected, signals[2].State);
        Assert.Null(signals[2].Ssid);
    }

    [Fact]
    public async Task Wifi_without_networkmanager_stays_quiet()
    {
        runner.Answer = (_, _) => Task.FromResult(RecordingRunner.Error("Error: NetworkManager is not running.\n", 8));
        var sensor = new WifiSensor(runner, "nmcli");
        var hub = Hub(sensor);

        await hub.PollAsync(sensor, CancellationToken.None);
        await hub.PollAsync(sensor, CancellationToken.None);

        Assert.Empty(published);
        Assert.Single(log.Lines, l => l.Message.Contains("NetworkManager is not running", StringComparison.Ordinal));
    }

    private static readonly string ShowSession =
        "loginctl show-session {0} -p Name -p Class -p State -p Remote -p LockedHint -p IdleHint -p IdleSinceHint";

    /// <summary>Alice at the console (session 2) and over SSH (session 5); the SSH one never locks or idles.</summary>
    private void Logind(string aliceLocked, string aliceIdle, long idleSinceUs, bool aliceThere = true)
    {
        var sessions = new Dictionary<string, string>
        {
            ["2"] = $"Name=alice\nClass=user\nState=active\nRemote=no\nLockedHint={aliceLocked}\nIdleHint={aliceIdle}\nIdleSinceHint={idleSinceUs}\n",
            ["5"] = "Name=alice\nClass=user\nState=active\nRemote=yes\nLockedHint=no\nIdleHint=no\nIdleSinceHint=0\n",
            ["c1"] = "Name=gdm\nClass=greeter\nState=online\nRemote=no\nLockedHint=no\nIdleHint=no\nIdleSinceHint=0\n",
        };
        var list = aliceThere
            ? "      2 1000 alice seat0 tty2\n      5 1000 alice       pts/1\n     c1  118 gdm   seat0 tty1\n"
            : "     c1  118 gdm   seat0 tty1\n";
        runner.Answer = (line, _) =>
        {
            if (line == "loginctl list-sessions --no-legend")
            {
                return Task.FromResult(RecordingRunner.Ok(list));
            }

            var id = sessions.Keys.FirstOrDefault(k => line == string.Format(ShowSession, k));
            return Task.FromResult(id is not null ? RecordingRunner.Ok(sessions[id]) : RecordingRunner.Error($"Failed to get session: unexpected '{line}'"));
        };
    }

    [Fact]
    public async Task Logind_sessions_become_login_lock_unlock_idle_and_logout()
    {
        var sensor = new LogindSensor(runner, "loginctl", clock);
        var hub = Hub(sensor);

        Logind("no", "no", 0);
        await hub.PollAsync(sensor, CancellationToken.None);
        await hub.PollAsync(sensor, CancellationToken.None);
        Logind("yes", "yes", (Start - Duration.FromMinutes(10)).ToUnixTimeTicks() / 10);
        await hub.PollAsync(sensor, CancellationToken.None);
        clock.Now += Duration.FromMinutes(1);
        await hub.PollAsync(sensor, CancellationToken.None);
        Logind("no", "no", 0);
        await hub.PollAsync(sensor, CancellationToken.None);
        Logind("no", "no", 0, aliceThere: false);
        await hub.PollAsync(sensor, CancellationToken.None);
        await hub.PollAsync(sensor, CancellationToken.None);

        Assert.Equal("loginctl list-sessions --no-legend", runner.Commands[0]);
        Assert.Equal(string.Format(ShowSession, "2"), runner.Commands[1]);
        var said = Signals().Select(s => s switch
        {
            SessionSignal session => $"{session.UserName} {ContractJson.WireName(session.State)} {ContractJson.WireName(session.Seat)}",
            IdleSignal idle => $"{idle.UserName} idle {idle.IdleSeconds}",
            _ => s.Kind,
        });
        Assert.Equal(
            ["alice login console", "alice idle 0", "alice lock console", "alice idle 600", "alice unlock console", "alice idle 0", "alice logout console"],
            said);
    }

    [Fact]
    public async Task Logind_missing_stays_quiet()
    {
        runner.Answer = (_, _) => throw new ProgramNotFoundException("loginctl");
        var sensor = new LogindSensor(runner, "loginctl", clock);
        var hub = Hub(sensor);

        await hub.PollAsync(sensor, CancellationToken.None);

        Assert.Empty(published);
        Assert.Single(log.Lines);
    }

    [Fact]
    public void Sensors_are_off_unless_switched_on_and_only_run_on_linux()
    {
        var options = new SensorOptions();
        Assert.Empty(SensorHub.Enabled(options, runner, clock, NullLogger.Instance, linux: true));

        options.Lid.Enabled = true;
        options.Wifi.Enabled = true;
        options.Wifi.Interval = TimeSpan.FromSeconds(30);
        var enabled = SensorHub.Enabled(options, runner, clock, NullLogger.Instance, linux: true);
        Assert.Equal([("Lid", TimeSpan.FromSeconds(5)), ("Wifi", TimeSpan.FromSeconds(30))], enabled.Select(s => (s.Sensor.Name, s.Interval)));

        Assert.Empty(SensorHub.Enabled(options, runner, clock, NullLogger.Instance, linux: false));
    }

    [Fact]
    public void Sensor_switches_bind_from_configuration()
    {
        var (_, options) = AgentConfiguration.Load(
            ["--host", "imac", "--Agent:Sensors:Lid:Enabled=true", "--Agent:Sensors:Power:Interval=00:00:30"],
            new Dictionary<string, string>(), Path.Combine(root, "none.json"));

        Assert.True(options.Sensors.Lid.Enabled);
        Assert.False(options.Sensors.Logind.Enabled);
        Assert.Equal(TimeSpan.FromSeconds(30), options.Sensors.Power.Interval);
    }
}
