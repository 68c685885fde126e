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
    public async Task two_deliveries_of_one_id_racing_store_it_once_and_the_loser_fails_as_a_conflict_to_retry()
    {
        // Both looked the id up before either stored it (two server nodes, or a redelivery racing the first).
        const string topic = "presence/hosts/imac/signals/idle";
        var at = NodaTime.SystemClock.Instance.GetCurrentInstant();
        await using var first = server.Store.LightweightSession();
        await using var second = server.Store.LightweightSession();
        Assert.False(await Presence.Server.Hosting.SeenMessage.IsDuplicateAsync(first, topic, "race-1", at));
        Assert.False(await Presence.Server.Hosting.SeenMessage.IsDuplicateAsync(second, topic, "race-1", at));

        await first.SaveChangesAsync();
        var lost = await Record.ExceptionAsync(() => second.SaveChangesAsync());

        // What Wolverine's conflict retry (StoreRetries.RetryStoreTrouble) takes: its next try finds the id stored.
        Assert.True(lost is not null && Presence.Server.Hosting.StoreRetries.IsConflict(lost), $"the loser failed with {lost?.GetType().FullName}: {lost?.Message}");
        Assert.False(Presence.Server.Hosting.StoreRetries.IsStoreAway(lost!));
        await using var third = server.Store.LightweightSession();
        Assert.True(await Presence.Server.Hosting.SeenMessage.IsDuplicateAsync(third, topic, "race-1", at));
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
