using System.Diagnostics;
using System.Net.Http;
using System.Text.Json;
using MQTTnet;
using MQTTnet.Protocol;
using Npgsql;
using Presence.Agent;
using Presence.Server.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Presence.Server.Tests.Drills;

/// <summary>
/// Drill (issue 10 §3, docs/drills.md): two server processes on one PostgreSQL and one mosquitto, each with its own
/// persistent session, so both receive every message; one is SIGKILLed mid-stream. The other must carry on: every
/// signal stored once (the loser of each race finds the winner's row), each decision taken once, and what the dead
/// one had decided but not yet sent is sent by the survivor.
/// </summary>
[Trait("Category", "Drill")]
public sealed class two_server_nodes_one_killed(ITestOutputHelper output) : ServerProcessDrill("nodes")
{
    private static readonly int Count = Drill.Count("PRESENCE_DRILL_NODE_SIGNALS", 200);

    private readonly List<PresenceAgent> agents = [];

    public override async Task DisposeAsync()
    {
        foreach (var agent in agents)
        {
            await agent.DisposeAsync();
        }

        await base.DisposeAsync();
    }

    [Fact]
    public async Task the_other_node_carries_on_with_nothing_lost_and_nothing_twice()
    {
        // One folder: the nodes share the house file and the signing key the agents trust.
        servers.Add(await ServerProcess.StartAsync(database, broker, directory, "node-a"));
        servers.Add(await ServerProcess.StartAsync(database, broker, directory, "node-b"));

        await using var emitter = await MqttProbe.ConnectAsync(broker, "imac-emitter", "imac");
        // Which node wins each race is up to the scheduler: a node that falls behind once finds every row taken and
        // may never win again. node-b stands still for the first signals, so node-a surely decided some before it dies.
        await servers[1].PauseAsync();
        var sent = Stopwatch.StartNew();
        for (var i = 0; i < Count; i++)
        {
            if (i == Count / 4)
            {
                await Eventually.TrueAsync(async () => (await AliceEventsByNodeAsync()).GetValueOrDefault("node-a") > 0,
                    "node-a deciding while node-b stands still", TimeSpan.FromSeconds(30));
                await servers[1].ResumeAsync();
            }

            if (i == Count / 2)
            {
                servers[0].Kill();
            }

            await emitter.PublishAsync(DrillSignals.Topic, DrillSignals.Payload(i));
            // Spread out as a computer's signals are, so both nodes are deciding when one dies.
            await Task.Delay(10);
        }

        var stored = await StoredWhileProgressingAsync(Count);
        var deciders = await AliceEventsByNodeAsync();
        output.WriteLine($"{Count} sent, node-a SIGKILLed after {Count / 2}; {stored.Count} stored, {stored.Distinct().Count()} distinct; " +
                         $"recorded by {string.Join(", ", deciders.Select(d => $"{d.Key} {d.Value}"))} in {sent.Elapsed.TotalSeconds:0.0} s");
        Assert.Equal(Enumerable.Range(0, Count).Select(DrillSignals.IdOf).Order(), stored.Order());
        Assert.True(deciders.GetValueOrDefault("node-a") > 0, "node-a decided nothing before it was killed: the drill did not race two nodes");
        Assert.True(deciders.GetValueOrDefault("node-b") > 0, "node-b recorded nothing");
    }

    /// <summary>
    /// The node that decided a move dies while the VM is on the wire; the agents' reports reach the other node, which
    /// ends the move from the saga in the store: once, on the target.
    /// </summary>
    [Fact]
    public async Task a_move_decided_by_the_killed_node_is_ended_once_by_the_other()
    {
        servers.Add(await ServerProcess.StartAsync(database, broker, directory, "node-a"));
        servers.Add(await ServerProcess.StartAsync(database, broker, directory, "node-b"));
        // A tenth of a real link's speed: the migration is still under way when the node dies.
        agents.Add(await TestAgents.StartAsync("basement", broker, directory, 2, ("alice-desktop", 2048)));
        agents.Add(await TestAgents.StartAsync("imac", broker, directory, 2));
        await using var probe = await MqttProbe.ConnectAsync(broker, "probe-nodes", "homeassistant",
            "presence/agents/+/events", "presence/agents/+/commands", "presence/users/alice/state");
        foreach (var server in servers)
        {
            await Eventually.TrueAsync(async () => await server.HostsOnlineAsync() == 2, "both agents known to both nodes", TimeSpan.FromSeconds(60));
        }

        await using (var emitter = await MqttProbe.ConnectAsync(broker, "imac-emitter", "imac"))
        {
            await emitter.PublishAsync("presence/hosts/imac/signals/session", """{"id":"nodes-login","user":"alice","state":"login"}""");
        }

        await probe.WaitForAsync(m => m.Topic == "presence/agents/basement/events" && m.Json.GetProperty("state").GetString() == "progress",
            TimeSpan.FromSeconds(60), "the migration under way");
        var decider = (await DecidedByAsync("placement_decided")).Single();
        var (killed, survivor) = decider == "node-a" ? (servers[0], servers[1]) : (servers[1], servers[0]);
        killed.Kill();
        var kill = Stopwatch.StartNew();

        await probe.WaitForAsync(m => m.Topic == "presence/users/alice/state" && m.Json.GetProperty("vm_host").GetString() == "imac"
                                      && m.Json.GetProperty("mode").GetString() != "moving",
            TimeSpan.FromSeconds(90), "alice's VM on the imac after the kill");
        var ended = kill.Elapsed;

        var timeline = await survivor.TimelineAsync("alice");
        Assert.Equal(1, timeline.Count(e => e == "migration_completed"));
        Assert.DoesNotContain("migration_failed", timeline);
        Assert.Equal(1, timeline.Count(e => e == "placement_decided"));
        var completedBy = (await DecidedByAsync("migration_completed")).Single();
        // Each step decided once, whichever node took it: a decision taken twice would show as a second command id.
        // The same command may be delivered again (the survivor recovers what the dead node had sent but not yet
        // marked as sent); the agent answers a known command_id with what it recorded and does not run it again.
        var commands = probe.All.Where(m => m.Topic.EndsWith("/commands", StringComparison.Ordinal))
            .Select(m => (Type: m.Json.GetProperty("type").GetString()!, Id: m.Json.GetProperty("command_id").GetString()!)).ToList();
        Assert.Single(commands.Where(c => c.Type == "prepare_incoming").Select(c => c.Id).Distinct());
        Assert.Single(commands.Where(c => c.Type == "migrate").Select(c => c.Id).Distinct());
        Assert.NotEqual(decider, completedBy);
        // On exactly one host: the agents' own word.
        Assert.Contains(agents[1].Inventory.Vms, v => v.Name == "alice-desktop");
        Assert.DoesNotContain(agents[0].Inventory.Vms, v => v.Name == "alice-desktop" && v.State == Presence.Contracts.Agents.VmState.Running);
        output.WriteLine($"{decider} decided the move and was SIGKILLed mid-migration; {completedBy} ended it on the imac {ended.TotalSeconds:0.0} s " +
                         $"after the kill; " +
                         $"commands delivered: {string.Join(", ", commands.Select(c => c.Type))}; timeline: {string.Join(", ", timeline)}");
    }

    /// <summary>
    /// The imac hears prepare_incoming and never answers; the node that decided the move dies before the phase's
    /// timeout is due. The timeout is a durable scheduled message any node may fire: the survivor gives the move up.
    /// </summary>
    [Fact]
    public async Task a_timeout_scheduled_by_the_killed_node_fires_on_the_other()
    {
        var house = TestHouse.WithPolicy(("PrepareTimeout", "\"4s\""));
        servers.Add(await ServerProcess.StartAsync(database, broker, directory, "node-a", house));
        servers.Add(await ServerProcess.StartAsync(database, broker, directory, "node-b", house));
        agents.Add(await TestAgents.StartAsync("basement", broker, directory, ("alice-desktop", 2048)));
        await using var silentImac = await MqttProbe.ConnectAsync(broker, "imac-silent", "imac", "presence/agents/imac/commands");
        await silentImac.PublishAsync("presence/agents/imac/status", """{"id":"status-1","state":"online","agent_version":"silent","hypervisor":"simulated"}""", retain: true);
        await silentImac.PublishAsync("presence/agents/imac/inventory",
            """{"cpus":4,"memory_mb":16384,"memory_free_mb":16384,"on_battery":false,"battery_percent":null,"link_mbps":1000,"vms":[]}""", retain: true);
        foreach (var server in servers)
        {
            await Eventually.TrueAsync(async () => await server.HostsOnlineAsync() == 2, "both agents known to both nodes", TimeSpan.FromSeconds(60));
        }

        await silentImac.PublishAsync("presence/hosts/imac/signals/session", """{"id":"timeout-login","user":"alice","state":"login"}""");
        await silentImac.WaitForAsync(m => m.Json.GetProperty("type").GetString() == "prepare_incoming", TimeSpan.FromSeconds(30), "prepare_incoming at the imac");
        var decider = (await DecidedByAsync("placement_decided")).Single();
        var (killed, survivor) = decider == "node-a" ? (servers[0], servers[1]) : (servers[1], servers[0]);
        killed.Kill();
        var kill = Stopwatch.StartNew();

        await Eventually.TrueAsync(async () => (await survivor.TimelineAsync("alice")).Contains("migration_failed"),
            "the move given up by the surviving node", TimeSpan.FromSeconds(60));
        var failedAfter = kill.Elapsed;
        var timeline = await survivor.TimelineAsync("alice");
        Assert.Equal(1, timeline.Count(e => e == "migration_failed"));
        Assert.DoesNotContain("migration_completed", timeline);
        Assert.NotEqual(decider, (await DecidedByAsync("migration_failed")).Single());
        Assert.Contains(agents[0].Inventory.Vms, v => v.Name == "alice-desktop" && v.State == Presence.Contracts.Agents.VmState.Running);
        output.WriteLine($"{decider} decided the move and was SIGKILLed while the imac kept silent; the 4 s prepare timeout fired on the other node " +
                         $"and the move was given up {failedAfter.TotalSeconds:0.0} s after the kill; timeline: {string.Join(", ", timeline)}");
    }

    /// <summary>The node header of alice's events of one kind (Marten's snake_case event type name).</summary>
    private async Task<List<string>> DecidedByAsync(string eventType)
    {
        await using var connection = new NpgsqlConnection(database);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "select headers->>'node' from presence.mt_events where stream_id = 'alice' and type = @type order by seq_id", connection);
        command.Parameters.AddWithValue("type", eventType);
        var nodes = new List<string>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
            nodes.Add(reader.GetString(0));
        return nodes;
    }

    private async Task<List<string>> StoredWhileProgressingAsync(int count)
    {
        var stalled = TimeSpan.FromSeconds(30);
        var progress = Stopwatch.StartNew();
        var stored = await StoredAsync();
        while (stored.Count < count && progress.Elapsed < stalled)
        {
            await Task.Delay(250);
            var now = await StoredAsync();
            if (now.Count > stored.Count) progress.Restart();
            stored = now;
        }

        return stored;
    }

    private Task<List<string>> StoredAsync() => DrillSignals.StoredAsync(database);
}
