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

        var publishing = Enumerable.Range(0, 4).Select(lane => Task.Run(async () =>
        {
            for (var i = 0; i < 2_000; i++)
            {
                try
                {
                    await outbound.PublishAsync($"presence/test/{lane}", payload, retain: false, CancellationToken.None);
                }
                catch (Exception e)
                {
                    lock (failures) failures.Add(e);
                }
            }
        })).ToList();
        await Task.Delay(300);
        await broker.StopAsync(kill: true);
        await Task.WhenAll(publishing);

        Assert.NotEmpty(failures);
        Assert.All(failures, e => Assert.IsType<MqttNotConnectedException>(e));
        Assert.All(failures, e => Assert.False(StoreRetries.IsStoreAway(e), e.ToString()));
    }
}
