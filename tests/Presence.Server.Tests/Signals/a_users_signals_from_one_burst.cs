using System.Text;
using Marten;
using Marten.Services;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;
using Presence.Contracts.Wire;
using Presence.Domain.Signals;
using Presence.Server.Mqtt;
using Presence.Server.Tests.Infrastructure;
using Wolverine;

namespace Presence.Server.Tests.Signals;

/// <summary>
/// A user's signals that arrive in one burst are handled as one batch, in order, in one transaction (issue 11 §6):
/// the bridge gathers them (<see cref="SignalsArrived.Gather"/>), the handler decides each on the saga the ones before
/// it left.
/// </summary>
public sealed class a_users_signals_from_one_burst : IAsyncLifetime
{
    private static readonly Topics Topics = new();
    private TestServer server = null!;
    private readonly Commits commits = new();

    public async Task InitializeAsync() => server = await TestServer.StartAsync(services: s =>
    {
        s.ConfigureMarten(o => o.Listeners.Add(commits));
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

    [Fact]
    public void the_bridge_gathers_a_users_signals_in_the_place_of_the_first()
    {
        IArrived[] burst = [Idle("alice", "a1"), Idle("bob", "b1", "basement"), Status("imac"), Idle("alice", "a2"), Idle("alice", "a3")];

        var gathered = SignalsArrived.Gather(burst);

        Assert.Equal([0, 1, 2], gathered.Select(g => g.First));
        var alice = Assert.IsType<SignalsArrived>(gathered[0].Message);
        Assert.Equal(Lanes.User("alice"), alice.Lane);
        Assert.Equal(["a1", "a2", "a3"], alice.Signals.Select(s => s.Id));
        Assert.Same(burst[1], gathered[1].Message);
        Assert.Same(burst[2], gathered[2].Message);
    }

    [Fact]
    public void a_lone_signal_a_request_among_them_or_a_console_login_keeps_the_burst_as_it_came()
    {
        IArrived[] lone = [Idle("alice", "a1"), Idle("bob", "b1", "basement")];
        IArrived[] withLogin = [Idle("alice", "a1"), Arrived("imac", "session", """{"id":"a2","user":"alice","state":"login","seat":"console"}""")];
        var request = Presence.Server.Mqtt.Arrived.From(InboundParser.Parse(Topics, Topics.UserRequests("alice"), Encoding.UTF8.GetBytes("""{"id":"r1","action":"hold"}"""),
            SystemClock.Instance.GetCurrentInstant(), Duration.FromMinutes(5)), Topics.Root, Encoding.UTF8.GetBytes("""{"id":"r1","action":"hold"}"""));
        IArrived[] withRequest = [Idle("alice", "a1"), request, Idle("alice", "a2")];

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
            (SignalArrived)Idle("bob", "b2", "basement"),
            (SignalArrived)Idle("bob", "b2", "basement"),
            // bob may use the basement only: refused and reported, the others are still stored.
            (SignalArrived)Idle("bob", "b3", "imac"),
            (SignalArrived)Idle("bob", "b4", "basement"),
        ]);
        var before = commits.Count;

        await server.Services.GetRequiredService<IMessageBus>().InvokeAsync(batch);

        Assert.Equal(1, commits.Count - before);
        await using var session = server.Store.QuerySession();
        var stream = await session.Events.FetchStreamAsync("bob");
        Assert.Equal(["b1", "b2", "b4"], stream.Select(e => e.Data).OfType<SignalRecorded>().Select(s => s.Evidence.Id));
        Assert.Equal(Enumerable.Range(1, stream.Count).Select(v => (long)v), stream.Select(e => e.Version));
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
