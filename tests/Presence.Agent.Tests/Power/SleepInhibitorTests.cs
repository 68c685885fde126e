using Microsoft.Extensions.Logging;
using Presence.Agent.Power;
using Presence.Agent.Tests.Support;

namespace Presence.Agent.Tests.Power;

public sealed class SleepInhibitorTests
{
    private readonly RecordingRunner runner = new();
    private readonly ListLogger log = new();

    [Fact]
    public void A_hold_runs_systemd_inhibit_blocking_sleep_and_the_lid_switch_until_released()
    {
        runner.Installed.Add("systemd-inhibit");
        var inhibitor = new SleepInhibitor(log, runner, linux: true);

        inhibitor.Hold("alice-desktop");
        inhibitor.Hold("alice-desktop");

        var held = Assert.Single(runner.Started);
        Assert.Equal(
            "systemd-inhibit --what=sleep:handle-lid-switch --who=presence \"--why=alice-desktop is arriving\" --mode=block sleep infinity",
            held.Line);
        Assert.Equal(["alice-desktop"], inhibitor.HeldFor);
        Assert.False(held.Killed);

        inhibitor.Release("alice-desktop");

        Assert.True(held.Killed);
        Assert.False(inhibitor.IsHeld);
    }

    [Fact]
    public void Without_systemd_inhibit_a_hold_is_recorded_and_logged_once()
    {
        var inhibitor = new SleepInhibitor(log, runner, linux: true);

        inhibitor.Hold("alice-desktop");

        Assert.Empty(runner.Started);
        Assert.True(inhibitor.IsHeld);
        Assert.Single(log.Lines, l => l.Message.Contains("no systemd-inhibit", StringComparison.Ordinal));
    }

    [Fact]
    public void Off_linux_nothing_is_run()
    {
        runner.Installed.Add("systemd-inhibit");
        var inhibitor = new SleepInhibitor(log, runner, linux: false);

        inhibitor.Hold("alice-desktop");

        Assert.Empty(runner.Started);
    }

    [Fact]
    public async Task Logind_refusing_the_lock_is_logged()
    {
        runner.Installed.Add("systemd-inhibit");
        var inhibitor = new SleepInhibitor(log, runner, linux: true);
        inhibitor.Hold("alice-desktop");

        runner.Started[0].Exit(1, "Failed to inhibit: Transport endpoint is not connected");
        for (var i = 0; i < 100 && !log.Lines.Any(l => l.Level == LogLevel.Warning); i++)
        {
            await Task.Delay(50);
        }

        Assert.Single(log.Lines, l => l.Level == LogLevel.Warning
                                      && l.Message.Contains("Failed to inhibit: Transport endpoint is not connected", StringComparison.Ordinal));
    }
}
