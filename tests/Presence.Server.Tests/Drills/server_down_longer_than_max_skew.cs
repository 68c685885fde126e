using System.Diagnostics;
using Marten;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;
using NodaTime.Testing;
using Presence.Agent;
using Presence.Contracts.Agents;
using Presence.Domain.Migration;
using Presence.Domain.Users;
using Presence.Server.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Presence.Server.Tests.Drills;

/// <summary>
/// Drill (issue 10 §3, docs/drills.md): the server is stopped while a migration is under way and stays away longer
/// than Mqtt:MaxSkew; the agents finish the migration meanwhile and report it to a real mosquitto, which keeps their
/// events for the server's session. The server comes back on the same database with its clock past MaxSkew beyond the
/// agents' reports: the late reports are applied (what happened is not stale input), and the saga ends moved.
/// </summary>
[Trait("Category", "Drill")]
public sealed class server_down_longer_than_max_skew(ITestOutputHelper output) : IAsyncLifetime
{
    private const string Vm = "alice-desktop";

    /// <summary>How long the server's clock says it was away; CI uses the default, a full drill sets the variable.</summary>
    private static readonly Duration Away = Duration.FromMinutes(Drill.Count("PRESENCE_DRILL_DOWN_MINUTES", 20));

    private ExternalBroker broker = null!;
    private string database = null!;
    private TestServer? server;
    private PresenceAgent basement = null!;
    private PresenceAgent imac = null!;

    public async Task InitializeAsync()
    {
        broker = await ExternalBroker.StartAsync();
        database = await PostgresCluster.NewDatabaseAsync("drill_down");
        server = await TestServer.StartAsync(broker, database, "drill");
        // As slow as a real link: the migration is still under way when the server stops.
        basement = await TestAgents.StartAsync("basement", broker, server.Directory, speedFactor: 1, (Vm, 2048));
        imac = await TestAgents.StartAsync("imac", broker, server.Directory, speedFactor: 1);
    }

    public async Task DisposeAsync()
    {
        await basement.DisposeAsync();
        await imac.DisposeAsync();
        if (server is not null)
        {
            await server.DisposeAsync();
        }

        await broker.DisposeAsync();
    }

    [Fact]
    public async Task the_late_reports_are_applied_and_the_move_ends()
    {
        var watch = Stopwatch.StartNew();
        var directory = server!.Directory;
        await using var probe = await MqttProbe.ConnectAsync(broker, "drill-down-watcher", "presence-cli", "presence/agents/+/events", "presence/errors");
        await server.AgentsKnownAsync(["basement", "imac"], running: Vm);

        await using (var emitter = await MqttProbe.ConnectAsync(broker, "drill-down-imac", "imac"))
        {
            await emitter.PublishAsync("presence/hosts/imac/signals/session", """{"id":"drill-down-login","user":"alice","state":"login","seat":"console"}""");
        }

        await probe.WaitForAsync(m => m.Topic == "presence/agents/basement/events" && m.Json.GetProperty("state").GetString() == "progress",
            TimeSpan.FromSeconds(60), "the migration under way");
        await server.DisposeAsync();
        server = null;
        var stoppedAt = watch.Elapsed;
        var seenWhileUp = probe.All.Count(m => m.Topic.EndsWith("/events", StringComparison.Ordinal));
        // The migration has not ended (the imac may already have shown the desktop from the basement: show first).
        Assert.DoesNotContain(probe.All, m => m.Topic == "presence/agents/basement/events" && m.Json.GetProperty("state").GetString() == "completed");

        // The agents finish without the server; their reports wait at the broker for the server's session.
        var completed = await probe.WaitForAsync(m => m.Topic == "presence/agents/basement/events" && m.Json.GetProperty("state").GetString() == "completed",
            TimeSpan.FromSeconds(120), "the source's completed report while the server is away");
        var reportedAt = Instant.FromDateTimeOffset(completed.Json.GetProperty("at").GetDateTimeOffset());
        var whileDown = probe.All.Count(m => m.Topic.EndsWith("/events", StringComparison.Ordinal)) - seenWhileUp;

        // Back on the same database, its clock past MaxSkew (5m) beyond the report.
        var clock = new FakeClock(reportedAt + Away);
        server = await TestServer.StartAsync(database, broker.Port, "drill", directory: directory,
            services: s => s.AddSingleton<IClock>(clock), mqttLogin: broker.ServerLogin);
        var restartedAt = watch.Elapsed;

        var moved = await Eventually.GetAsync(async () => (await StreamAsync()).OfType<MigrationCompleted>().SingleOrDefault(), "MigrationCompleted after the restart", TimeSpan.FromSeconds(60));
        var stream = await StreamAsync();
        var saga = await SagaAsync();
        var errors = probe.All.Where(m => m.Topic == "presence/errors").ToList();
        output.WriteLine($"server stopped at {stoppedAt.TotalSeconds:0.0} s mid-migration ({seenWhileUp} agent events before), " +
                         $"{whileDown} agent events published while it was away, restarted at {restartedAt.TotalSeconds:0.0} s with its clock " +
                         $"{(clock.GetCurrentInstant() - reportedAt).TotalMinutes:0} min past the completed report; " +
                         $"{stream.OfType<AgentReported>().Count()} agent reports stored, {stream.OfType<MigrationCompleted>().Count()} MigrationCompleted, " +
                         $"{stream.OfType<MigrationFailed>().Count()} MigrationFailed, {errors.Count} refused, done in {watch.Elapsed.TotalSeconds:0.0} s");

        Assert.Equal(reportedAt, moved.At);
        Assert.Empty(errors);
        Assert.DoesNotContain(stream, e => e is MigrationFailed);
        Assert.Equal("imac", saga.VmHost);
        Assert.Null(saga.Migration);
        // Exactly one host runs the VM, as the agents themselves say.
        Assert.Contains(imac.Inventory.Vms, v => v.Name == Vm && v.State == VmState.Running);
        Assert.DoesNotContain(basement.Inventory.Vms, v => v.Name == Vm);
    }

    private async Task<IReadOnlyList<object>> StreamAsync()
    {
        await using var session = server!.Store.QuerySession();
        return (await session.Events.FetchStreamAsync("alice")).Select(e => e.Data).ToList();
    }

    private async Task<UserSaga> SagaAsync()
    {
        await using var session = server!.Store.QuerySession();
        return await session.LoadAsync<UserSaga>("alice") ?? throw new InvalidOperationException("no saga for alice");
    }
}
