using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using System.Net;
using System.Net.Http;
using System.Text.Json;
using Presence.Server.Hosting;
using Presence.Server.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Presence.Server.Tests.Drills;

/// <summary>
/// Drill (issue 10 §3, docs/drills.md): the server's PostgreSQL crashes (`pg_ctl stop -m immediate`: no checkpoint,
/// crash recovery on the next start) while a computer streams signals at QoS 1. While it is away `/health` says 503
/// and names the database; when it is back the server carries on by itself, without a restart, and every signal is
/// stored exactly once. The cluster is the drill's own: the suite's shared one must not go away under other tests.
/// </summary>
[Trait("Category", "Drill")]
public sealed class postgresql_crash_mid_stream(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly int Count = Drill.Count("PRESENCE_DRILL_PG_SIGNALS", 200);

    private EmbeddedPostgresOptions cluster = null!;
    private EmbeddedPostgres postgres = null!;
    private TestServer server = null!;

    public async Task InitializeAsync()
    {
        // A fixed port, so the server's connection string still points at the cluster after its restart. Durable, as
        // a house's is: the suite's throwaway clusters run with synchronous_commit=off, which after a crash loses the
        // last commits PostgreSQL had already confirmed (measured here: 1 or 2 signals in 3 of 4 runs).
        cluster = new EmbeddedPostgresOptions { DataDirectory = PostgresCluster.NewScratchDirectory("drill-pg"), Port = Ports.Free(), Durable = true };
        postgres = await EmbeddedPostgres.StartAsync(cluster);
        server = await TestServer.StartAsync(connectionString: postgres.ConnectionString);
    }

    public async Task DisposeAsync()
    {
        await server.DisposeAsync();
        await postgres.DisposeAsync();
    }

    [Fact]
    public async Task every_signal_is_stored_once_and_health_says_why_meanwhile()
    {
        using var http = new HttpClient { BaseAddress = server.HttpAddress };
        await using var imac = await MqttProbe.ConnectAsAsync(server.MqttPort, "imac-drill", "imac");
        var third = Count / 3;
        for (var i = 0; i < third; i++)
        {
            await SendAsync(imac, i);
        }

        await Eventually.TrueAsync(async () => (await DrillSignals.StoredAsync(server.Store)).Count > 0, "the first signals stored");
        await PgCtlAsync("stop", "-D", cluster.DataDirectory, "-m", "immediate", "-w");
        var down = Stopwatch.StartNew();

        // The broker takes the rest; the server holds what it cannot store, unacknowledged.
        for (var i = third; i < Count; i++)
        {
            await SendAsync(imac, i);
        }

        var (status, health) = await Eventually.GetAsync(async () =>
        {
            var response = await http.GetAsync(new Uri("/health", UriKind.Relative));
            var body = await response.Content.ReadAsStringAsync();
            return response.StatusCode == HttpStatusCode.ServiceUnavailable ? Tuple.Create(response.StatusCode, body) : null;
        }, "/health 503 while PostgreSQL is down", TimeSpan.FromSeconds(30));
        using (var report = JsonDocument.Parse(health))
        {
            Assert.Equal("unready", report.RootElement.GetProperty("status").GetString());
            Assert.Contains(report.RootElement.GetProperty("unready").EnumerateArray(), p => p.GetString()!.StartsWith("database: ", StringComparison.Ordinal));
        }

        // Long enough for several of the server's holds to fail in a row.
        await Eventually.TrueAsync(() => Task.FromResult(down.Elapsed > TimeSpan.FromSeconds(5)), "five seconds without PostgreSQL");
        postgres = await EmbeddedPostgres.StartAsync(cluster);
        var downFor = down.Elapsed;

        var stored = await DrillSignals.StoredWhileProgressingAsync(server.Store, Count);
        var recovered = down.Elapsed - downFor;
        await Eventually.TrueAsync(async () => (await http.GetAsync(new Uri("/health", UriKind.Relative))).StatusCode == HttpStatusCode.OK,
            "/health 200 once PostgreSQL is back");
        output.WriteLine($"{Count} sent ({Count - third} while PostgreSQL was down for {downFor.TotalSeconds:0.0} s; /health said {(int)status}), " +
                         $"{stored.Count} stored, {stored.Distinct().Count()} distinct, all stored {recovered.TotalSeconds:0.0} s after it was back");
        Assert.Equal(Enumerable.Range(0, Count).Select(DrillSignals.IdOf).Order(), stored.Order());
    }

    private static Task SendAsync(MqttProbe imac, int i) => imac.PublishAsync(DrillSignals.Topic, DrillSignals.Payload(i));

    /// <summary>The cluster's own pg_ctl, run the way the server runs it (as postgres when the tests run as root).</summary>
    private static Task PgCtlAsync(params string[] args) =>
        PostgresCommandRunner.ForCurrentUser().RunAsPostgresAsync(PostgresBinaries.Locate(null, NullLogger.Instance).PgCtl, args);
}
