using Marten;
using Presence.Agent;
using Presence.Domain.Hosts;
using Presence.Domain.Users;

namespace Presence.Server.Tests.Infrastructure;

/// <summary>A server with simulated agents on some of its hosts and a probe watching the broker.</summary>
public sealed class RunningHouse : IAsyncDisposable
{
    private readonly List<PresenceAgent> agents = [];

    private RunningHouse(TestServer server, MqttProbe probe)
    {
        Server = server;
        Probe = probe;
    }

    public TestServer Server { get; }
    public MqttProbe Probe { get; }
    public IReadOnlyList<PresenceAgent> Agents => agents;

    public static async Task<RunningHouse> StartAsync(string houseJson, params (string Host, (string Vm, int MemoryMb)[] Vms)[] hosts)
    {
        var server = await TestServer.StartAsync(houseJson: houseJson);
        var probe = await MqttProbe.ConnectAsync(server.MqttPort, "probe-house",
            "presence/users/+/state", "presence/agents/+/commands", "presence/agents/+/inventory", "presence/errors");
        var house = new RunningHouse(server, probe);
        foreach (var (host, vms) in hosts)
        {
            house.agents.Add(await TestAgents.StartAsync(host, server.MqttPort, server.Directory, vms));
        }

        // Decisions need the agents' facts, as in a house that has been running for a while.
        await Eventually.TrueAsync(async () =>
        {
            await using var session = server.Store.QuerySession();
            var known = await session.Query<HostState>().ToListAsync();
            return hosts.All(h => known.Any(k => k.Name == h.Host && k.AgentOnline && k.MemoryMb > 0));
        }, "every agent online with its inventory stored");
        return house;
    }

    public PresenceAgent Agent(string host) => agents.Single(a => a.Host == host);

    /// <summary>Publishes as the computer itself (its MQTT identity), the only one allowed to speak for it.</summary>
    public async Task PublishAsHostAsync(string host, string topic, string json)
    {
        await using var client = await MqttProbe.ConnectAsAsync(Server.MqttPort, $"{host}-emitter-{Guid.NewGuid():N}", host);
        await client.PublishAsync(topic, json);
    }

    public async Task<IReadOnlyList<object>> StreamAsync(string user)
    {
        await using var session = Server.Store.QuerySession();
        return (await session.Events.FetchStreamAsync(user)).Select(e => e.Data).ToList();
    }

    public async Task<UserSaga?> SagaAsync(string user)
    {
        await using var session = Server.Store.QuerySession();
        return await session.LoadAsync<UserSaga>(user);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var agent in agents)
        {
            await agent.DisposeAsync();
        }

        await Probe.DisposeAsync();
        await Server.DisposeAsync();
    }
}
