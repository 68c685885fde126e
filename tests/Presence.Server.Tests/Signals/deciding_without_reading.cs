using System.Text;
using JasperFx.Events;
using Marten;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;
using Presence.Contracts.Wire;
using Presence.Domain.House;
using Presence.Domain.Hosts;
using Presence.Domain.Migration;
using Presence.Domain.Signals;
using Presence.Domain.Users;
using Presence.Server.Mqtt;
using Presence.Server.Tests.Infrastructure;
using Wolverine;

namespace Presence.Server.Tests.Signals;

/// <summary>
/// A node decides a user's next input on what it kept after its last commit, reading nothing first (issue 11 §6: the
/// read was 1–2 ms of a warm login's 8), and what it kept is checked in the commit's own batch: the stream's version,
/// the house's rows and the sagas at the seat. Two server nodes on one database show that another node's write is
/// caught and the input decided again on what is stored: nothing lost, and a seat never left showing two desktops.
/// </summary>
public sealed class deciding_without_reading : IAsyncLifetime
{
    private static readonly Topics Topics = new();
    private readonly RecordedSql sql = new();
    private TestServer a = null!;
    private TestServer b = null!;
    private string database = null!;
    private string house = null!;

    public async Task InitializeAsync()
    {
        database = await PostgresCluster.NewDatabaseAsync("kept");
        // bob may sit at the iMac too.
        house = TestHouse.With(h => h["Users"]![1]!["AllowedHosts"] = new System.Text.Json.Nodes.JsonArray("basement", "imac"));
        a = await TestServer.StartAsync(database, nodeName: "a", houseJson: house, services: s =>
        {
            s.ConfigureMarten(o => o.Logger(sql));
            TestServer.WithoutSignalWarmup(s);
        });
        b = await TestServer.StartAsync(database, nodeName: "b", houseJson: house, services: TestServer.WithoutSignalWarmup);
        await using var session = a.Store.LightweightSession();
        var now = SystemClock.Instance.GetCurrentInstant();
        foreach (var host in new[] { "imac", "basement" })
        {
            session.Events.Append(HostState.StreamId(host), new AgentStatusReported(host, true, "test", "simulated", now));
        }

        session.Events.Append(HostState.StreamId("basement"), new InventoryReported("basement", 8, 32768, 16384, 10000, false, null,
            [new VmFact("alice-desktop", VmRunState.Running, 2048, "spice://basement:5900"), new VmFact("bob-desktop", VmRunState.Running, 1024, "spice://basement:5902")],
            now));
        await session.SaveChangesAsync();
    }

    public async Task DisposeAsync()
    {
        await b.DisposeAsync();
        await a.DisposeAsync();
    }

    /// <summary>Any inbound message as the bridge hands it over.</summary>
    private static Arrived Inbound(string topic, string json)
    {
        var bytes = Encoding.UTF8.GetBytes(json);
        return Arrived.From(InboundParser.Parse(Topics, topic, bytes, SystemClock.Instance.GetCurrentInstant(), Duration.FromMinutes(5)), Topics.Root, bytes);
    }

    private static Task HandleAsync(TestServer node, object message) => node.Services.GetRequiredService<IMessageBus>().InvokeAsync(message);

    private static Task SessionAsync(TestServer node, string user, string state, string id) =>
        HandleAsync(node, Inbound(Topics.Signal("imac", "session"), $$"""{"id":"{{id}}","user":"{{user}}","state":"{{state}}","seat":"console"}"""));

    private static SignalArrived Idle(string id, int seconds) =>
        (SignalArrived)Inbound(Topics.Signal("imac", "idle"), $$"""{"id":"{{id}}","user":"alice","idle_seconds":{{seconds}}}""");

    /// <summary>alice logs in and out at the iMac through node a, which then keeps her saga (and, read once, every saga).</summary>
    private async Task AliceKeptByNodeAAsync()
    {
        await SessionAsync(a, "alice", "login", "l-0");
        await SessionAsync(a, "alice", "logout", "o-0");
    }

    private static async Task ReportAsync(TestServer node, string host, bool online)
    {
        await using var session = node.Store.LightweightSession();
        session.Events.Append(HostState.StreamId(host), new AgentStatusReported(host, online, "test", "simulated", SystemClock.Instance.GetCurrentInstant()));
        await session.SaveChangesAsync();
    }

    private async Task<IReadOnlyList<IEvent>> StreamAsync(string user)
    {
        await using var session = a.Store.QuerySession();
        return await session.Events.FetchStreamAsync(user);
    }

    /// <summary>
    /// The round trips since the last clear, once it is asserted that no decision read came before the first write: a
    /// decision's read looks up the contract ids and the streams' versions. Other reads may run meanwhile (the state
    /// published after an earlier input reads its saga).
    /// </summary>
    private IReadOnlyList<IReadOnlyList<string>> NothingReadBeforeWriting(RecordedSql? on = null)
    {
        var trips = (on ?? sql).RoundTrips;
        Assert.DoesNotContain(trips.TakeWhile(t => !Writes(t)),
            t => t.Any(c => c.Contains("mt_doc_seenmessage", StringComparison.Ordinal) || c.Contains("from presence.mt_streams", StringComparison.Ordinal)));
        return trips;
    }

    /// <summary>The statement that reads the house's changed rows (Hosting/ChangedRows).</summary>
    private const string HouseRead = "from presence.mt_doc_hoststate t where not exists";

    private static bool Writes(IReadOnlyList<string> trip) => trip.Any(c => c.Contains("mt_quick_append", StringComparison.Ordinal));

    [Fact]
    public async Task a_warm_login_reads_nothing_before_it_writes_and_its_checks_ride_with_the_appends()
    {
        await AliceKeptByNodeAAsync();
        sql.Clear();

        await SessionAsync(a, "alice", "login", "l-1");

        var trips = NothingReadBeforeWriting();
        var write = trips.First(Writes);
        Assert.Contains(write, c => c.StartsWith("select count(*), count(k.k) from presence.mt_doc_hoststate", StringComparison.Ordinal));
        Assert.Contains(write, c => c.StartsWith("select count(*), count(k.k) from presence.mt_doc_usersaga", StringComparison.Ordinal));
        Assert.Single(trips, Writes);
        Assert.Contains((await StreamAsync("alice")).Select(e => e.Data), e => e is DisplayAttachRequested { Host: "imac" });
    }

    [Fact]
    public async Task the_first_login_after_a_start_is_decided_on_what_the_warmup_read_for_the_node_to_keep()
    {
        // alice's saga is stored; a node started afterwards, with its warm-up, reads every saga and the house before
        // it says ready, so its very first login reads nothing before it writes either (issue 11 §5).
        await AliceKeptByNodeAAsync();
        var recorded = new RecordedSql();
        await using var c = await TestServer.StartAsync(database, nodeName: "c", houseJson: house, services: s => s.ConfigureMarten(o => o.Logger(recorded)));
        recorded.Clear();

        await SessionAsync(c, "alice", "login", "l-c");

        var trips = NothingReadBeforeWriting(recorded);
        Assert.Single(trips, Writes);
        Assert.Contains((await StreamAsync("alice")).Select(e => e.Data), e => e is DisplayAttachRequested { Host: "imac" });
    }

    [Fact]
    public async Task another_nodes_append_to_the_stream_is_caught_and_the_input_decided_on_what_is_stored()
    {
        await AliceKeptByNodeAAsync();
        // Node b records evidence in alice's stream: what node a keeps of her saga is now one decision behind.
        await SessionAsync(b, "alice", "login", "l-b");
        await SessionAsync(b, "alice", "logout", "o-b");

        await SessionAsync(a, "alice", "login", "l-1");

        var stream = await StreamAsync("alice");
        var logins = stream.Select(e => e.Data).OfType<SignalRecorded>().Select(s => s.Evidence.Id).ToList();
        Assert.Equal(["l-0", "o-0", "l-b", "o-b", "l-1"], logins);
        // The saga document is the fold of the whole stream, b's decisions included: folded from what node a kept, it
        // would miss them.
        await using var session = a.Store.QuerySession();
        var saga = (await session.LoadAsync<UserSaga>("alice"))!;
        var folded = stream.Aggregate(UserSaga.Start("alice", null), (s, e) => UserDecider.Evolve(s, e.Data));
        Assert.Equal((folded.Decisions, folded.ShownOn, folded.LastEvidenceAt), (saga.Decisions, saga.ShownOn, saga.LastEvidenceAt));
        Assert.Equal("imac", saga.ShownOn);
    }

    [Fact]
    public async Task a_desktop_another_node_put_on_the_seat_is_taken_off_before_the_next_persons_goes_on()
    {
        await AliceKeptByNodeAAsync();
        // Node b shows bob's desktop at the iMac: node a, which keeps the sagas at that seat, has not seen it.
        await SessionAsync(b, "bob", "login", "bob-1");

        await SessionAsync(a, "alice", "login", "l-1");

        var detach = Assert.Single(await StreamAsync("bob"), e => e.Data is DisplayDetachRequested);
        Assert.Equal(("imac", "alice sat down at imac"), (((DisplayDetachRequested)detach.Data).Host, ((DisplayDetachRequested)detach.Data).Reason));
        // Decided with alice's login, as of its one instant (the order the iMac's agent is then sent them in, bob's
        // first: EndToEnd/one_desktop_per_screen).
        var attach = (DisplayAttachRequested)(await StreamAsync("alice")).Last(e => e.Data is DisplayAttachRequested).Data;
        Assert.Equal("imac", attach.Host);
        Assert.Equal(attach.At, ((DisplayDetachRequested)detach.Data).At);
    }

    [Fact]
    public async Task a_burst_of_one_persons_signals_is_appended_under_the_version_kept_in_one_transaction()
    {
        await SessionAsync(a, "alice", "login", "l-0");
        sql.Clear();

        await HandleAsync(a, new SignalsArrived(Lanes.User("alice"), [Idle("i-1", 5), Idle("i-2", 6)]));

        Assert.Single(NothingReadBeforeWriting(), Writes);
        var stream = await StreamAsync("alice");
        Assert.Equal(["l-0", "i-1", "i-2"], stream.Select(e => e.Data).OfType<SignalRecorded>().Select(s => s.Evidence.Id));
        await using var session = a.Store.QuerySession();
        var saga = (await session.LoadAsync<UserSaga>("alice"))!;
        var folded = stream.Aggregate(UserSaga.Start("alice", null), (s, e) => UserDecider.Evolve(s, e.Data));
        Assert.Equal((folded.Decisions, folded.LastEvidenceAt), (saga.Decisions, saga.LastEvidenceAt));
        Assert.Equal(stream.Count, (await session.Events.FetchStreamStateAsync("alice"))!.Version);
    }

    [Fact]
    public async Task an_agents_answer_to_a_command_another_node_sent_is_decided_on_the_stored_saga()
    {
        await AliceKeptByNodeAAsync();
        // Node b shows alice's desktop at the iMac: node a keeps her saga as it was, with no display pending.
        await SessionAsync(b, "alice", "login", "l-b");
        var attach = (DisplayAttachRequested)(await StreamAsync("alice")).Last(e => e.Data is DisplayAttachRequested).Data;

        // The iMac's agent answers through node a. Its kept saga knows no such command and gives nothing to append,
        // so only the stream's version, asserted all the same, sends it to read what node b stored.
        await HandleAsync(a, Inbound("presence/agents/imac/events",
            $$"""{"id":"e-1","command_id":"{{attach.CommandId}}","vm":"alice-desktop","state":"completed"}"""));

        Assert.Contains((await StreamAsync("alice")).Select(e => e.Data), e => e is DisplayAttached { Host: "imac" });
    }

    [Fact]
    public async Task a_host_this_node_changed_is_read_again_before_the_next_decision()
    {
        await AliceKeptByNodeAAsync();
        await ReportAsync(a, "laptop", true);
        sql.Clear();

        await SessionAsync(a, "alice", "login", "l-1");

        // One read of what changed, then one commit: not a commit that fails on the house and a second one.
        var trips = sql.RoundTrips;
        Assert.Single(trips, Writes);
        Assert.Contains(trips.TakeWhile(t => !Writes(t)), t => t.Any(c => c.Contains(HouseRead, StringComparison.Ordinal)));
    }

    [Fact]
    public async Task a_host_another_node_changed_is_caught_at_commit_and_the_input_decided_on_what_is_read()
    {
        await AliceKeptByNodeAAsync();
        await ReportAsync(b, "laptop", true);
        sql.Clear();

        await SessionAsync(a, "alice", "login", "l-1");

        // The commit made on what node a kept fails on the house's rows; the input is decided again after one read.
        var trips = sql.RoundTrips.Where(t => !t.Any(c => c.StartsWith("insert into presence.mt_streams", StringComparison.Ordinal))).ToList();
        Assert.Equal(2, trips.Count(Writes));
        var again = trips.SkipWhile(t => !Writes(t)).Skip(1).TakeWhile(t => !Writes(t));
        Assert.Contains(again, t => t.Any(c => c.Contains(HouseRead, StringComparison.Ordinal)));
        Assert.Single((await StreamAsync("alice")).Select(e => e.Data).OfType<SignalRecorded>(), s => s.Evidence.Id == "l-1");
    }

    [Fact]
    public async Task a_redelivered_signal_is_recorded_once()
    {
        await AliceKeptByNodeAAsync();

        await SessionAsync(a, "alice", "logout", "o-0");

        Assert.Single((await StreamAsync("alice")).Select(e => e.Data).OfType<SignalRecorded>(), s => s.Evidence.Id == "o-0");
    }
}
