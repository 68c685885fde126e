using Marten;
using Presence.Domain.Signals;
using Presence.Server.Tests.Infrastructure;

namespace Presence.Server.Tests.Mqtt;

/// <summary>CONTRACT.md: a delivery with an `id` already seen from the same topic has no further effect.</summary>
public sealed class deduplicating_by_id : IAsyncLifetime
{
    private TestServer server = null!;
    private MqttProbe probe = null!;

    public async Task InitializeAsync()
    {
        server = await TestServer.StartAsync();
        probe = await MqttProbe.ConnectAsAsync(server.MqttPort, "probe-dedup", "imac", "presence/users/+/state");
    }

    public async Task DisposeAsync()
    {
        await probe.DisposeAsync();
        await server.DisposeAsync();
    }

    private async Task<IReadOnlyList<SignalRecorded>> RecordedAsync()
    {
        await using var session = server.Store.QuerySession();
        var events = await session.Events.FetchStreamAsync("alice");
        return events.Select(e => e.Data).OfType<SignalRecorded>().ToList();
    }

    [Fact]
    public async Task a_repeated_id_on_the_same_topic_is_ignored()
    {
        const string topic = "presence/hosts/imac/signals/session";
        await probe.PublishAsync(topic, """{"id":"dup-1","user":"alice","state":"login"}""");
        await probe.PublishAsync(topic, """{"id":"dup-1","user":"alice","state":"login"}""");
        // A different id afterwards proves the duplicate was processed (in order) before we count.
        await probe.PublishAsync(topic, """{"id":"dup-2","user":"alice","state":"active"}""");

        await Eventually.TrueAsync(async () => (await RecordedAsync()).Any(s => s.Evidence.Id == "dup-2"), "the second id recorded");
        var recorded = await RecordedAsync();
        Assert.Single(recorded, s => s.Evidence.Id == "dup-1");
    }

    [Fact]
    public async Task the_same_id_on_another_topic_is_not_a_duplicate()
    {
        await probe.PublishAsync("presence/hosts/imac/signals/session", """{"id":"shared","user":"alice","state":"login"}""");
        await using var laptop = await MqttProbe.ConnectAsAsync(server.MqttPort, "probe-dedup-laptop", "laptop");
        await laptop.PublishAsync("presence/hosts/laptop/signals/session", """{"id":"shared","user":"alice","state":"login"}""");

        await Eventually.TrueAsync(async () => (await RecordedAsync()).Count(s => s.Evidence.Id == "shared") == 2, "both recorded");
    }
}
