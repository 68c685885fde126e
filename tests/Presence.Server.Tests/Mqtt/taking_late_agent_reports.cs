using Microsoft.Extensions.DependencyInjection;
using NodaTime;
using NodaTime.Testing;
using NodaTime.Text;
using Presence.Domain.Migration;
using Presence.Domain.Users;
using Presence.Server.Tests.Infrastructure;

namespace Presence.Server.Tests.Mqtt;

/// <summary>
/// An agent's report of what happened to a command is a fact however late it reaches the server (the server was
/// down longer than Mqtt:MaxSkew): it is applied. A report from the future says the agent's clock is wrong: refused.
/// The server's clock is a FakeClock; the two agents are plain MQTT clients answering as agents do.
/// </summary>
public sealed class taking_late_agent_reports : IAsyncLifetime
{
    private const string Vm = "alice-desktop";

    private readonly FakeClock clock = new(SystemClock.Instance.GetCurrentInstant());
    private TestServer server = null!;
    private MqttProbe basement = null!;
    private MqttProbe imac = null!;
    private MqttProbe watcher = null!;

    public async Task InitializeAsync()
    {
        server = await TestServer.StartAsync(services: s => s.AddSingleton<IClock>(clock));
        watcher = await MqttProbe.ConnectAsync(server.MqttPort, "late-watcher", "presence/errors");
        basement = await AgentAsync("basement", $$"""[{"name":"{{Vm}}","state":"running","memory_mb":2048}]""");
        imac = await AgentAsync("imac", "[]");
    }

    public async Task DisposeAsync()
    {
        await watcher.DisposeAsync();
        await basement.DisposeAsync();
        await imac.DisposeAsync();
        await server.DisposeAsync();
    }

    [Fact]
    public async Task a_completed_report_twenty_minutes_old_is_applied_and_the_move_ends()
    {
        var migrate = await MigrationUnderWayAsync();
        var finished = clock.GetCurrentInstant();

        // The server was away for 20 minutes; the source's report of the end waited at the broker all along.
        clock.Advance(Duration.FromMinutes(20));
        await basement.PublishAsync("presence/agents/basement/events", Report(migrate, "completed", finished));

        var completed = await Eventually.GetAsync(async () => (await StreamAsync()).OfType<MigrationCompleted>().SingleOrDefault(), "MigrationCompleted");
        Assert.Equal(finished, completed.At);
        var saga = await SagaAsync();
        Assert.Equal("imac", saga.VmHost);
        Assert.Null(saga.Migration);
        Assert.DoesNotContain(watcher.All, m => m.Topic == "presence/errors");
    }

    [Fact]
    public async Task a_completed_report_from_the_future_is_refused_with_the_reason()
    {
        var migrate = await MigrationUnderWayAsync();
        var ahead = clock.GetCurrentInstant() + Duration.FromMinutes(10);
        var before = (await StreamAsync()).Count;

        await basement.PublishAsync("presence/agents/basement/events", Report(migrate, "completed", ahead));

        var error = await watcher.WaitForAsync(m => m.Topic == "presence/errors", what: "the refusal of a report from the future");
        Assert.Equal("presence/agents/basement/events", error.Json.GetProperty("topic").GetString());
        var reason = error.Json.GetProperty("error").GetString()!;
        Assert.Contains("from 'basement' is +600s from the server clock", reason);
        Assert.EndsWith("at most 300s ahead allowed", reason);
        Assert.Equal(before, (await StreamAsync()).Count);
        Assert.Equal(Phases.Migrating, (await SagaAsync()).Migration?.Phase);
    }

    /// <summary>Alice logs in at the imac; the imac gets ready; returns the migrate command the basement was sent.</summary>
    private async Task<Received> MigrationUnderWayAsync()
    {
        await imac.PublishAsync("presence/hosts/imac/signals/session", """{"id":"late-login","user":"alice","state":"login","seat":"console"}""");
        var prepare = await imac.WaitForAsync(m => m.Json.GetProperty("type").GetString() == "prepare_incoming", what: "prepare_incoming");
        await imac.PublishAsync("presence/agents/imac/events",
            $$"""{"command_id":"{{CommandId(prepare)}}","vm":"{{Vm}}","state":"ready","incoming_uri":"tcp:127.0.0.1:49152"}""");
        var migrate = await basement.WaitForAsync(m => m.Json.GetProperty("type").GetString() == "migrate", what: "migrate");
        await Eventually.TrueAsync(async () => (await SagaAsync()).Migration?.Phase == Phases.Migrating, "the saga migrating");
        return migrate;
    }

    private static string CommandId(Received command) => command.Json.GetProperty("command_id").GetString()!;

    private static string Report(Received command, string state, Instant at) =>
        $$"""{"command_id":"{{CommandId(command)}}","vm":"{{Vm}}","state":"{{state}}","downtime_ms":40,"total_time_ms":9000,"at":"{{InstantPattern.ExtendedIso.Format(at)}}"}""";

    /// <summary>A computer's agent as the server sees it: online, its inventory stored, hearing its commands.</summary>
    private async Task<MqttProbe> AgentAsync(string host, string vms)
    {
        var agent = await MqttProbe.ConnectAsAsync(server.MqttPort, $"{host}-late-answers", host, $"presence/agents/{host}/commands");
        await RunningHouse.AnnounceAsync(agent, host, "status-1");
        await agent.PublishAsync($"presence/agents/{host}/inventory",
            $$"""{"cpus":4,"memory_mb":16384,"memory_free_mb":12288,"on_battery":false,"link_mbps":1000,"vms":{{vms}}}""", retain: true);
        await Eventually.TrueAsync(async () =>
        {
            await using var session = server.Store.QuerySession();
            return await session.LoadAsync<Presence.Domain.Hosts.HostState>(Presence.Domain.Hosts.HostState.StreamId(host)) is { AgentOnline: true, MemoryMb: > 0 };
        }, $"{host} online with its inventory stored");
        return agent;
    }

    private async Task<IReadOnlyList<object>> StreamAsync()
    {
        await using var session = server.Store.QuerySession();
        return (await session.Events.FetchStreamAsync("alice")).Select(e => e.Data).ToList();
    }

    private async Task<UserSaga> SagaAsync()
    {
        await using var session = server.Store.QuerySession();
        return await session.LoadAsync<UserSaga>("alice") ?? throw new InvalidOperationException("no saga for alice");
    }
}
