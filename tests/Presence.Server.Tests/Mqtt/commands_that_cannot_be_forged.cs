using Presence.Contracts.Agents;
using Presence.Domain.Migration;
using Presence.Server.Tests.Infrastructure;

namespace Presence.Server.Tests.Mqtt;

/// <summary>
/// Issue 10, §2: the agent carries out the server's commands and nobody else's, even when the broker lets anyone
/// publish anywhere (here an open broker, standing in for a misconfigured or compromised one); and the server signs
/// a migrate only to the address the house knows for its target.
/// </summary>
public sealed class commands_that_cannot_be_forged
{
    [Fact]
    public async Task a_migrate_published_past_the_server_through_an_open_broker_is_refused_and_the_vm_stays()
    {
        await using var broker = await ExternalBroker.StartAsync(open: true);
        await using var server = await TestServer.StartAsync(externalBrokerPort: broker.Port);
        await using var basement = await TestAgents.StartAsync("basement", broker.Port, server.Directory, ("alice-desktop", 2048));
        await using var evil = await MqttProbe.ConnectAsync(broker.Port, "presence-server-evil", "presence/agents/basement/events");

        await evil.PublishAsync("presence/agents/basement/commands",
            """{"command_id":"11111111-2222-3333-4444-555555555555","type":"migrate","vm":"alice-desktop","target_host":"imac","target_uri":"tcp:127.0.0.1:45999","mode":"live","max_bandwidth_mbps":1000,"downtime_limit_ms":300}""");

        var answer = await evil.WaitForAsync(m => m.Json.GetProperty("command_id").GetString() == "11111111-2222-3333-4444-555555555555",
            what: "the basement agent's answer to the forged migrate");
        Assert.Equal("failed", answer.Json.GetProperty("state").GetString());
        Assert.Contains("not signed by this house's server", answer.Json.GetProperty("error").GetString());
        Assert.Equal(VmState.Running, Assert.Single(basement.Inventory.Vms, v => v.Name == "alice-desktop").State);
    }

    [Fact]
    public async Task the_servers_own_commands_through_the_same_open_broker_are_carried_out()
    {
        await using var broker = await ExternalBroker.StartAsync(open: true);
        await using var server = await TestServer.StartAsync(externalBrokerPort: broker.Port);
        await using var basement = await TestAgents.StartAsync("basement", broker.Port, server.Directory, ("alice-desktop", 2048));
        await using var imac = await TestAgents.StartAsync("imac", broker.Port, server.Directory);
        await using var probe = await MqttProbe.ConnectAsync(broker.Port, "probe-signed", "presence/agents/+/events", "presence/users/alice/state");
        await Eventually.TrueAsync(async () =>
        {
            await using var session = server.Store.QuerySession();
            var hosts = await Marten.QueryableExtensions.ToListAsync(session.Query<Presence.Domain.Hosts.HostState>());
            return hosts.Count(h => h.AgentOnline && h.MemoryMb > 0) == 2;
        }, "both agents online");

        await probe.PublishAsync("presence/hosts/imac/signals/session", """{"id":"login-1","user":"alice","state":"login","seat":"console"}""");

        await probe.WaitForAsync(m => m.Topic == "presence/users/alice/state" && m.Json.GetProperty("vm_host").GetString() == "imac",
            TimeSpan.FromSeconds(60), "alice's VM on the imac");
        Assert.Contains(imac.Inventory.Vms, v => v.Name == "alice-desktop" && v.State == VmState.Running);
        Assert.DoesNotContain(probe.All, m => m.Topic.EndsWith("/events", StringComparison.Ordinal) && m.Json.GetProperty("state").GetString() == "failed");
    }

    [Fact]
    public async Task a_target_offering_an_address_the_house_does_not_know_gets_no_migrate_and_the_move_is_compensated()
    {
        await using var house = await RunningHouse.StartAsync(TestHouse.Json, ("basement", [("alice-desktop", 2048)]));
        await using var fakeImac = await house.SilentAgentAsync("imac");

        await house.PublishAsHostAsync("imac", "presence/hosts/imac/signals/session", """{"id":"login-1","user":"alice","state":"login","seat":"console"}""");
        var prepare = await fakeImac.WaitForAsync(m => m.Json.GetProperty("type").GetString() == "prepare_incoming", what: "prepare_incoming");
        var commandId = prepare.Json.GetProperty("command_id").GetString();
        await fakeImac.PublishAsync("presence/agents/imac/events",
            $$"""{"id":"ready-1","command_id":"{{commandId}}","vm":"alice-desktop","state":"ready","incoming_uri":"tcp:10.66.66.66:4444"}""");

        var failed = await Eventually.GetAsync(
            async () => (await house.StreamAsync("alice")).OfType<MigrationFailed>().SingleOrDefault(),
            "MigrationFailed in alice's stream", TimeSpan.FromSeconds(30));
        Assert.Contains("is not at the address the house knows for it (imac", failed.Reason);
        Assert.Equal("basement", failed.StillOn);
        await fakeImac.WaitForAsync(m => m.Json.GetProperty("type").GetString() == "abort_incoming", what: "abort_incoming");
        Assert.DoesNotContain(house.Probe.All, m => m.Topic == "presence/agents/basement/commands" && m.Json.GetProperty("type").GetString() == "migrate");
        Assert.Contains(house.Agent("basement").Inventory.Vms, v => v.Name == "alice-desktop" && v.State == VmState.Running);
    }

    [Fact]
    public async Task server_key_prints_the_key_the_server_wrote_for_its_local_agents()
    {
        await using var server = await TestServer.StartAsync();

        var run = await PresenceCli.AgainstAsync(server, "server-key");

        Assert.True(run.ExitCode == 0, run.Output);
        var printed = run.Stdout.Trim();
        Assert.Equal((await File.ReadAllTextAsync(TestServer.ServerKeyFile(server.Directory))).Trim(), printed);
        HouseKey.ImportPublicKey(printed).Dispose();
        Assert.Contains("Agent:Trust:ServerKey", run.Stderr);
    }
}
