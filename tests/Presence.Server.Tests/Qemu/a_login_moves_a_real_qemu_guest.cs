using System.Diagnostics;
using Presence.Contracts.Agents;
using Presence.Domain.Migration;
using Presence.Server.Tests.Infrastructure;

namespace Presence.Server.Tests.Qemu;

/// <summary>The whole path on real qemu: an MQTT login moves the running guest from the basement to the iMac.</summary>
[Collection(QemuHouse.Collection)]
public sealed class a_login_moves_a_real_qemu_guest : QemuHouse
{
    [Fact]
    public async Task the_guest_runs_on_the_imac_afterwards()
    {
        await using var probe = await MqttProbe.ConnectAsync(server.MqttPort, "probe-qemu", "presence/users/alice/state", "presence/agents/+/events");
        await LogInAtTheImacAsync();

        await probe.WaitForAsync(
            m => m.Topic == "presence/users/alice/state" && m.Json.GetProperty("vm_host").GetString() == "imac",
            TimeSpan.FromSeconds(60), "alice's guest on the imac");

        // qemu's own numbers came back through the agent: the migration had a real duration and downtime.
        var completed = await probe.WaitForAsync(
            m => m.Topic == "presence/agents/basement/events" && m.Json.GetProperty("state").GetString() == "completed",
            what: "the source's completed event");
        Assert.True(completed.Json.GetProperty("total_time_ms").GetInt64() > 0);
        Assert.True(completed.Json.TryGetProperty("downtime_ms", out _));

        // The destination runs it and the source no longer does. The destination's inventory is its own reading of
        // its qemu, which may still say "incoming" a moment after the source reported the move done.
        await Eventually.TrueAsync(
            () => Task.FromResult(imac.Inventory.Vms.Any(v => v.Name == "alice-desktop" && v.State == VmState.Running)),
            "the imac's inventory to show alice-desktop running");
        Assert.DoesNotContain(basement.Inventory.Vms, v => v.Name == "alice-desktop" && v.State == VmState.Running);

        var done = Assert.Single((await StreamAsync()).OfType<MigrationCompleted>());
        Assert.Equal(("basement", "imac"), (done.Source, done.Target));
    }

}

/// <summary>The target's qemu dies in the middle of the migration: the guest runs on where it was, and the saga says why.</summary>
[Collection(QemuHouse.Collection)]
public sealed class the_target_qemu_dies_mid_migration : QemuHouse
{
    // Slow enough that the migration is still running when the target is killed.
    protected override int MaxBandwidthMbps => 2;

    [Fact]
    public async Task the_guest_keeps_running_in_the_basement()
    {
        await using var probe = await MqttProbe.ConnectAsync(server.MqttPort, "probe-qemu-kill", "presence/users/alice/state", "presence/agents/+/events");
        await LogInAtTheImacAsync();
        await probe.WaitForAsync(
            m => m.Topic == "presence/agents/basement/events" && m.Json.GetProperty("state").GetString() == "progress",
            TimeSpan.FromSeconds(30), "the migration under way");

        var pidFile = Path.Combine(scratch, "imac", "qemu", "alice-desktop.pid");
        using (var target = Process.GetProcessById(int.Parse((await File.ReadAllTextAsync(pidFile)).Trim())))
        {
            target.Kill();
        }

        await probe.WaitForAsync(
            m => m.Topic == "presence/agents/basement/events" && m.Json.GetProperty("state").GetString() == "failed",
            TimeSpan.FromSeconds(30), "the source's failed event");
        await Eventually.TrueAsync(async () => (await StreamAsync()).OfType<MigrationFailed>().Any(), "MigrationFailed recorded");

        var failed = Assert.Single((await StreamAsync()).OfType<MigrationFailed>());
        Assert.Equal("basement", failed.StillOn);
        Assert.Contains("basement could not send alice-desktop to imac", failed.Reason);
        Assert.Contains(basement.Inventory.Vms, v => v.Name == "alice-desktop" && v.State == VmState.Running);
        await probe.WaitForAsync(
            m => m.Topic == "presence/users/alice/state" && m.Json.GetProperty("vm_host").GetString() == "basement"
                 && m.Json.GetProperty("migration").ValueKind == System.Text.Json.JsonValueKind.Null,
            what: "alice's state with the VM still in the basement");
    }
}

/// <summary>
/// The target never gets ready (its "qemu" never opens its monitor): the prepare phase times out, the target is
/// told to give up, and the real guest runs on in the basement.
/// </summary>
[Collection(QemuHouse.Collection)]
public sealed class the_target_qemu_never_gets_ready : QemuHouse
{
    protected override (string Key, string Json)[] Policy => [("PrepareTimeout", "\"2s\"")];

    protected override string ImacBinary(string qemu)
    {
        var silent = Path.Combine(scratch, "silent-qemu");
        File.WriteAllText(silent, "#!/bin/sh\nexec sleep 600\n");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(silent, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        return silent;
    }

    [Fact]
    public async Task the_prepare_times_out_and_the_guest_stays_in_the_basement()
    {
        await using var probe = await MqttProbe.ConnectAsync(server.MqttPort, "probe-qemu-silent", "presence/users/alice/state", "presence/agents/imac/commands");
        await LogInAtTheImacAsync();

        await probe.WaitForAsync(
            m => m.Topic == "presence/agents/imac/commands" && m.Json.GetProperty("type").GetString() == "abort_incoming",
            TimeSpan.FromSeconds(30), "abort_incoming to the imac after the timeout");
        await Eventually.TrueAsync(async () => (await StreamAsync()).OfType<MigrationFailed>().Any(), "MigrationFailed recorded");

        var failed = Assert.Single((await StreamAsync()).OfType<MigrationFailed>());
        Assert.Equal("basement", failed.StillOn);
        Assert.Contains("did not answer prepare_incoming within 2 s", failed.Reason);
        Assert.Contains(basement.Inventory.Vms, v => v.Name == "alice-desktop" && v.State == VmState.Running);
    }
}
