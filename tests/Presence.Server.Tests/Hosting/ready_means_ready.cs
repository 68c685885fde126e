using System.Net;
using Marten;
using Microsoft.Extensions.DependencyInjection;
using Presence.Domain.Hosts;
using Presence.Domain.Signals;
using Presence.Domain.Users;
using Presence.Server.Hosting;
using Presence.Server.Tests.Infrastructure;
using Wolverine.Runtime;

namespace Presence.Server.Tests.Hosting;

/// <summary>
/// Issue 11 §5: once /health says ready, the first signal, agent report and request are handled like any later
/// one. Nothing is created in the database behind them (Marten's schema was applied at start) and nothing is
/// compiled for them (Wolverine's handler code is pre-generated, and every handler was loaded before the bridge
/// subscribed).
/// </summary>
public sealed class ready_means_ready
{
    /// <summary>What Marten logs for every DDL statement it runs, at start or lazily (DefaultMartenLogger).</summary>
    private const string SchemaUpdate = "Executed schema update SQL";

    /// <summary>
    /// What Wolverine logs when it builds a handler on demand, at a message's first arrival (HandlerGraph); with the
    /// pre-generated code they are all built at start, before ready.
    /// </summary>
    private const string BuildingAHandler = "Starting to compile chain";

    [Fact]
    public async Task on_a_fresh_database_nothing_is_created_or_built_after_ready()
    {
        var logs = new CapturedLogs();
        await using var server = await TestServer.StartAsync(services: logs.AddTo);
        using var http = new HttpClient { BaseAddress = server.BaseAddress };
        var health = await http.GetAsync("/health");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);

        // The observer is real: the fresh database got its schema before ready.
        var beforeReady = logs.Lines.ToList();
        Assert.Contains(beforeReady, l => l.Contains(SchemaUpdate, StringComparison.Ordinal));
        // The warm-up ran a login through the handler and stored none of it.
        Assert.Contains(beforeReady, l => l.Contains("Warmed the signal path", StringComparison.Ordinal));
        Assert.Equal(0, await server.EventCountAsync());
        await using (var session = server.Store.QuerySession())
        {
            Assert.Empty(await session.Query<UserSaga>().ToListAsync());
            Assert.Empty(await session.Query<SeenMessage>().ToListAsync());
        }

        // The first of each kind of input: an agent's status and inventory, a login, a controller's request, and
        // the HTTP reads of what they stored.
        await using (var imac = await MqttProbe.ConnectAsAsync(server.MqttPort, "imac-first", "imac"))
        {
            await imac.PublishAsync("presence/agents/imac/status", """{"id":"status-1","state":"online","agent_version":"test","hypervisor":"simulated"}""", retain: true);
            await imac.PublishAsync("presence/agents/imac/inventory",
                """{"cpus":4,"memory_mb":16384,"memory_free_mb":16384,"on_battery":false,"battery_percent":null,"link_mbps":1000,"vms":[]}""", retain: true);
            await imac.PublishAsync("presence/hosts/imac/signals/session", """{"id":"first-login","user":"alice","state":"login","seat":"console"}""");
        }

        await using (var homeAssistant = await MqttProbe.ConnectAsAsync(server.MqttPort, "ha-first", "homeassistant"))
        {
            await homeAssistant.PublishAsync("presence/users/alice/requests", """{"id":"first-request","action":"hold"}""");
        }

        await Eventually.TrueAsync(async () =>
        {
            await using var session = server.Store.QuerySession();
            var ids = (await session.Events.FetchStreamAsync("alice")).Select(e => e.Data).OfType<SignalRecorded>().Select(s => s.Evidence.Id).ToList();
            return ids.Contains("first-login") && ids.Contains("first-request")
                && await session.LoadAsync<HostState>(HostState.StreamId("imac")) is { AgentOnline: true, MemoryMb: > 0 };
        }, "the login, the request and imac's inventory stored");
        foreach (var read in new[] { "/api/users", "/api/house", "/api/users/alice/timeline", "/api/users/alice/history", "/health" })
        {
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(read)).StatusCode);
        }

        var afterReady = logs.Lines.Skip(beforeReady.Count).ToList();
        Assert.True(!afterReady.Any(l => l.Contains(SchemaUpdate, StringComparison.Ordinal)),
            "DDL ran after the server said ready:\n" + string.Join("\n", afterReady.Where(l => l.Contains(SchemaUpdate, StringComparison.Ordinal))));
        Assert.True(!afterReady.Any(l => l.Contains(BuildingAHandler, StringComparison.Ordinal)),
            "a handler was built after the server said ready:\n" + string.Join("\n", afterReady.Where(l => l.Contains(BuildingAHandler, StringComparison.Ordinal))));
        Assert.Equal(0, server.Rejections.Count);
    }

    [Fact]
    public async Task the_warmup_runs_as_many_logins_as_asked_each_pair_rolled_back()
    {
        var logs = new CapturedLogs();
        await using var server = await TestServer.StartAsync(services: logs.AddTo, settings: ["--Mqtt:WarmupLogins=7"]);

        // Seven asked, at two seats in turn: four rounds of a login at each.
        Assert.Contains(logs.Lines, l => l.Contains("Warmed the signal path with 8 logins of alice", StringComparison.Ordinal));
        Assert.Equal(0, await server.EventCountAsync());
    }

    [Fact]
    public async Task the_warmup_makes_and_signs_commands_though_no_agent_has_announced_itself_and_keeps_no_host()
    {
        // A fresh house: no agent known yet. A rehearsed login then decided nothing to send, and the first real one
        // paid for deciding, serialising and signing its command (~800 methods compiled, ~55 ms in the benchmark).
        var logs = new CapturedLogs();
        await using var server = await TestServer.StartAsync(services: logs.AddTo, settings: ["--Mqtt:WarmupLogins=2"]);

        var warmed = Assert.Single(logs.Lines, l => l.Contains("Warmed the signal path", StringComparison.Ordinal));
        var made = System.Text.RegularExpressions.Regex.Match(warmed, @"\((\d+) commands made and signed, none sent\)");
        Assert.True(made.Success && int.Parse(made.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) > 0, warmed);

        // The house it rehearsed in was rolled back with the logins.
        await using var session = server.Store.QuerySession();
        Assert.Empty(await session.Query<HostState>().ToListAsync());
        Assert.Equal(0, await server.EventCountAsync());
    }

    [Fact]
    public async Task a_negative_warmup_stops_the_start_naming_the_setting()
    {
        var e = await Assert.ThrowsAsync<StartupException>(() => TestServer.StartAsync(settings: ["--Mqtt:WarmupLogins=-1"]));

        // Refused with the other settings, before anything starts.
        Assert.Equal("invalid settings:\n  Mqtt:WarmupLogins must be 0 (none) or more (default 50), got -1", e.Message);
    }

    [Fact]
    public async Task every_handler_runs_code_compiled_into_the_server_not_code_made_at_run_time()
    {
        await using var server = await TestServer.StartAsync();

        var handlers = HandlerTypes.LoadAll(server.Services.GetRequiredService<IWolverineRuntime>());

        Assert.NotEmpty(handlers);
        // Dynamic or Auto mode would compile each of these into an assembly made in memory by Roslyn.
        Assert.All(handlers, h => Assert.True(h.Handler.GetType().Assembly == typeof(PresenceApp).Assembly,
            $"the handler for {h.Message.Name} is {h.Handler.GetType().FullName} from {h.Handler.GetType().Assembly.GetName().Name}, not pre-generated; regenerate with: {GeneratedCode.Regenerate}"));
    }
}
