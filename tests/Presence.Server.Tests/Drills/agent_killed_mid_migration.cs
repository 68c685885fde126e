using System.Diagnostics;
using Presence.Agent.Hypervisors.Qemu;
using Presence.Contracts.Agents;
using Presence.Domain.Migration;
using Presence.Server.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Presence.Server.Tests.Drills;

/// <summary>
/// Issue 10 §3, "agent killed mid-migration (source, then target), on real QEMU": the agent process dies without a
/// goodbye while its qemu goes on (qemu is its own process, as after a SIGKILL of the agent); the server hears the
/// last will and compensates, the agent comes back on the same state folder and finds its qemu, and at the end the
/// guest runs on exactly one host, asked of qemu itself (pid and QMP), and the saga has ended.
/// The product default is used: the source qemu is quit after a migration, not kept.
/// </summary>
public abstract class AgentKilledMidMigration(ITestOutputHelper output) : QemuHouse
{
    private const string Vm = "alice-desktop";

    // Slow enough that the migration is still running when the agent is killed.
    protected override int MaxBandwidthMbps => 2;

    protected override bool KeepMigratedSource => false;

    protected abstract string Killed { get; }

    /// <summary>While the killed source agent is away, its qemu finishes sending the guest (the drill lifts the cap).</summary>
    protected virtual bool FinishesWhileAway => false;

    protected async Task RunAsync()
    {
        var clock = Stopwatch.StartNew();
        await using var probe = await MqttProbe.ConnectAsync(server.MqttPort, $"probe-kill-{Killed}", "presence/users/alice/state", "presence/agents/+/events");
        await LogInAtTheImacAsync();
        await probe.WaitForAsync(
            m => m.Topic == "presence/agents/basement/events" && m.Json.GetProperty("state").GetString() == "progress",
            TimeSpan.FromSeconds(30), "the migration under way");
        var sourcePid = Pid("basement");
        var targetPid = Pid("imac");
        await using var source = await QmpClient.ConnectAsync(ObserverSocket("basement"), CancellationToken.None);
        await using var target = await QmpClient.ConnectAsync(ObserverSocket("imac"), CancellationToken.None);

        var victim = Killed == "basement" ? basement : imac;
        await CrashAsync(victim);
        // Killed, the agent cancelled nothing: both qemus are still at it.
        Assert.Equal("active", (await source.QueryMigrateAsync(CancellationToken.None)).Status);
        Assert.False(Exited(targetPid), "the target qemu died with its agent");

        var failed = await Eventually.GetAsync(
            async () => (await StreamAsync()).OfType<MigrationFailed>().SingleOrDefault(), "the server's compensation (MigrationFailed)", TimeSpan.FromSeconds(30));
        Assert.Equal("basement", failed.StillOn);
        Assert.Contains($"{Killed}'s agent went offline during migration", failed.Reason);
        output.WriteLine($"{clock.ElapsedMilliseconds} ms: the server compensated: {failed.Reason}");

        if (FinishesWhileAway)
        {
            // Asked of qemu directly, as nobody else is left to: the migration is allowed to finish.
            await source.ExecuteAsync("migrate-set-parameters", new System.Text.Json.Nodes.JsonObject { ["max-bandwidth"] = 1_250_000_000L, ["downtime-limit"] = 2000 }, CancellationToken.None);
            await Eventually.TrueAsync(async () => (await source.QueryMigrateAsync(CancellationToken.None)).Status == "completed", "the migration completed inside qemu");
            await Eventually.TrueAsync(() => Task.FromResult(imac.Inventory.Vms.Any(v => v.Name == Vm && v.State == VmState.Running)), "alice running in the imac's inventory");
        }

        // The agent comes back on the same state folder and reports what its qemu says.
        if (Killed == "basement")
        {
            basement = await StartAgentAsync("basement");
        }
        else
        {
            imac = await StartAgentAsync("imac");
        }

        var (runsOn, runningPid, gonePid) = FinishesWhileAway ? ("imac", targetPid, sourcePid) : ("basement", sourcePid, targetPid);
        var (running, other) = FinishesWhileAway ? (target, source) : (source, target);
        await Eventually.TrueAsync(() => Task.FromResult(Agent(runsOn).Inventory.Vms.Any(v => v.Name == Vm && v.State == VmState.Running)), $"alice running in the {runsOn}'s inventory");
        await Eventually.TrueAsync(() => Task.FromResult(Exited(gonePid)), "the other qemu gone");
        await Eventually.TrueAsync(() => Task.FromResult(Agent(Other(runsOn)).Inventory.Vms.All(v => v.Name != Vm)), $"no alice in the {Other(runsOn)}'s inventory");

        // Exactly one host: the same qemu runs the guest, no migration under way, and no qemu of it on the other.
        Assert.False(Exited(runningPid), $"the qemu on {runsOn} is gone");
        Assert.Equal("running", await running.QueryStatusAsync(CancellationToken.None));
        if (!FinishesWhileAway)
        {
            // qemu passes through `cancelling` on its own time after the agent's migrate_cancel.
            await Eventually.TrueAsync(async () => (await source.QueryMigrateAsync(CancellationToken.None)).Status == "cancelled",
                "qemu's outgoing migration cancelled");
        }

        Assert.Equal(runningPid, Pid(runsOn));
        await Eventually.TrueAsync(() => Task.FromResult(!other.IsConnected), "the other qemu's monitor closed");

        // The saga ended: compensated, and the VM where qemu says it runs.
        var stream = await StreamAsync();
        Assert.Empty(stream.OfType<MigrationCompleted>());
        Assert.Single(stream.OfType<MigrationFailed>());
        await probe.WaitForAsync(
            m => m.Topic == "presence/users/alice/state" && m.Json.GetProperty("vm_host").GetString() == runsOn
                 && m.Json.GetProperty("migration").ValueKind == System.Text.Json.JsonValueKind.Null,
            what: $"alice's state with the VM on the {runsOn} and no migration");

        output.WriteLine($"agent on {Killed} killed mid-migration{(FinishesWhileAway ? ", qemu finished it meanwhile" : "")}: compensated ({failed.GetType().Name}, " +
                         $"last known on {failed.StillOn}), guest on 1 host ({runsOn}, qemu pid {runningPid} running; qemu pid {gonePid} gone), {clock.ElapsedMilliseconds} ms");
    }

    private Presence.Agent.PresenceAgent Agent(string host) => host == "basement" ? basement : imac;

    private static string Other(string host) => host == "basement" ? "imac" : "basement";

    private int Pid(string host) => int.Parse(File.ReadAllText(Path.Combine(scratch, host, "qemu", Vm + ".pid")).Trim());

    private static bool Exited(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            return process.HasExited;
        }
        catch (ArgumentException)
        {
            return true;
        }
    }
}

[Collection(QemuHouse.Collection)]
public sealed class the_source_agent_is_killed_mid_migration(ITestOutputHelper output) : AgentKilledMidMigration(output)
{
    protected override string Killed => "basement";

    [Fact]
    [Trait("Category", "Drill")]
    public Task the_guest_runs_on_exactly_one_host_and_the_saga_ends() => RunAsync();
}

[Collection(QemuHouse.Collection)]
public sealed class the_target_agent_is_killed_mid_migration(ITestOutputHelper output) : AgentKilledMidMigration(output)
{
    protected override string Killed => "imac";

    [Fact]
    [Trait("Category", "Drill")]
    public Task the_guest_runs_on_exactly_one_host_and_the_saga_ends() => RunAsync();
}

[Collection(QemuHouse.Collection)]
public sealed class the_source_agent_is_killed_and_qemu_finishes_the_migration(ITestOutputHelper output) : AgentKilledMidMigration(output)
{
    protected override string Killed => "basement";

    protected override bool FinishesWhileAway => true;

    [Fact]
    [Trait("Category", "Drill")]
    public Task the_guest_runs_on_the_target_only_and_the_saga_ends() => RunAsync();
}
