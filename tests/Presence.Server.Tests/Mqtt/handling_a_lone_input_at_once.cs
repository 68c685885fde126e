using System.Text;
using Marten;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Presence.Domain.Signals;
using Presence.Server.Mqtt;
using Presence.Server.Tests.Infrastructure;

namespace Presence.Server.Tests.Mqtt;

/// <summary>
/// A lone input whose lane has nothing under way is handled at once by the bridge, in a transaction of its own, and
/// acknowledged once that committed: no inbox row, no hand-over to a lane. What comes for that lane meanwhile waits
/// for it and is then handled by the bridge too, together; a lane with a stored input not yet handled stores the next
/// one too; an input whose handling at once fails is stored for Wolverine, and one Wolverine gives up on (the dead
/// letters) frees its lane; a stored input waits for those of its lane stored before it, by this node or another
/// (StoredInputs). Each lane's order is kept throughout. Alice and dave share a lane, bob has his own (Lanes.User).
/// </summary>
public sealed class handling_a_lone_input_at_once : IAsyncLifetime
{
    private readonly HoldsStream gates = new("alice");
    private TestServer server = null!;

    private MqttBridge Bridge => server.Services.GetRequiredService<MqttBridge>();

    public async Task InitializeAsync()
    {
        Assert.Equal(Lanes.User("alice"), Lanes.User("dave"));
        Assert.NotEqual(Lanes.User("alice"), Lanes.User("bob"));
        server = await TestServer.StartAsync(services: s =>
        {
            s.ConfigureMarten(o => o.Listeners.Add(gates));
            TestServer.WithoutSignalWarmup(s);
        });
    }

    public Task DisposeAsync()
    {
        gates.ReleaseAll();
        return server.DisposeAsync().AsTask();
    }

    private static readonly Dictionary<string, string> HostOf = new() { ["alice"] = "imac", ["bob"] = "basement", ["dave"] = "laptop" };

    private static string Payload(string id) => $$"""{"id":"{{id}}","user":"{{id[..id.IndexOf('-')]}}","idle_seconds":5}""";

    private Task<bool> SendAsync(string id)
    {
        var host = HostOf[id[..id.IndexOf('-')]];
        return Bridge.HandleAsync($"presence/hosts/{host}/signals/idle", Encoding.UTF8.GetBytes(Payload(id)), CancellationToken.None);
    }

    private async Task<List<string>> EvidenceAsync(string user)
    {
        await using var session = server.Store.QuerySession();
        return (await session.Events.FetchStreamAsync(user)).Select(e => e.Data).OfType<SignalRecorded>().Select(s => s.Evidence.Id).ToList();
    }

    /// <summary>
    /// Wolverine's inbox rows (kept a while once handled) whose message carries this signal's payload (base64 in
    /// the JSON).
    /// </summary>
    private Task<int> InboxRowsAsync(string id) => RowsCarryingAsync("wolverine_incoming_envelopes", id);

    /// <summary>Wolverine's dead letters whose message carries this signal's payload.</summary>
    private Task<int> DeadLettersAsync(string id) => RowsCarryingAsync("wolverine_dead_letters", id);

    /// <summary>An input of alice's lane stored and not yet done with, as a node that died would leave it.</summary>
    private async Task<Guid> StoredEarlierAsync()
    {
        var id = Guid.NewGuid();
        await SqlAsync($"insert into {StoredInputs.Table(server.Store)} (id, lane) values (@id, @lane)", ("id", id), ("lane", Lanes.User("alice")));
        return id;
    }

    private Task DoneWithAsync(Guid id) => SqlAsync($"delete from {StoredInputs.Table(server.Store)} where id = @id", ("id", id));

    private async Task<long> SqlAsync(string sql, params (string Name, object Value)[] parameters)
    {
        await using var connection = new NpgsqlConnection(server.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }

        return await command.ExecuteScalarAsync() is long count ? count : 0;
    }

    private async Task<int> RowsCarryingAsync(string table, string id)
    {
        await using var connection = new NpgsqlConnection(server.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            $"select count(*) from presence_messages.{table} where position(convert_to(@payload, 'UTF8') in body) > 0", connection);
        command.Parameters.AddWithValue("payload", Convert.ToBase64String(Encoding.UTF8.GetBytes(Payload(id))));
        return (int)(long)(await command.ExecuteScalarAsync())!;
    }

    [Fact]
    public async Task a_lone_signal_of_an_idle_lane_is_handled_before_it_is_acknowledged_and_never_stored()
    {
        var before = Bridge.AtOnce.Messages;

        Assert.True(await SendAsync("alice-1"));

        Assert.Equal(["alice-1"], await EvidenceAsync("alice")); // handled by the time it is acknowledged
        Assert.Equal(before + 1, Bridge.AtOnce.Messages);
        Assert.Equal(0, await InboxRowsAsync("alice-1"));
    }

    [Fact]
    public async Task a_lone_signal_the_house_refuses_is_reported_and_acknowledged()
    {
        var refused = server.Rejections.Count;

        Assert.True(await Bridge.HandleAsync("presence/hosts/imac/signals/idle",
            Encoding.UTF8.GetBytes("""{"id":"mallory-1","user":"mallory","idle_seconds":5}"""), CancellationToken.None));

        Assert.Equal(refused + 1, server.Rejections.Count);
        Assert.Empty(await EvidenceAsync("mallory"));
    }

    [Fact]
    public async Task what_comes_for_its_lane_meanwhile_waits_for_it_keeps_its_order_and_is_handled_together()
    {
        var (transactions, handled) = Bridge.AtOnce;
        var held = gates.Arm();
        var alice1 = SendAsync("alice-1");
        await held.Holding.WaitAsync(TimeSpan.FromSeconds(30));

        // Alice's transaction is open: dave's and alice's next wait (her lane), bob's is handled meanwhile (his own).
        var dave1 = SendAsync("dave-1");
        var alice2 = SendAsync("alice-2");
        Assert.True(await SendAsync("bob-1"));
        await Eventually.TrueAsync(async () => (await EvidenceAsync("bob")).Count == 1, "bob's signal handled while alice's is held");
        await Task.Delay(200);
        Assert.Empty(await EvidenceAsync("dave"));
        Assert.Empty(await EvidenceAsync("alice"));
        Assert.False(dave1.IsCompleted || alice2.IsCompleted, "what waits for the lane is not acknowledged before it is handled");

        held.Release();
        Assert.True(await alice1);
        Assert.True(await dave1);
        Assert.True(await alice2);
        await Eventually.TrueAsync(async () => (await EvidenceAsync("alice")).Count == 2 && (await EvidenceAsync("dave")).Count == 1,
            "what waited handled");
        Assert.Equal(["alice-1", "alice-2"], await EvidenceAsync("alice"));
        foreach (var id in new[] { "alice-1", "dave-1", "alice-2", "bob-1" })
        {
            Assert.Equal(0, await InboxRowsAsync(id));
        }

        // Alice's first, bob's, then dave's and alice's second together, in one transaction: what waited for a lane.
        Assert.Equal((transactions + 3, handled + 4), Bridge.AtOnce);
    }

    [Fact]
    public async Task a_lane_with_a_stored_input_not_yet_handled_stores_the_next_one_behind_it()
    {
        // Alice's first fails at once, so it is stored; Wolverine's handling of it is held.
        var atOnce = Bridge.AtOnce.Messages;
        gates.FailNext();
        var held = gates.Arm();
        Assert.True(await SendAsync("alice-1")); // acknowledged once stored
        await held.Holding.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.True(await SendAsync("dave-1"));
        Assert.Equal(atOnce, Bridge.AtOnce.Messages);
        Assert.Equal(1, await InboxRowsAsync("dave-1"));
        await Task.Delay(200);
        Assert.Empty(await EvidenceAsync("dave")); // behind alice's first, in Wolverine's lane

        held.Release();
        await Eventually.TrueAsync(async () => (await EvidenceAsync("dave")).Count == 1, "dave's signal handled after alice's first");
        Assert.Equal(["alice-1"], await EvidenceAsync("alice"));

        // Both handled, the lane is idle again: the next lone signal is handled at once.
        var lanes = server.Services.GetRequiredService<InboundLanes>();
        await Eventually.TrueAsync(() => Task.FromResult(!lanes.IsBusy(Lanes.User("alice"))), "alice's lane counted idle once its stored inputs are handled");
        Assert.True(await SendAsync("alice-2"));
        Assert.Equal(atOnce + 1, Bridge.AtOnce.Messages);
        Assert.Equal(0, await InboxRowsAsync("alice-2"));
    }

    [Fact]
    public async Task a_signal_whose_handling_at_once_fails_is_stored_and_handled_by_wolverine()
    {
        var atOnce = Bridge.AtOnce.Messages;
        gates.FailNext();

        Assert.True(await SendAsync("alice-1"));

        Assert.Equal(atOnce, Bridge.AtOnce.Messages);
        Assert.Equal(1, await InboxRowsAsync("alice-1"));
        await Eventually.TrueAsync(async () => (await EvidenceAsync("alice")).Count == 1, "alice's signal handled from the inbox");
        Assert.Equal(["alice-1"], await EvidenceAsync("alice"));
    }

    [Fact]
    public async Task a_stored_input_moved_to_the_dead_letters_frees_its_lane()
    {
        // Fails at once and at every one of Wolverine's attempts: stored, then moved to the dead letters.
        gates.FailNext(times: 100);
        Assert.True(await SendAsync("alice-1"));
        await Eventually.TrueAsync(async () => await DeadLettersAsync("alice-1") == 1, "alice's signal in the dead letters");
        gates.FailNext(0);
        // Nothing stored after it waits for it any more.
        await Eventually.TrueAsync(async () => await SqlAsync($"select count(*) from {StoredInputs.Table(server.Store)}") == 0,
            "its row among the stored inputs gone");

        var lanes = server.Services.GetRequiredService<InboundLanes>();
        await Eventually.TrueAsync(() => Task.FromResult(!lanes.IsBusy(Lanes.User("alice"))), "alice's lane idle once her input is dead-lettered");
        var atOnce = Bridge.AtOnce.Messages;
        Assert.True(await SendAsync("alice-2"));
        Assert.Equal(atOnce + 1, Bridge.AtOnce.Messages);
        Assert.Equal(["alice-2"], await EvidenceAsync("alice"));
    }

    [Fact]
    public async Task a_stored_input_waits_for_one_of_its_lane_stored_before_it()
    {
        var earlier = await StoredEarlierAsync();
        gates.FailNext();
        Assert.True(await SendAsync("alice-1")); // stored, as its handling at once failed
        Assert.Equal(1, await InboxRowsAsync("alice-1"));

        await Task.Delay(1500);
        Assert.Empty(await EvidenceAsync("alice")); // Wolverine took it up and put it back: not its turn

        await DoneWithAsync(earlier);
        await Eventually.TrueAsync(async () => (await EvidenceAsync("alice")).Count == 1, "alice's signal handled once the earlier one is done with");
        Assert.Equal(0, await SqlAsync($"select count(*) from {StoredInputs.Table(server.Store)}"));
    }

    [Fact]
    public async Task a_server_that_starts_with_inputs_waiting_stores_what_comes_for_their_lane_behind_them()
    {
        var earlier = await StoredEarlierAsync();
        await using var next = await TestServer.StartAsync(connectionString: server.ConnectionString, nodeName: "next", services: TestServer.WithoutSignalWarmup);
        var bridge = next.Services.GetRequiredService<MqttBridge>();
        var atOnce = bridge.AtOnce.Messages;

        Assert.True(await bridge.HandleAsync("presence/hosts/imac/signals/idle", Encoding.UTF8.GetBytes(Payload("alice-1")), CancellationToken.None));
        Assert.Equal(atOnce, bridge.AtOnce.Messages); // stored behind what waits, not handled at once before it
        Assert.Equal(1, await InboxRowsAsync("alice-1"));
        await Task.Delay(1500);
        Assert.Empty(await EvidenceAsync("alice"));

        await DoneWithAsync(earlier);
        await Eventually.TrueAsync(async () => (await EvidenceAsync("alice")).Count == 1, "alice's signal handled once the earlier one is done with");
        Assert.Equal(0, await SqlAsync($"select count(*) from {StoredInputs.Table(server.Store)}"));
    }
}
