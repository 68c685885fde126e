using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Presence.Server.Hosting;
using Presence.Server.Mqtt;
using Presence.Server.Tests.Infrastructure;

namespace Presence.Server.Tests.Mqtt;

/// <summary>
/// The broker killed while the server publishes: every failed publish says the broker is the trouble
/// (<see cref="MqttNotConnectedException"/>, retried as such), never something Wolverine's store rules could take for
/// the database being away. CI caught /health blaming PostgreSQL after a broker kill: MQTTnet's exception around the
/// broken socket had been read as a database outage.
/// </summary>
public sealed class publishing_while_the_broker_dies
{
    [Fact]
    public async Task every_failed_publish_is_the_brokers_trouble_and_none_is_the_databases()
    {
        await using var broker = await ExternalBroker.StartAsync();
        await using var server = await TestServer.StartAsync(broker, await PostgresCluster.NewDatabaseAsync("broker_dies"), "dies");
        var outbound = server.Services.GetRequiredService<MqttOutbound>();
        var payload = Encoding.UTF8.GetBytes(new string('x', 16_000));
        var failures = new List<Exception>();
        var published = 0;
        var killed = new TaskCompletionSource();

        // Each lane publishes until the broker has been killed under it and its publishes failed a few times: a fixed
        // count could all be done before the kill on a quick run (then nothing would be tested).
        var publishing = Enumerable.Range(0, 4).Select(lane => Task.Run(async () =>
        {
            var failed = 0;
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (failed < 5 && DateTime.UtcNow < deadline)
            {
                try
                {
                    // A publish waits for a broker that is away until its token ends (then it fails as not connected).
                    using var patience = new CancellationTokenSource(TimeSpan.FromSeconds(1));
                    await outbound.PublishAsync($"presence/test/{lane}", payload, retain: false, patience.Token);
                    Interlocked.Increment(ref published);
                }
                catch (Exception e)
                {
                    lock (failures) failures.Add(e);
                    if (killed.Task.IsCompleted)
                    {
                        failed++;
                    }
                }
            }
        })).ToList();
        while (Volatile.Read(ref published) < 500)
        {
            await Task.Delay(10);
        }

        await broker.StopAsync(kill: true);
        killed.SetResult();
        await Task.WhenAll(publishing);

        Assert.NotEmpty(failures);
        Assert.All(failures, e => Assert.IsType<MqttNotConnectedException>(e));
        Assert.All(failures, e => Assert.False(StoreRetries.IsStoreAway(e), e.ToString()));
    }
}
