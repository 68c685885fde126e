using System.Diagnostics;
using System.Net.Http;
using System.Text.Json;
using Presence.Agent;
using Presence.Server.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Presence.Server.Tests.Drills;

/// <summary>
/// Drill (issue 10 §3, docs/drills.md): the server process is SIGKILLed while a migration it started runs, and a new
/// one starts on the same database, broker session and folder. The move must end once, on the target: the saga is
/// in the store, and what the agents reported meanwhile waited for it at mosquitto.
/// </summary>
[Trait("Category", "Drill")]
public sealed class server_killed_mid_migration(ITestOutputHelper output) : IAsyncLifetime
{
    private ExternalBroker broker = null!;
    private string database = null!;
    private string directory = null!;
    private readonly List<ServerProcess> servers = [];
    private readonly List<PresenceAgent> agents = [];

    public async Task InitializeAsync()
    {
        broker = await ExternalBroker.StartAsync();
        database = await PostgresCluster.NewDatabaseAsync("drill_kill");
        directory = PostgresCluster.NewScratchDirectory("drill-kill");
    }

    public async Task DisposeAsync()
    {
        foreach (var agent in agents)
        {
            await agent.DisposeAsync();
        }

        foreach (var server in servers)
        {
            await server.DisposeAsync();
        }

        await broker.DisposeAsync();
    }

    [Fact]
    public async Task the_move_ends_once_on_the_target_after_the_restart()
    {
        // Same node name: the new process takes over the dead one's persistent session at mosquitto.
        servers.Add(await ServerProcess.StartAsync(database, broker, directory, "drill"));
        // A tenth of a real link's speed: the migration is still under way when the server dies.
        agents.Add(await TestAgents.StartAsync("basement", broker, directory, 2, ("alice-desktop", 2048)));
        agents.Add(await TestAgents.StartAsync("imac", broker, directory, 2));
        await using var probe = await MqttProbe.ConnectAsync(broker, "probe-kill", "homeassistant", "presence/agents/+/events", "presence/users/alice/state");
        await Eventually.TrueAsync(async () => await servers[0].HostsOnlineAsync() == 2, "both agents known to the server", TimeSpan.FromSeconds(60));

        await using (var emitter = await MqttProbe.ConnectAsync(broker, "imac-emitter", "imac"))
        {
            await emitter.PublishAsync("presence/hosts/imac/signals/session", """{"id":"kill-login","user":"alice","state":"login"}""");
        }

        await probe.WaitForAsync(m => m.Topic == "presence/agents/basement/events" && m.Json.GetProperty("state").GetString() == "progress",
            TimeSpan.FromSeconds(60), "the migration under way");
        servers[0].Kill();
        var restart = Stopwatch.StartNew();
        servers.Add(await ServerProcess.StartAsync(database, broker, directory, "drill"));
        var ready = restart.Elapsed;

        await probe.WaitForAsync(m => m.Topic == "presence/users/alice/state" && m.Json.GetProperty("vm_host").GetString() == "imac"
                                      && m.Json.GetProperty("mode").GetString() != "moving",
            TimeSpan.FromSeconds(90), "alice's VM on the imac after the restart");
        var ended = restart.Elapsed;

        var timeline = await servers[1].TimelineAsync("alice");
        Assert.Equal(1, timeline.Count(e => e == "migration_completed"));
        Assert.DoesNotContain("migration_failed", timeline);
        Assert.Equal(1, timeline.Count(e => e == "placement_decided"));
        // On exactly one host: the agents' own word.
        Assert.Contains(agents[1].Inventory.Vms, v => v.Name == "alice-desktop");
        Assert.DoesNotContain(agents[0].Inventory.Vms, v => v.Name == "alice-desktop" && v.State == Presence.Contracts.Agents.VmState.Running);
        output.WriteLine($"server SIGKILLed mid-migration; the next one ready in {ready.TotalSeconds:0.0} s, the move ended on the imac " +
                         $"{ended.TotalSeconds:0.0} s after the kill; timeline: {string.Join(", ", timeline)}");
    }

    /// <summary>
    /// The imac hears prepare_incoming and never answers; the server dies before the phase's timeout is due. The
    /// timeout is a durable scheduled message: the next process must fire it and give the move up, VM where it was.
    /// </summary>
    [Fact]
    public async Task a_timeout_scheduled_before_the_kill_fires_after_the_restart()
    {
        var house = TestHouse.WithPolicy(("PrepareTimeout", "\"4s\""));
        servers.Add(await ServerProcess.StartAsync(database, broker, directory, "drill", house));
        agents.Add(await TestAgents.StartAsync("basement", broker, directory, ("alice-desktop", 2048)));
        await using var silentImac = await MqttProbe.ConnectAsync(broker, "imac-silent", "imac", "presence/agents/imac/commands");
        await silentImac.PublishAsync("presence/agents/imac/status", """{"id":"status-1","state":"online","agent_version":"silent","hypervisor":"simulated"}""", retain: true);
        await silentImac.PublishAsync("presence/agents/imac/inventory",
            """{"cpus":4,"memory_mb":16384,"memory_free_mb":16384,"on_battery":false,"battery_percent":null,"link_mbps":1000,"vms":[]}""", retain: true);
        await using var probe = await MqttProbe.ConnectAsync(broker, "probe-timeout", "homeassistant", "presence/users/alice/state");
        await Eventually.TrueAsync(async () => await servers[0].HostsOnlineAsync() == 2, "both agents known to the server", TimeSpan.FromSeconds(60));

        await silentImac.PublishAsync("presence/hosts/imac/signals/session", """{"id":"timeout-login","user":"alice","state":"login"}""");
        await silentImac.WaitForAsync(m => m.Json.GetProperty("type").GetString() == "prepare_incoming", TimeSpan.FromSeconds(30), "prepare_incoming at the imac");
        servers[0].Kill();
        var restart = Stopwatch.StartNew();
        servers.Add(await ServerProcess.StartAsync(database, broker, directory, "drill", house));

        await Eventually.TrueAsync(async () => (await servers[1].TimelineAsync("alice")).Contains("migration_failed"),
            "the move given up after the restart", TimeSpan.FromSeconds(60));
        var failedAfter = restart.Elapsed;
        var timeline = await servers[1].TimelineAsync("alice");
        Assert.Equal(1, timeline.Count(e => e == "migration_failed"));
        Assert.DoesNotContain("migration_completed", timeline);
        await probe.WaitForAsync(m => m.Json.GetProperty("vm_host").GetString() == "basement" && m.Json.GetProperty("mode").GetString() != "moving",
            TimeSpan.FromSeconds(30), "alice's VM still on the basement, not moving");
        Assert.Contains(agents[0].Inventory.Vms, v => v.Name == "alice-desktop" && v.State == Presence.Contracts.Agents.VmState.Running);
        output.WriteLine($"server SIGKILLed while the imac kept silent; the 4 s prepare timeout fired and the move was given up {failedAfter.TotalSeconds:0.0} s " +
                         $"after the kill; timeline: {string.Join(", ", timeline)}");
    }
}
