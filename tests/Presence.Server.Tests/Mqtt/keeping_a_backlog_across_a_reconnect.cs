using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using MQTTnet;
using Npgsql;
using Presence.Server.Mqtt;
using Presence.Server.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Presence.Server.Tests.Mqtt;

/// <summary>
/// While the database is away the server takes what it cannot store yet and holds it: the embedded broker hands it to
/// the bridge (BridgeHandOff), which keeps up to Mqtt:MaxQueuedMessages such inputs and answers QuotaExceeded beyond
/// that, so that a publisher keeps what was not taken rather than be told it was. Before the hand-over the broker kept
/// them in the bridge's session queue, which MQTTnet re-queued at once when the session came back and cut to
/// MaxPendingMessagesPerClient (1,000 by default in MQTTnet 5), dropping the oldest: a house benchmark on a busy
/// machine lost 263 of 20,000 signals so. The server's connection is dropped here by a session takeover, as a network
/// hiccup would, while all of them wait.
/// </summary>
public sealed class keeping_a_backlog_across_a_reconnect(ITestOutputHelper output)
{
    [Fact]
    public async Task more_signals_than_mqttnets_default_queue_are_all_stored()
    {
        // More than MQTTnet's default of 1,000 queued messages per client.
        var (sent, refused, stored, log) = await BacklogAsync("backlog", 1_500, settings: []);

        Assert.Equal(0, refused);
        Assert.Equal(sent, stored);
        Assert.DoesNotContain(log.All, l => l.Contains("dropped", StringComparison.Ordinal) && l.Contains(nameof(EmbeddedBroker), StringComparison.Ordinal));
    }

    [Fact]
    public async Task beyond_max_queued_messages_an_input_is_refused_to_its_publisher_and_none_taken_is_lost()
    {
        var (sent, refused, stored, log) = await BacklogAsync("backlog-small", 2_000, settings: ["--Mqtt:MaxQueuedMessages=100"], expectAll: false);

        var said = await log.WaitForAsync("(QuotaExceeded)", "the broker's line about the refused inputs");
        output.WriteLine(said);
        Assert.Contains("Mqtt:MaxQueuedMessages=100", said, StringComparison.Ordinal);
        Assert.True(refused > 0, $"all {sent} taken although at most 100 may be held");
        Assert.Equal(sent - refused, stored);
    }

    /// <returns>
    /// How many idle signals were sent, how many of them the broker refused (QuotaExceeded), and how many are stored
    /// once the server has caught up.
    /// </returns>
    private async Task<(int Sent, int Refused, int Stored, LogLines Log)> BacklogAsync(string name, int count, string[] settings, bool expectAll = true)
    {
        var connectionString = await PostgresCluster.NewDatabaseAsync(name);
        var database = new NpgsqlConnectionStringBuilder(connectionString).Database!;
        var log = new LogLines();
        await using var server = await TestServer.StartAsync(connectionString, nodeName: name, settings: settings,
            services: s => s.AddSingleton<ILoggerProvider>(log));
        var broker = server.Services.GetServices<Microsoft.Extensions.Hosting.IHostedService>().OfType<EmbeddedBroker>().Single();

        // The database goes away: the server holds the first signal until it can be stored, acknowledging nothing.
        await AdminAsync($"ALTER DATABASE \"{database}\" WITH ALLOW_CONNECTIONS false");
        await AdminAsync($"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{database}'");
        NpgsqlConnection.ClearAllPools();

        var refused = 0;
        await using (var imac = await MqttProbe.ConnectAsAsync(server.MqttPort, "imac-" + name, "imac"))
        {
            for (var i = 0; i < count; i++)
            {
                var published = await imac.PublishAsync("presence/hosts/imac/signals/idle", $$"""{"id":"{{Id(i)}}","user":"alice","idle_seconds":{{i % 300}}}""");
                if (published.ReasonCode == MQTTnet.MqttClientPublishReasonCode.QuotaExceeded)
                {
                    refused++;
                }
                else
                {
                    Assert.True(published.IsSuccess, $"the broker did not take {Id(i)}: {published.ReasonCode}");
                }
            }
        }

        // A lone signal (SignalArrived) or what came for its lane together (SignalsArrived), whichever came first.
        await log.WaitForAsync("Arrived until it can be stored", "the server holding the first signals while the database is away");

        // The server's connection drops while all of them wait unacknowledged: a client with the server's own identity
        // takes its session over, acknowledges nothing, and leaves the session to the server again.
        await TakeOverAsync(server, name);
        // MQTTnet finishes the disconnect only once the message in hand is done with: the database comes back first.
        await AdminAsync($"ALTER DATABASE \"{database}\" WITH ALLOW_CONNECTIONS true");
        await log.WaitForAsync("MQTT server in lost", "the server's in connection dropped by the takeover", TimeSpan.FromSeconds(60));
        await Eventually.TrueAsync(() => Task.FromResult(server.Services.GetRequiredService<MqttBridge>().IsConnected),
            "the server's in connection back after the takeover", TimeSpan.FromSeconds(30));

        // Caught up: everything stored, or (a queue that dropped some) no progress for a while.
        await using var db = NpgsqlDataSource.Create(connectionString);
        var stored = 0;
        var lastChange = DateTime.UtcNow;
        while (stored < count && DateTime.UtcNow - lastChange < TimeSpan.FromSeconds(expectAll ? 60 : 15))
        {
            var now = await StoredAsync(db, name);
            if (now != stored)
            {
                (stored, lastChange) = (now, DateTime.UtcNow);
            }

            await Task.Delay(200);
        }

        output.WriteLine($"sent {count}, refused {refused}, stored {stored}; the broker dropped {broker.DroppedMessages}, refused {broker.RefusedFull}");
        Assert.Equal(refused, broker.RefusedFull);
        return (count, refused, stored, log);

        string Id(int i) => name + "-" + i.ToString("D5", CultureInfo.InvariantCulture);
    }

    private static async Task TakeOverAsync(TestServer server, string node)
    {
        var secret = server.Services.GetRequiredService<ServerSecret>();
        using var client = new MqttClientFactory().CreateMqttClient();
        // Whatever the session hands over stays unacknowledged, as with a server that dies before storing it.
        client.ApplicationMessageReceivedAsync += e =>
        {
            e.AutoAcknowledge = false;
            return Task.CompletedTask;
        };
        var options = new MqttClientOptionsBuilder()
            .WithTcpServer("127.0.0.1", server.MqttPort)
            .WithClientId($"{Admission.ServerClientPrefix}{node}-in")
            .WithCredentials(secret.UserName, secret.Password)
            .WithProtocolVersion(MQTTnet.Formatter.MqttProtocolVersion.V500)
            .WithCleanStart(false)
            .WithSessionExpiryInterval((uint)TimeSpan.FromDays(7).TotalSeconds)
            .Build();
        var result = await client.ConnectAsync(options);
        Assert.Equal(MqttClientConnectResultCode.Success, result.ResultCode);
        Assert.True(result.IsSessionPresent, "the server's session was not there to take over");
        await client.DisconnectAsync();
    }

    private static async Task<int> StoredAsync(NpgsqlDataSource db, string prefix)
    {
        try
        {
            await using var command = db.CreateCommand(
                "select count(distinct data->'Evidence'->>'Id') from presence.mt_events where type = 'signal_recorded' and data->'Evidence'->>'Id' like $1");
            command.Parameters.Add(new NpgsqlParameter { Value = prefix + "-%" });
            return Convert.ToInt32(await command.ExecuteScalarAsync(), CultureInfo.InvariantCulture);
        }
        catch (NpgsqlException)
        {
            return 0;
        }
    }

    private static async Task AdminAsync(string sql)
    {
        var cluster = await PostgresCluster.InstanceAsync();
        var admin = new NpgsqlConnectionStringBuilder(cluster.ConnectionString) { Database = "postgres", Pooling = false };
        await using var connection = new NpgsqlConnection(admin.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
