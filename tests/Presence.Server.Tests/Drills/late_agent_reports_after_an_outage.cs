using NodaTime;
using NodaTime.Text;
using Presence.Domain.Migration;
using Presence.Domain.Users;
using Presence.Server.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Presence.Server.Tests.Drills;

/// <summary>
/// Drill (issue 10 §3, docs/drills.md): the server is away for longer than `Mqtt:MaxSkew` while a migration it
/// started finishes. The agents' reports wait at mosquitto for the server's session; when the server is back they are
/// late, not stale: the move must end as moved, not be refused as skewed and left to a timeout.
/// </summary>
[Trait("Category", "Drill")]
public sealed class late_agent_reports_after_an_outage(ITestOutputHelper output) : IAsyncLifetime
{
    /// <summary>Small, so the outage outlasts it within a test's time; the rule is the same at the default 5 min.</summary>
    private const string MaxSkew = "2s";

    private ExternalBroker broker = null!;

    public async Task InitializeAsync() => broker = await ExternalBroker.StartAsync();

    public Task DisposeAsync() => broker.DisposeAsync().AsTask();

    [Fact]
    public async Task the_migration_finished_while_the_server_was_away_is_applied_when_it_is_back()
    {
        var connectionString = await PostgresCluster.NewDatabaseAsync("drill_late");
        string[] settings = [$"--Mqtt:MaxSkew={MaxSkew}"];
        var first = await StartServerAsync(connectionString, directory: null, settings);
        var directory = first.Directory;
        // Slow enough that the move is still running when the server goes away (2 GiB at a tenth of 1 Gbit/s: ~8 s).
        await using var basement = await TestAgents.StartAsync("basement", broker, directory, 2, ("alice-desktop", 2048));
        await using var imac = await TestAgents.StartAsync("imac", broker, directory, 2);
        await using var probe = await MqttProbe.ConnectAsync(broker, "probe-late", "homeassistant", "presence/agents/+/events", "presence/errors");
        await Eventually.TrueAsync(async () =>
        {
            await using var session = first.Store.QuerySession();
            return await Marten.QueryableExtensions.CountAsync(session.Query<Presence.Domain.Hosts.HostState>(), h => h.AgentOnline && h.MemoryMb > 0) == 2;
        }, "both agents known");

        await using (var emitter = await MqttProbe.ConnectAsync(broker, "imac-emitter", "imac"))
        {
            await emitter.PublishAsync("presence/hosts/imac/signals/session", """{"id":"late-login","user":"alice","state":"login"}""");
        }

        await probe.WaitForAsync(m => m.Topic == "presence/agents/basement/events" && m.Json.GetProperty("state").GetString() == "progress",
            TimeSpan.FromSeconds(30), "the migration under way");
        await first.DisposeAsync();
        var away = SystemClock.Instance.GetCurrentInstant();

        var completed = await probe.WaitForAsync(m => m.Topic == "presence/agents/basement/events" && m.Json.GetProperty("state").GetString() == "completed",
            TimeSpan.FromSeconds(60), "the source's completed report while the server is away");
        var reportedAt = InstantPattern.ExtendedIso.Parse(completed.Json.GetProperty("at").GetString()!).Value;
        // The outage must outlast the skew for the report to be late: what the drill is about.
        var skew = Duration.FromSeconds(2);
        await Eventually.TrueAsync(() => Task.FromResult(SystemClock.Instance.GetCurrentInstant() - reportedAt > skew + Duration.FromSeconds(1)),
            "the report older than Mqtt:MaxSkew");

        // Same node name: the same persistent session at mosquitto, which kept the reports.
        await using var second = await StartServerAsync(connectionString, directory, settings);
        var moved = await Eventually.GetAsync(async () =>
        {
            await using var session = second.Store.QuerySession();
            return await session.LoadAsync<UserSaga>("alice") is { VmHost: "imac", Migration: null } saga ? saga : null;
        }, "alice's VM on the imac after the restart", TimeSpan.FromSeconds(60));

        await using var query = second.Store.QuerySession();
        var stream = (await query.Events.FetchStreamAsync("alice")).Select(e => e.Data).ToList();
        var done = Assert.Single(stream.OfType<MigrationCompleted>());
        Assert.Equal(("basement", "imac"), (done.Source, done.Target));
        Assert.Empty(stream.OfType<MigrationFailed>());
        Assert.DoesNotContain(probe.All, m => m.Topic == "presence/errors" && m.Payload.Contains("field 'at'", StringComparison.Ordinal));
        output.WriteLine($"server away {(SystemClock.Instance.GetCurrentInstant() - away).TotalSeconds:0.0} s; completed report applied " +
                         $"{(SystemClock.Instance.GetCurrentInstant() - reportedAt).TotalSeconds:0.0} s after it was made (Mqtt:MaxSkew {MaxSkew}); VM on {moved.VmHost}");
    }

    private Task<TestServer> StartServerAsync(string connectionString, string? directory, string[] settings) =>
        TestServer.StartAsync(connectionString, broker.Port, "late", houseJson: TestHouse.Json, directory: directory, settings: settings, mqttLogin: broker.ServerLogin);
}
