using Marten;
using Microsoft.Extensions.DependencyInjection;
using Presence.Domain.Hosts;
using Presence.Domain.Signals;
using Presence.Server.Mqtt;
using Presence.Server.Tests.Infrastructure;

namespace Presence.Server.Tests.Mqtt;

/// <summary>
/// The embedded broker hands what the bridge takes to it in process (<see cref="BridgeHandOff"/>): nothing comes
/// through the bridge's own MQTT client, each input is taken once and in its publisher's order, and the broker still
/// keeps a retained message and delivers to a client that subscribed to the same topics.
/// </summary>
public sealed class handing_inputs_over_in_process : IAsyncLifetime
{
    private TestServer server = null!;
    private MqttProbe imac = null!;

    private MqttBridge Bridge => server.Services.GetRequiredService<MqttBridge>();

    public async Task InitializeAsync()
    {
        server = await TestServer.StartAsync();
        imac = await MqttProbe.ConnectAsAsync(server.MqttPort, "imac-handoff", "imac");
    }

    public async Task DisposeAsync()
    {
        await imac.DisposeAsync();
        await server.DisposeAsync();
    }

    private async Task<List<string>> EvidenceAsync(string user)
    {
        await using var session = server.Store.QuerySession();
        return (await session.Events.FetchStreamAsync(user)).Select(e => e.Data).OfType<SignalRecorded>().Select(s => s.Evidence.Id).ToList();
    }

    private async Task PublishIdleAsync(int count, string prefix)
    {
        for (var i = 1; i <= count; i++)
        {
            var result = await imac.PublishAsync("presence/hosts/imac/signals/idle", $$"""{"id":"{{prefix}}-{{i}}","user":"alice","idle_seconds":{{i}}}""");
            Assert.True(result.IsSuccess, $"{prefix}-{i}: {result.ReasonCode} {result.ReasonString}");
        }
    }

    [Fact]
    public async Task signals_reach_the_bridge_in_process_in_their_order_not_through_its_client()
    {
        var (handed, through) = Bridge.Arrivals;

        await PublishIdleAsync(30, "direct");

        await Eventually.TrueAsync(async () => (await EvidenceAsync("alice")).Count == 30, "all 30 signals stored");
        Assert.Equal([.. Enumerable.Range(1, 30).Select(i => $"direct-{i}")], await EvidenceAsync("alice"));
        Assert.Equal((handed + 30, through), Bridge.Arrivals);
    }

    [Fact]
    public async Task a_client_subscribed_to_the_signals_still_gets_them_and_the_bridge_takes_each_once()
    {
        await using var watcher = await MqttProbe.ConnectAsAsync(server.MqttPort, "watcher-handoff", "basement", "presence/hosts/+/signals/#");
        var (handed, through) = Bridge.Arrivals;

        await PublishIdleAsync(10, "watched");

        await Eventually.TrueAsync(async () => (await EvidenceAsync("alice")).Count == 10, "all 10 signals stored");
        for (var i = 1; i <= 10; i++)
        {
            await watcher.WaitForAsync(m => m.Payload.Contains($"\"watched-{i}\""), TimeSpan.FromSeconds(10), $"watched-{i} at the watcher");
        }

        Assert.Equal((handed + 10, through), Bridge.Arrivals);

        // Once it is gone, the broker no longer dispatches them at all; the bridge still takes each.
        await watcher.DisposeAsync();
        await Eventually.TrueAsync(() => Task.FromResult(!server.Services.GetRequiredService<BridgeHandOff>().OthersMayWant("presence/hosts/imac/signals/idle")),
            "the watcher's subscription forgotten with its session");
        await PublishIdleAsync(5, "unwatched");
        await Eventually.TrueAsync(async () => (await EvidenceAsync("alice")).Count == 15, "the next 5 stored");
        Assert.Equal((handed + 15, through), Bridge.Arrivals);
    }

    [Fact]
    public async Task a_retained_status_is_kept_by_the_broker_and_taken_once()
    {
        var (handed, through) = Bridge.Arrivals;

        var result = await imac.PublishAsync("presence/agents/imac/status",
            """{"id":"status-handoff","state":"online","agent_version":"handoff-1","hypervisor":"simulated"}""", retain: true);

        Assert.True(result.IsSuccess, $"{result.ReasonCode} {result.ReasonString}");
        await Eventually.TrueAsync(async () =>
        {
            await using var session = server.Store.QuerySession();
            return (await session.LoadAsync<HostState>(HostState.StreamId("imac")))?.AgentVersion == "handoff-1";
        }, "imac's status taken");
        Assert.Equal((handed + 1, through), Bridge.Arrivals);
        await using var late = await MqttProbe.ConnectAsAsync(server.MqttPort, "late-handoff", "basement", "presence/agents/imac/status");
        var kept = await late.WaitForAsync(m => m.Topic == "presence/agents/imac/status", TimeSpan.FromSeconds(10), "the retained status");
        Assert.True(kept.Retained);
        Assert.Contains("handoff-1", kept.Payload);
    }
}

/// <summary>Which subscriptions of other clients make the broker dispatch what it hands to the bridge.</summary>
public sealed class telling_whom_else_a_bridge_input_concerns
{
    private static BridgeHandOff HandOff() => new(["presence/hosts/+/signals/+", "presence/agents/+/events"], "presence-server-node-in", enabled: true);

    [Theory]
    [InlineData("presence/hosts/+/signals/+", "presence/hosts/imac/signals/idle", true)]
    [InlineData("presence/#", "presence/hosts/+/signals/+", true)]
    [InlineData("#", "presence/agents/+/events", true)]
    [InlineData("presence/hosts/imac/#", "presence/hosts/+/signals/+", true)]
    [InlineData("presence/+/+/signals", "presence/hosts/+/signals/+", false)]
    [InlineData("presence/agents/imac/commands", "presence/agents/+/events", false)]
    [InlineData("presence/agents/+", "presence/agents/+/events", false)]
    [InlineData("presence/agents/#", "presence/agents", true)]
    [InlineData("presence/users/+/state", "presence/hosts/+/signals/+", false)]
    public void two_filters_overlap_when_some_topic_matches_both(string a, string b, bool overlap)
    {
        Assert.Equal(overlap, BridgeHandOff.Overlap(a, b));
        Assert.Equal(overlap, BridgeHandOff.Overlap(b, a));
    }

    [Fact]
    public void an_agent_subscribed_to_its_commands_concerns_no_input()
    {
        var handOff = HandOff();
        handOff.Subscribed("imac", "presence/agents/imac/commands");
        handOff.Subscribed("ha", "presence/users/+/state");

        Assert.False(handOff.OthersMayWant("presence/hosts/imac/signals/idle"));
        Assert.False(handOff.OthersMayWant("presence/agents/imac/events"));
    }

    [Fact]
    public void a_client_watching_the_signals_gets_them_until_it_unsubscribes_or_its_session_ends()
    {
        var handOff = HandOff();
        handOff.Subscribed("watcher", "presence/hosts/#");
        handOff.Subscribed("group-member", "$share/presence/presence/agents/+/events");

        Assert.True(handOff.OthersMayWant("presence/hosts/imac/signals/idle"));
        Assert.True(handOff.OthersMayWant("presence/agents/imac/events"));
        Assert.False(handOff.OthersMayWant("presence/agents/imac/status"));

        handOff.Unsubscribed("watcher", "presence/hosts/#");
        handOff.SessionGone("group-member");
        Assert.False(handOff.OthersMayWant("presence/hosts/imac/signals/idle"));
        Assert.False(handOff.OthersMayWant("presence/agents/imac/events"));
    }

    [Fact]
    public void the_bridge_s_own_subscriptions_are_not_another_client_s()
    {
        var handOff = HandOff();
        handOff.Subscribed("presence-server-node-in", "presence/hosts/+/signals/+");

        Assert.False(handOff.OthersMayWant("presence/hosts/imac/signals/idle"));
    }

    [Fact]
    public void nothing_is_handed_over_before_the_bridge_opens_after_it_closes_or_when_off()
    {
        var handOff = HandOff();
        Assert.Null(handOff.For("presence/hosts/imac/signals/idle"));

        handOff.Open((_, _) => ValueTask.FromResult(Task.FromResult(true)));
        Assert.NotNull(handOff.For("presence/hosts/imac/signals/idle"));
        Assert.Null(handOff.For("presence/users/alice/state"));

        handOff.Close();
        Assert.Null(handOff.For("presence/hosts/imac/signals/idle"));

        var off = new BridgeHandOff(["presence/hosts/+/signals/+"], "presence-server-node-in", enabled: false);
        off.Open((_, _) => ValueTask.FromResult(Task.FromResult(true)));
        Assert.Null(off.For("presence/hosts/imac/signals/idle"));
    }
}
