using System.Diagnostics;
using Npgsql;
using Presence.Server.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Presence.Server.Tests.Drills;

/// <summary>
/// Drill (issue 11 §6, docs/drills.md): two server processes on one PostgreSQL and one mosquitto join the shared
/// subscription group of Mqtt:SharedGroup, so the broker gives each signal to one of them: the work is shared, not
/// done twice and settled by a race (two_server_nodes_one_killed, without a group).
/// </summary>
[Trait("Category", "Drill")]
public sealed class two_server_nodes_sharing_the_work(ITestOutputHelper output) : ServerProcessDrill("shared")
{
    protected override bool LogsDeliveries => true;

    private static readonly int Count = Drill.Count("PRESENCE_DRILL_NODE_SIGNALS", 200);

    [Fact]
    public async Task each_signal_goes_to_one_node_and_both_nodes_take_some()
    {
        string[] shared = ["--Mqtt:SharedGroup=presence"];
        servers.Add(await ServerProcess.StartAsync(database, broker, directory, "node-a", settings: shared));
        servers.Add(await ServerProcess.StartAsync(database, broker, directory, "node-b", settings: shared));

        await using var emitter = await MqttProbe.ConnectAsync(broker, "imac-emitter", "imac");
        var sent = Stopwatch.StartNew();
        for (var i = 0; i < Count; i++)
        {
            await emitter.PublishAsync(DrillSignals.Topic, DrillSignals.Payload(i));
            await Task.Delay(5);
        }

        try
        {
            await Eventually.TrueAsync(async () => (await DrillSignals.StoredAsync(database)).Count >= Count, $"all {Count} signals stored", TimeSpan.FromSeconds(60));
        }
        catch (TimeoutException)
        {
            output.WriteLine($"stored {(await DrillSignals.StoredAsync(database)).Count}\n--- node-a\n{servers[0].Output}\n--- node-b\n{servers[1].Output}\n--- broker\n{broker.Log}");
            throw;
        }
        var stored = await DrillSignals.StoredAsync(database);
        var deciders = await AliceEventsByNodeAsync("signal_recorded");
        var rows = await RowsCarryingEachSignalAsync();
        output.WriteLine($"{Count} sent to the group; {stored.Count} stored, {stored.Distinct().Count()} distinct, in {sent.Elapsed.TotalSeconds:0.0} s; " +
                         $"decided by {string.Join(", ", deciders.Select(d => $"{d.Key} {d.Value}"))}; inbox rows per signal: " +
                         string.Join(", ", rows.Values.GroupBy(n => n).OrderBy(g => g.Key).Select(g => $"{g.Count()} signals in {g.Key}")));

        Assert.Equal(Enumerable.Range(0, Count).Select(DrillSignals.IdOf).Order(), stored.Order());
        // Without the group each node takes every signal (two deliveries each) and the loser of each race finds it
        // stored. The bridge handles what it takes itself (no row); one whose handling failed there is stored (one).
        var deliveries = broker.Log.Split('\n').Count(l => l.Contains("Sending PUBLISH to presence-server", StringComparison.Ordinal)
            && l.Contains($"'{DrillSignals.Topic}'", StringComparison.Ordinal) && l.Contains("(d0,", StringComparison.Ordinal));
        output.WriteLine($"mosquitto sent the signals to the servers {deliveries} times");
        Assert.Equal(Count, deliveries);
        Assert.All(rows, r => Assert.InRange(r.Value, 0, 1));
        Assert.True(deciders.GetValueOrDefault("node-a") > 0, "node-a was given none of the signals");
        Assert.True(deciders.GetValueOrDefault("node-b") > 0, "node-b was given none of the signals");
    }

    /// <summary>
    /// How many of Wolverine's inbox rows (kept a while after they are handled) carry each drill signal: a row holds
    /// the message as JSON inside Wolverine's envelope, where a signal's MQTT payload is base64 (in a SignalArrived, or
    /// one of a SignalsArrived's, a user's signals gathered from one burst).
    /// </summary>
    private async Task<Dictionary<int, int>> RowsCarryingEachSignalAsync()
    {
        var bodies = new List<string>();
        await using (var connection = new NpgsqlConnection(database))
        {
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand(
                "select body from presence_messages.wolverine_incoming_envelopes where message_type like '%SignalArrived' or message_type like '%SignalsArrived'",
                connection);
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
                bodies.Add(System.Text.Encoding.Latin1.GetString(reader.GetFieldValue<byte[]>(0)));
        }

        return Enumerable.Range(0, Count).ToDictionary(i => i, i =>
        {
            var base64 = Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(DrillSignals.Payload(i)));
            return bodies.Count(b => b.Contains(base64, StringComparison.Ordinal));
        });
    }
}
