using System.Text;
using Marten;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;
using Presence.Contracts.Wire;
using Presence.Domain.House;
using Presence.Domain.Hosts;
using Presence.Domain.Migration;
using Presence.Domain.Placement;
using Presence.Domain.Users;
using Presence.Domain.Signals;
using Presence.Server.Mqtt;
using Presence.Server.Tests.Infrastructure;
using Presence.Server.Users;
using Wolverine;
using Xunit.Abstractions;

namespace Presence.Server.Tests.Signals;

/// <summary>
/// A signal's handler reads everything its decision needs in one round trip to PostgreSQL before it decides (issue 11
/// §6, the warm path): the contract id, the user's saga, the house (only the host rows that changed come with their
/// documents) and, for someone sitting down at a console, the sagas that screen concerns. One after the other they
/// were five round trips before a console login was decided. A timeline's line is inserted with the events, blind:
/// the whole timeline was read (with the saga, or after deciding) and rewritten on every login. Each test makes the
/// node forget what it keeps before the input it measures, as after a start or another node's write: what a node
/// decides without reading at all is Signals/deciding_without_reading.
/// </summary>
public sealed class reads_before_deciding(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly Topics Topics = new();
    private TestServer server = null!;
    private readonly RecordedSql sql = new();

    public async Task InitializeAsync() => server = await TestServer.StartAsync(services: s =>
    {
        s.ConfigureMarten(o => o.Logger(sql));
        TestServer.WithoutSignalWarmup(s);
    });

    public Task DisposeAsync() => server.DisposeAsync().AsTask();

    private static SignalArrived Signal(string host, string kind, string json) => (SignalArrived)Inbound(Topics.Signal(host, kind), json);

    /// <summary>Any inbound message as the bridge hands it over: a signal, an agent's answer, a request.</summary>
    private static Arrived Inbound(string topic, string json)
    {
        var bytes = Encoding.UTF8.GetBytes(json);
        return Arrived.From(InboundParser.Parse(Topics, topic, bytes, SystemClock.Instance.GetCurrentInstant(), Duration.FromMinutes(5)), Topics.Root, bytes);
    }

    private Task OnlineAsync(params string[] hosts) => ReportAsync(true, hosts);

    /// <summary>The basement's agent says it runs dave's VM, so a login of his can be shown from there.</summary>
    private async Task DaveRunsOnTheBasementAsync()
    {
        await using var session = server.Store.LightweightSession();
        session.Events.Append(HostState.StreamId("basement"), new InventoryReported(
            "basement", 8, 32768, 16384, 10000, false, null, [new VmFact("dave-desktop", VmRunState.Running, 1024, "spice://basement:5904")],
            SystemClock.Instance.GetCurrentInstant()));
        await session.SaveChangesAsync();
    }

    private async Task ReportAsync(bool online, params string[] hosts)
    {
        await using var session = server.Store.LightweightSession();
        foreach (var host in hosts)
        {
            session.Events.Append(HostState.StreamId(host), new AgentStatusReported(host, online, "test", "simulated", SystemClock.Instance.GetCurrentInstant()));
        }

        await session.SaveChangesAsync();
    }

    /// <summary>
    /// The one round trip that read the handler's contract ids, asserting that none of the statements that read for a
    /// decision (<paramref name="read"/>) ran in another before the handler wrote. Other reads run meanwhile and are
    /// not counted: the state published after an earlier signal reads its saga, and Home Assistant's publisher the
    /// hosts that changed.
    /// </summary>
    private IReadOnlyList<string> TheOneRead(params string[] read)
    {
        var trips = sql.RoundTrips;
        foreach (var trip in trips)
        {
            output.WriteLine(string.Join(" ;; ", trip.Select(c => c.Length > 90 ? c[..90] : c)));
        }

        static bool Reads(string command, string what) =>
            command.TrimStart().StartsWith("select", StringComparison.OrdinalIgnoreCase) && command.Contains(what, StringComparison.Ordinal);

        var beforeWriting = trips.TakeWhile(t => !t.Any(c => c.Contains("mt_quick_append", StringComparison.Ordinal))).ToList();
        var batch = Assert.Single(beforeWriting, t => t.Any(c => Reads(c, "mt_doc_seenmessage")));
        foreach (var what in read)
        {
            Assert.Contains(batch, c => Reads(c, what));
            Assert.Single(beforeWriting, t => t.Any(c => Reads(c, what)));
        }

        return batch;
    }

    /// <summary>The decision's line inserted in its events' transaction, and no timeline in the one read.</summary>
    private void LineWrittenBlind(IReadOnlyList<string> read)
    {
        Assert.DoesNotContain(read, c => c.Contains("timeline", StringComparison.Ordinal));
        var written = Assert.Single(sql.RoundTrips, t => t.Any(c => c.Contains("mt_quick_append", StringComparison.Ordinal)));
        Assert.Contains(written, c => c.Contains("insert into presence.timeline_lines", StringComparison.Ordinal));
    }

    private Task HandleAsync(object message) => server.Services.GetRequiredService<IMessageBus>().InvokeAsync(message);

    /// <summary>The node keeps no saga: the next input is decided on what it reads.</summary>
    private void KeepNothing() => KeptSagas.Of(server.Store).Forget();

    [Fact]
    public async Task a_console_login_is_decided_after_one_round_trip_though_the_house_changed()
    {
        await OnlineAsync("imac", "basement");
        // Alice has a timeline (her first login wrote it): the login adds a line to it.
        await HandleAsync(Signal("imac", "session", """{"id":"l-0","user":"alice","state":"login","seat":"console"}"""));
        await HandleAsync(Signal("imac", "session", """{"id":"o-0","user":"alice","state":"logout","seat":"console"}"""));
        await HandleAsync(Signal("imac", "idle", """{"id":"i-1","user":"alice","idle_seconds":5}"""));
        // A host changed since the house was last read: its row is read again, with the rest, in the same statement.
        await ReportAsync(false, "basement");
        KeepNothing();
        sql.Clear();

        await HandleAsync(Signal("imac", "session", """{"id":"l-1","user":"alice","state":"login","seat":"console"}"""));

        var read = TheOneRead("xmin", "select version from", "involves @>");
        LineWrittenBlind(read);
        // The row of the host that changed came with the versions: no second query for host documents.
        Assert.Single(read, c => c.Contains("xmin", StringComparison.Ordinal));
        await using var session = server.Store.QuerySession();
        Assert.Contains((await session.Events.FetchStreamAsync("alice")).Select(e => e.Data), e => e is SignalRecorded { Evidence.Id: "l-1" });

        // The house alice decided on is new, so are its prints: stored in the transaction of her events, not before
        // it in one of their own (a commit and two round trips more).
        var written = Assert.Single(sql.RoundTrips, t => t.Any(c => c.Contains("mt_quick_append", StringComparison.Ordinal)));
        Assert.Contains(written, c => c.Contains("mt_doc_houseprints", StringComparison.Ordinal));
        Assert.Single(sql.RoundTrips, t => t.Any(c => c.Contains("mt_doc_houseprints", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task an_agents_answer_that_ends_a_step_is_decided_after_one_round_trip()
    {
        await OnlineAsync("laptop", "basement");
        await DaveRunsOnTheBasementAsync();
        await HandleAsync(Signal("laptop", "session", """{"id":"d-1","user":"dave","state":"login","seat":"console"}"""));
        await using var session = server.Store.QuerySession();
        var attach = Assert.Single((await session.Events.FetchStreamAsync("dave")).Select(e => e.Data).OfType<DisplayAttachRequested>());
        KeepNothing();
        sql.Clear();

        await HandleAsync(Inbound("presence/agents/laptop/events", $$"""{"id":"e-1","command_id":"{{attach.CommandId}}","vm":"dave-desktop","state":"completed"}"""));

        // The laptop shows his desktop: a line in his timeline.
        LineWrittenBlind(TheOneRead("xmin", "select version from"));
        Assert.Contains((await session.Events.FetchStreamAsync("dave")).Select(e => e.Data), e => e is DisplayAttached);
    }

    [Fact]
    public async Task a_request_is_decided_after_one_round_trip()
    {
        await OnlineAsync("imac", "basement");
        await HandleAsync(Signal("imac", "session", """{"id":"l-0","user":"alice","state":"login","seat":"console"}"""));
        KeepNothing();
        sql.Clear();

        await HandleAsync(Inbound("presence/users/alice/requests", """{"id":"r-1","action":"hold"}"""));

        LineWrittenBlind(TheOneRead("xmin", "select version from"));
        await using var session = server.Store.QuerySession();
        Assert.Contains((await session.Events.FetchStreamAsync("alice")).Select(e => e.Data), e => e is HoldChanged);
    }

    [Fact]
    public async Task a_burst_of_signals_reads_its_ids_sagas_and_the_house_in_one_round_trip()
    {
        await OnlineAsync("imac", "basement");
        await HandleAsync(Signal("basement", "idle", """{"id":"b-0","user":"bob","idle_seconds":5}"""));
        KeepNothing();
        sql.Clear();

        await HandleAsync(new SignalsArrived(Lanes.User("bob"), [
            Signal("basement", "idle", """{"id":"b-1","user":"bob","idle_seconds":6}"""),
            Signal("basement", "idle", """{"id":"b-2","user":"bob","idle_seconds":7}"""),
        ]));

        var read = TheOneRead("xmin", "select version from");
        Assert.Contains(read, c => c.Contains("mt_doc_usersaga", StringComparison.Ordinal));
        Assert.DoesNotContain(read, c => c.Contains("timeline", StringComparison.Ordinal));
    }
}
