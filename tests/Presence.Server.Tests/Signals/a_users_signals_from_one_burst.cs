using System.Text;
using Marten;
using Marten.Services;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;
using Presence.Contracts.Wire;
using Presence.Domain.Signals;
using Presence.Server.Hosting;
using Presence.Server.Mqtt;
using Presence.Server.Tests.Infrastructure;
using Wolverine;

namespace Presence.Server.Tests.Signals;

/// <summary>
/// The signals of a lane's users that arrive in one burst are handled as one batch, in order, in one transaction
/// (issue 11 §6): the bridge gathers them (<see cref="SignalsArrived.Gather"/>), the handler reads their sagas in one
/// round trip and decides each on the saga the ones before it left.
/// </summary>
public sealed class a_users_signals_from_one_burst : IAsyncLifetime
{
    private static readonly Topics Topics = new();
    private TestServer server = null!;
    private readonly Commits commits = new();
    private readonly RecordedSql sql = new();

    public async Task InitializeAsync() => server = await TestServer.StartAsync(services: s =>
    {
        s.ConfigureMarten(o =>
        {
            o.Listeners.Add(commits);
            o.Logger(sql);
        });
        TestServer.WithoutSignalWarmup(s);
    });

    public Task DisposeAsync() => server.DisposeAsync().AsTask();

    private static IArrived Arrived(string host, string kind, string json)
    {
        var topic = Topics.Signal(host, kind);
        var bytes = Encoding.UTF8.GetBytes(json);
        return Presence.Server.Mqtt.Arrived.From(InboundParser.Parse(Topics, topic, bytes, SystemClock.Instance.GetCurrentInstant(), Duration.FromMinutes(5)), Topics.Root, bytes);
    }

    private static IArrived Idle(string user, string id, string host = "imac") =>
        Arrived(host, "idle", $$"""{"id":"{{id}}","user":"{{user}}","idle_seconds":5}""");

    private static IArrived Status(string host) => Presence.Server.Mqtt.Arrived.From(
        InboundParser.Parse(Topics, Topics.AgentStatus(host), Encoding.UTF8.GetBytes("""{"id":"s-1","state":"online","agent_version":"t","hypervisor":"simulated"}"""),
            SystemClock.Instance.GetCurrentInstant(), Duration.FromMinutes(5)),
        Topics.Root, Encoding.UTF8.GetBytes("""{"id":"s-1","state":"online","agent_version":"t","hypervisor":"simulated"}"""));

    /// <summary>A user whose lane is (or is not) alice's: users share <see cref="Lanes.UserLanes"/> lanes.</summary>
    private static string UserWhoseLane(bool sharesAlices) => Enumerable.Range(1, 1000).Select(i => "user" + i)
        .First(u => (Lanes.User(u) == Lanes.User("alice")) == sharesAlices);

    [Fact]
    public void a_user_always_has_the_same_lane_and_users_share_a_few()
    {
        var lanes = Enumerable.Range(1, 1000).Select(i => Lanes.User("user" + i)).ToList();

        Assert.Equal(Lanes.UserLanes, lanes.Distinct().Count());
        Assert.Equal("users:7", Lanes.User("alice")); // the same in every process: FNV-1a, not string.GetHashCode
        Assert.DoesNotContain(Lanes.House, lanes);
    }

    [Fact]
    public void the_bridge_gathers_a_lanes_signals_in_the_place_of_the_first()
    {
        var sharer = UserWhoseLane(sharesAlices: true);
        var other = UserWhoseLane(sharesAlices: false);
        IArrived[] burst = [Idle("alice", "a1"), Idle(other, "o1", "basement"), Status("imac"), Idle(sharer, "s1"), Idle("alice", "a2"), Idle("alice", "a3")];

        var gathered = SignalsArrived.Gather(burst);

        Assert.Equal([0, 1, 2], gathered.Select(g => g.First));
        var lane = Assert.IsType<SignalsArrived>(gathered[0].Message);
        Assert.Equal(Lanes.User("alice"), lane.Lane);
        Assert.Equal(["a1", "s1", "a2", "a3"], lane.Signals.Select(s => s.Id));
        Assert.Same(burst[1], gathered[1].Message);
        Assert.Same(burst[2], gathered[2].Message);
    }

    [Fact]
    public void another_input_of_the_lane_ends_a_run_and_keeps_its_place()
    {
        var sharer = UserWhoseLane(sharesAlices: true);
        IArrived[] burst = [Idle("alice", "a1"), Idle("alice", "a2"), Request(sharer, "r1"), Idle("alice", "a3"), Idle("alice", "a4"), Idle("alice", "a5")];

        var gathered = SignalsArrived.Gather(burst);

        Assert.Equal([0, 2, 3], gathered.Select(g => g.First));
        Assert.Equal(["a1", "a2"], Assert.IsType<SignalsArrived>(gathered[0].Message).Signals.Select(s => s.Id));
        Assert.Same(burst[2], gathered[1].Message);
        Assert.Equal(["a3", "a4", "a5"], Assert.IsType<SignalsArrived>(gathered[2].Message).Signals.Select(s => s.Id));
    }

    private static IArrived Request(string user, string id)
    {
        var bytes = Encoding.UTF8.GetBytes($$"""{"id":"{{id}}","action":"hold"}""");
        return Presence.Server.Mqtt.Arrived.From(InboundParser.Parse(Topics, Topics.UserRequests(user), bytes, SystemClock.Instance.GetCurrentInstant(), Duration.FromMinutes(5)),
            Topics.Root, bytes);
    }

    [Fact]
    public void a_lone_signal_a_request_among_them_or_a_console_login_keeps_the_burst_as_it_came()
    {
        IArrived[] lone = [Idle("alice", "a1"), Idle(UserWhoseLane(sharesAlices: false), "o1", "basement")];
        IArrived[] withLogin = [Idle("alice", "a1"), Arrived("imac", "session", """{"id":"a2","user":"alice","state":"login","seat":"console"}""")];
        IArrived[] withRequest = [Idle("alice", "a1"), Request("alice", "r1"), Idle("alice", "a2")];

        foreach (var burst in new[] { lone, withLogin, withRequest })
        {
            Assert.Equal(burst, SignalsArrived.Gather(burst).Select(g => g.Message));
        }
    }

    [Fact]
    public async Task the_batch_is_decided_in_order_in_one_commit_and_a_refused_or_repeated_signal_changes_nothing_else()
    {
        var batch = new SignalsArrived(Lanes.User("bob"), [
            (SignalArrived)Idle("bob", "b1", "basement"),
            (SignalArrived)Idle("dave", "d1", "basement"),
            (SignalArrived)Idle("bob", "b2", "basement"),
            (SignalArrived)Idle("bob", "b2", "basement"),
            (SignalArrived)Idle("dave", "d2", "basement"),
            // bob may use the basement only: refused and reported, the others are still stored.
            (SignalArrived)Idle("bob", "b3", "imac"),
            (SignalArrived)Idle("bob", "b4", "basement"),
        ]);
        var before = commits.Count;
        sql.Clear();

        await server.Services.GetRequiredService<IMessageBus>().InvokeAsync(batch);

        Assert.Equal(1, commits.Count - before);
        // The five ids stored with one statement, not one each.
        Assert.Single(sql.Commands, c => c.StartsWith("insert into", StringComparison.OrdinalIgnoreCase) && c.Contains("mt_doc_seenmessage"));
        await using var session = server.Store.QuerySession();
        Assert.Equal(5, await session.Query<SeenMessage>().CountAsync(m => m.Id.StartsWith(Topics.Signal("basement", "idle") + "#")));
        var stream = await session.Events.FetchStreamAsync("bob");
        Assert.Equal(["b1", "b2", "b4"], stream.Select(e => e.Data).OfType<SignalRecorded>().Select(s => s.Evidence.Id));
        Assert.Equal(Enumerable.Range(1, stream.Count).Select(v => (long)v), stream.Select(e => e.Version));
        Assert.Equal(["d1", "d2"], (await session.Events.FetchStreamAsync("dave")).Select(e => e.Data).OfType<SignalRecorded>().Select(s => s.Evidence.Id));
        Assert.Equal(1, server.Rejections.Count);

        // The same burst again (the broker redelivers what it had not seen acknowledged): every id is found stored.
        await server.Services.GetRequiredService<IMessageBus>().InvokeAsync(batch);
        await using var again = server.Store.QuerySession();
        Assert.Equal(stream.Count, (await again.Events.FetchStreamAsync("bob")).Count);
    }

    private sealed class Commits : DocumentSessionListenerBase
    {
        private int count;

        public int Count => Volatile.Read(ref count);

        public override Task AfterCommitAsync(IDocumentSession session, IChangeSet commit, CancellationToken token)
        {
            if (commit.GetEvents().Any())
            {
                Interlocked.Increment(ref count);
            }

            return Task.CompletedTask;
        }
    }
}
