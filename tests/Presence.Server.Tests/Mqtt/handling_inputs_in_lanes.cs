using System.Text;
using Marten;
using Microsoft.Extensions.DependencyInjection;
using Presence.Domain.Signals;
using Presence.Server.Mqtt;
using Presence.Server.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Presence.Server.Tests.Mqtt;

/// <summary>
/// Inbound messages are handled by the bridge in lanes, users spread over them (acknowledged once their transaction
/// committed, a user's signals several to a transaction when they come in a burst): different users' inputs in
/// parallel, each user's in the order they came, and none stored in the inbox on the way.
/// </summary>
public sealed class handling_inputs_in_lanes(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly HoldsStream hold = new("alice");
    private TestServer server = null!;

    private MqttBridge Bridge => server.Services.GetRequiredService<MqttBridge>();

    public async Task InitializeAsync() =>
        server = await TestServer.StartAsync(services: s =>
        {
            s.ConfigureMarten(o => o.Listeners.Add(hold));
            TestServer.WithoutSignalWarmup(s);
        });

    public Task DisposeAsync()
    {
        hold.ReleaseAll();
        return server.DisposeAsync().AsTask();
    }

    private async Task<List<string>> EvidenceAsync(string user)
    {
        await using var session = server.Store.QuerySession();
        return (await session.Events.FetchStreamAsync(user)).Select(e => e.Data).OfType<SignalRecorded>().Select(s => s.Evidence.Id).ToList();
    }

    private Task<bool> SendAsync(string host, string payload) =>
        Bridge.HandleAsync($"presence/hosts/{host}/signals/idle", Encoding.UTF8.GetBytes(payload), CancellationToken.None);

    [Fact]
    public async Task a_user_whose_handling_is_held_up_does_not_hold_up_another()
    {
        var held = hold.Arm();
        // Alone, alice's signal is handled at once (MqttBridge.AtOnce): acknowledged once its transaction commits.
        var alice = SendAsync("imac", """{"id":"alice-1","user":"alice","idle_seconds":5}""");
        await held.Holding.WaitAsync(TimeSpan.FromSeconds(30));

        // Alice's transaction is open and waiting; bob's signal is handled meanwhile.
        Assert.True(await SendAsync("basement", """{"id":"bob-1","user":"bob","idle_seconds":5}"""), "bob's signal handled and acknowledged");
        await Eventually.TrueAsync(async () => (await EvidenceAsync("bob")).Contains("bob-1"), "bob's signal handled while alice's is held");
        Assert.Empty(await EvidenceAsync("alice"));

        held.Release();
        Assert.True(await alice, "alice's signal handled and acknowledged once released");
        await Eventually.TrueAsync(async () => (await EvidenceAsync("alice")).Contains("alice-1"), "alice's signal handled once released");
        Assert.Equal(0, server.Rejections.Count);
    }

    [Fact]
    public async Task each_users_order_is_kept_in_a_burst_of_interleaved_signals()
    {
        var count = Drill.Count("PRESENCE_DRILL_LANE_SIGNALS", 60);
        var users = new[] { ("alice", "imac"), ("bob", "basement"), ("dave", "laptop") };
        var (_, storedBefore) = Bridge.Stores;
        var (transactionsBefore, handledBefore) = Bridge.AtOnce;
        var emitters = new Dictionary<string, MqttProbe>();
        foreach (var (_, host) in users)
        {
            emitters[host] = await MqttProbe.ConnectAsAsync(server.MqttPort, $"{host}-burst", host);
        }

        try
        {
            // Interleaved and not awaited one by one: the broker holds many at once, so the bridge takes them in bursts.
            var publishes = new List<Task>();
            for (var i = 0; i < count; i++)
            {
                foreach (var (user, host) in users)
                {
                    publishes.Add(emitters[host].PublishAsync($"presence/hosts/{host}/signals/idle",
                        $$"""{"id":"{{user}}-{{i:D4}}","user":"{{user}}","idle_seconds":{{i}}}"""));
                }
            }

            await Task.WhenAll(publishes);
            foreach (var (user, _) in users)
            {
                var expected = Enumerable.Range(0, count).Select(i => $"{user}-{i:D4}").ToList();
                await Eventually.TrueAsync(async () => (await EvidenceAsync(user)).Count >= count, $"all {count} of {user}'s signals handled", TimeSpan.FromSeconds(120));
                Assert.Equal(expected, await EvidenceAsync(user));
            }
        }
        finally
        {
            foreach (var emitter in emitters.Values)
            {
                await emitter.DisposeAsync();
            }
        }

        // Counted after each commit, which the evidence above may just have seen.
        await Eventually.TrueAsync(
            () => Task.FromResult(Bridge.AtOnce.Messages - handledBefore + Bridge.Stores.Messages - storedBefore >= count * users.Length),
            "the bridge's counts caught up");
        var stored = Bridge.Stores.Messages - storedBefore;
        var (transactions, handled) = (Bridge.AtOnce.Transactions - transactionsBefore, Bridge.AtOnce.Messages - handledBefore);
        output.WriteLine($"{count * users.Length} signals of {users.Length} users, interleaved: each user's in order; handled in {transactions} transactions ({(double)handled / transactions:0.0} a transaction), {stored} stored");
        // Every one handled in the bridge, none through the inbox; a user's signals that waited for their lane together.
        Assert.Equal(0, stored);
        Assert.Equal(count * users.Length, handled);
        Assert.True(transactions < handled, $"a burst of {handled} handled in {transactions} transactions: one each, no batching");
        Assert.Equal(0, server.Rejections.Count);
    }
}
