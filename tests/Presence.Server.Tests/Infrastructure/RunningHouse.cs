using Marten;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Presence.Agent;
using Presence.Domain.Hosts;
using Presence.Domain.Users;

namespace Presence.Server.Tests.Infrastructure;

/// <summary>A server with simulated agents on some of its hosts and a probe watching the broker.</summary>
public sealed class RunningHouse : IAsyncDisposable
{
    private readonly List<PresenceAgent> agents = [];

    private RunningHouse(TestServer server, MqttProbe probe, LogLines logged)
    {
        Server = server;
        Probe = probe;
        this.logged = logged;
    }

    // Warnings and errors the server logged, for the account of a house that does not come up.
    private readonly LogLines logged;

    public TestServer Server { get; }
    public MqttProbe Probe { get; }
    public IReadOnlyList<PresenceAgent> Agents => agents;

    public static Task<RunningHouse> StartAsync(string houseJson, params (string Host, (string Vm, int MemoryMb)[] Vms)[] hosts) =>
        StartAsync(houseJson, TestAgents.DefaultSpeed, hosts);

    /// <param name="agentSpeed">How many times faster than their links the agents migrate (1: as slow as a real link).</param>
    public static Task<RunningHouse> StartAsync(string houseJson, double agentSpeed, params (string Host, (string Vm, int MemoryMb)[] Vms)[] hosts) =>
        StartAsync(houseJson, agentSpeed, [], hosts);

    /// <param name="settings">More `--Key=value` settings for the server (TestServer.StartAsync).</param>
    public static async Task<RunningHouse> StartAsync(string houseJson, double agentSpeed, IEnumerable<string> settings, params (string Host, (string Vm, int MemoryMb)[] Vms)[] hosts)
    {
        var logged = new LogLines();
        var server = await TestServer.StartAsync(houseJson: houseJson, settings: settings, services: s => s.AddSingleton<ILoggerProvider>(logged));
        // The probe watches everything, as a controller may (a computer may not read another's commands); signals
        // are sent as their computer with PublishAsHostAsync.
        var probe = await MqttProbe.ConnectAsync(server.MqttPort, "probe-house",
            "presence/users/+/state", "presence/agents/+/commands", "presence/agents/+/inventory", "presence/agents/+/events", "presence/errors");
        var house = new RunningHouse(server, probe, logged);
        foreach (var (host, vms) in hosts)
        {
            house.agents.Add(await TestAgents.StartAsync(host, server.MqttPort, server.Directory, agentSpeed, vms));
        }

        // Decisions need the agents' facts, as in a house that has been running for a while.
        try
        {
            await Eventually.TrueAsync(async () =>
            {
                await using var session = server.Store.QuerySession();
                var known = await session.Query<HostState>().ToListAsync();
                return hosts.All(h => known.Any(k => k.Name == h.Host && k.AgentOnline && k.MemoryMb > 0
                    && h.Vms.All(vm => k.Vms.Any(v => v.Name == vm.Vm))));
            }, "every agent online with its inventory stored");
        }
        catch (TimeoutException e)
        {
            string why;
            try
            {
                why = await house.WhyNotReadyAsync();
            }
            catch (Exception failed)
            {
                // The account must never hide the timeout it was to explain.
                why = $"(the account of why failed: {failed.GetType().Name}: {failed.Message})";
            }

            throw new TimeoutException($"{e.Message}\n{why}\nthe server logged:\n  {string.Join("\n  ", logged.All.TakeLast(20))}", e);
        }

        return house;
    }

    /// <summary>
    /// Where each agent's announcement got to: connected, heard by the probe, stored, and what the bridge stored
    /// or refused meanwhile. Said when a house does not come up, so a failure in CI tells which step stalled.
    /// </summary>
    private async Task<string> WhyNotReadyAsync()
    {
        var lines = new List<string>();
        await using var session = Server.Store.QuerySession();
        foreach (var agent in agents)
        {
            var stored = await session.LoadAsync<HostState>(HostState.StreamId(agent.Host));
            var events = await session.Events.FetchStreamAsync(HostState.StreamId(agent.Host));
            var carried = Probe.All.Where(r => r.Topic.StartsWith($"presence/agents/{agent.Host}/", StringComparison.Ordinal))
                .Select(r => r.Topic[(r.Topic.LastIndexOf('/') + 1)..]);
            lines.Add($"{agent.Host}: agent connected {agent.IsConnected}; the probe heard [{string.Join(", ", carried)}]; " +
                $"stored {(stored is null ? "nothing" : $"online {stored.AgentOnline}, {stored.MemoryMb} MB, VMs [{string.Join(", ", stored.Vms.Select(v => v.Name))}]")}" +
                $" from [{string.Join(", ", events.Select(x => x.EventTypeName))}]");
        }

        lines.Add(await InboxAsync());
        var (batches, messages) = Server.Services.GetRequiredService<Presence.Server.Mqtt.MqttBridge>().Stores;
        lines.Add($"the bridge stored {messages} message(s) in {batches} transaction(s) and refused {Server.Rejections.Count}; " +
            $"refusals heard: [{string.Join("; ", Probe.All.Where(r => r.Topic == "presence/errors").Select(r => r.Payload))}]");
        return string.Join("\n", lines);
    }

    /// <summary>
    /// What Wolverine's inbox holds, or that it is not there: CI once found no inbox table 20 s after a start, and
    /// the query for its rows then threw over the timeout it was to explain. Which of Wolverine's tables the
    /// database has is said instead, so the next occurrence tells a migration that never ran from one half done.
    /// </summary>
    private async Task<string> InboxAsync()
    {
        await using var connection = new Npgsql.NpgsqlConnection(Server.ConnectionString);
        await connection.OpenAsync();

        async Task<List<string>> TextsAsync(string sql)
        {
            await using var command = new Npgsql.NpgsqlCommand(sql, connection);
            await using var reader = await command.ExecuteReaderAsync();
            var texts = new List<string>();
            while (await reader.ReadAsync())
            {
                texts.Add(reader.GetString(0));
            }

            return texts;
        }

        const string inbox = "presence_messages.wolverine_incoming_envelopes";
        var found = await TextsAsync(
            "select table_schema || '.' || table_name from information_schema.tables where table_name like 'wolverine%' order by 1");
        if (!found.Contains(inbox))
        {
            return $"Wolverine's inbox ({inbox}) does not exist; Wolverine's tables in the database: [{string.Join(", ", found)}]";
        }

        var held = await TextsAsync($"select status || ' ' || message_type || ' ×' || count(*) from {inbox} group by status, message_type");
        return $"Wolverine's inbox holds [{string.Join("; ", held)}]";
    }

    public PresenceAgent Agent(string host) => agents.Single(a => a.Host == host);

    /// <summary>
    /// A computer whose agent says it is online with room to spare and then never answers: it only hears its
    /// commands. Returns once the server has stored it as online with its inventory.
    /// </summary>
    public async Task<MqttProbe> SilentAgentAsync(string host)
    {
        var silent = await MqttProbe.ConnectAsAsync(Server.MqttPort, $"{host}-silent", host, $"presence/agents/{host}/commands");
        await AnnounceAsync(silent, host, "status-1");
        await silent.PublishAsync($"presence/agents/{host}/inventory",
            """{"cpus":4,"memory_mb":16384,"memory_free_mb":16384,"on_battery":false,"battery_percent":null,"link_mbps":1000,"vms":[]}""", retain: true);
        await Eventually.TrueAsync(async () =>
        {
            await using var session = Server.Store.QuerySession();
            return await session.LoadAsync<HostState>(HostState.StreamId(host)) is { AgentOnline: true, MemoryMb: > 0 };
        }, $"the silent {host} online with its inventory stored");
        return silent;
    }

    /// <summary>The agent's online status, as a (re)starting agent publishes it.</summary>
    public static Task AnnounceAsync(MqttProbe agent, string host, string id) => agent.PublishAsync(
        $"presence/agents/{host}/status", $$"""{"id":"{{id}}","state":"online","agent_version":"silent","hypervisor":"simulated"}""", retain: true);

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
