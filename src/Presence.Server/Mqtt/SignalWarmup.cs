using System.Diagnostics;
using System.Text;
using Marten;
using Microsoft.Extensions.Options;
using NodaTime;
using Npgsql;
using Presence.Contracts.Signals;
using Presence.Contracts.Wire;
using Presence.Domain.Hosts;
using Presence.Domain.House;
using Presence.Domain.Users;
using Presence.Server.Configuration;
using Presence.Server.Hosting;
using Presence.Server.Migration;
using Presence.Server.Placement;
using Presence.Server.Signing;
using Presence.Server.Signals;
using Presence.Server.Users;
using Wolverine.Runtime;
using SessionOptions = Marten.Services.SessionOptions;

namespace Presence.Server.Mqtt;

/// <summary>
/// The first login after a start paid ~0.5 s more than a warm one (measured: tests/Presence.Benchmarks
/// first-signal), first-use work in .NET, Npgsql, System.Text.Json and Marten: JIT, serializer metadata,
/// the document and event storage, the first plan of each statement. Before the bridge subscribes, made-up logins of
/// the first user (at their first allowed seat, then at the second; Mqtt:WarmupLogins in all) take the path a real
/// one takes (contract parser, handler, decider, Marten reads, event appends, inline projections, the commit's SQL,
/// the saga read back for the state's JSON, each command's JSON and signature), each pair inside a PostgreSQL
/// transaction that is then rolled back, in a house made to look alive in it (<see cref="AliveHostsAsync"/>). Nothing
/// is sent or stored: the rows (the house's prints too, written in the same transaction, and not taken for stored:
/// Users/HousePrints.WillRollBack) vanish with the rollback and the handler's outgoing messages are dropped. The
/// only trace is a gap in the event sequence (PostgreSQL sequences ignore rollbacks), which any failed commit leaves
/// too. A failure only costs the warmth: it is logged and the server starts anyway.
/// </summary>
/// <remarks>
/// A hosted service registered after Wolverine's (<see cref="Configuration.AddSignalWarmup"/>), so it runs when
/// Marten's schema is applied and Wolverine is up, and before the host reports started: systemd's READY=1 and the
/// bridge's subscription (which waits for that) come after it.
/// </remarks>
public sealed class SignalWarmup(
    IDocumentStore store,
    HousePolicy policy,
    IClock clock,
    ServerNode node,
    IOptions<MqttOptions> options,
    IWolverineRuntime wolverine,
    HouseKeys keys,
    ILogger<SignalWarmup> logger) : IHostedService
{
    public const string SignalId = "presence-warmup";

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        // A handler whose generated type is missing (stale Internal/Generated) fails the start here, not a login later.
        var loading = Stopwatch.StartNew();
        var handlers = HandlerTypes.LoadAll(wolverine);
        logger.LogInformation("Loaded {Count} message handlers in {Milliseconds} ms, before taking signals", handlers.Count, loading.ElapsedMilliseconds);
        await WarmAsync(new Topics(options.Value.TopicRoot), DurationText.Parse(options.Value.MaxSkew, "Mqtt:MaxSkew"), options.Value.WarmupLogins, cancellationToken);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private async Task WarmAsync(Topics topics, Duration maxSkew, int logins, CancellationToken ct)
    {
        if (logins == 0 || policy.Users.FirstOrDefault(u => u.AllowedHosts.Count > 0) is not { } user)
        {
            return;
        }

        // A first login, then the move to another seat: the two paths a person's arrival takes, again and again.
        // Measured (tests/Presence.Benchmarks house, alternated, loaded 2-core box): with 50 logins the warm login ->
        // command p50 23.4 / 28.5 ms against 37.2 / 35.4 with 2, the server ready ~0.6 s later.
        var seats = user.AllowedHosts.Take(2).ToList();
        var rounds = (logins + seats.Count - 1) / seats.Count;
        var clockTime = Stopwatch.StartNew();
        try
        {
            var alive = await AliveHostsAsync(user, seats, ct);
            var commands = 0;
            for (var round = 0; round < rounds; round++)
            {
                commands += await RehearseAsync(topics, maxSkew, user, seats, alive, ct);
            }

            await ReadWhatTheNodeKeepsAsync(ct);
            logger.LogInformation("Warmed the signal path with {Logins} logins of {User} at {Seats} ({Commands} commands made and signed, none sent), rolled back, in {Milliseconds} ms",
                rounds * seats.Count, user.Name, string.Join(" then ", seats), commands, clockTime.ElapsedMilliseconds);
        }
        catch (Exception e) when (!ct.IsCancellationRequested)
        {
            logger.LogWarning(e, "Warming the signal path failed after {Milliseconds} ms; the first signal will be slower, nothing else changes", clockTime.ElapsedMilliseconds);
        }
    }

    /// <summary>
    /// The logins at <paramref name="seats"/>, one after the other, in a transaction rolled back; the commands they
    /// made.
    /// </summary>
    private async Task<int> RehearseAsync(
        Topics topics, Duration maxSkew, UserSpec user, List<string> seats, IReadOnlyList<HostState> alive, CancellationToken ct)
    {
        await using var connection = (NpgsqlConnection)store.Storage.Database.CreateConnection();
        await connection.OpenAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        await using (var setup = store.LightweightSession(SessionOptions.ForTransaction(transaction)))
        {
            setup.Store(alive.ToArray());
            await setup.SaveChangesAsync(ct);
        }

        var commands = 0;
        for (var i = 0; i < seats.Count; i++)
        {
            var topic = $"{topics.Root}/hosts/{seats[i]}/signals/session";
            var payload = Encoding.UTF8.GetBytes($$"""{"id":"{{SignalId}}-{{i}}","user":"{{user.Name}}","state":"login","seat":"console"}""");
            var inbound = InboundParser.Parse(topics, topic, payload, clock.GetCurrentInstant(), maxSkew);
            var arrived = new SignalArrived(topics.Root, topic, payload, inbound.At) { Message = inbound.Message };
            await using var session = store.LightweightSession(SessionOptions.ForTransaction(transaction));
            HousePrintsStore.WillRollBack(session);
            var outgoing = await SignalHandler.Handle(arrived, session, policy, clock, node, ct);
            await session.SaveChangesAsync(ct);
            // The rest of a login's way, short of storing or sending: the inbox and outbound envelopes' JSON
            // (System.Text.Json builds a type's metadata on its first use), and each command as the outbound queue
            // makes it, the contract's JSON and its signature.
            var serializer = wolverine.Options.DefaultSerializer;
            serializer.WriteMessage(arrived);
            foreach (var send in outgoing.OfType<SendAgentCommand>())
            {
                commands++;
                serializer.WriteMessage(send);
                var wire = SendAgentCommandHandler.ToContract(send.Command);
                await keys.SignAsync(topics.AgentCommands(send.Command.Host), ContractJson.Serialize(wire), ct);
            }

            // What the state publication after it does: read the saga back (inside the transaction, so the one
            // just written) and turn it into the retained state's JSON.
            if (await session.LoadAsync<UserSaga>(user.Name, ct) is { } saga)
            {
                ContractJson.Serialize(PublishUserStateHandler.ToPayload(saga, user));
            }
        }

        await transaction.RollbackAsync(ct);
        return commands;
    }

    /// <summary>
    /// Every saga and the house, read with DecisionReads' own reads (outside a rolled-back transaction, and for no user
    /// in particular, so each saga is read once) and kept by the node (KeptSagas, HouseReads), so that the first login
    /// is decided on what is kept like any warm one. Left to the first input, that read and its first-use code were
    /// most of its first stage (publish → decider: 13–25 ms against ~1 ms warm, tests/Presence.Benchmarks house).
    /// Nothing is written: the session is never saved, and what is kept is checked at commit as always.
    /// </summary>
    private async Task ReadWhatTheNodeKeepsAsync(CancellationToken ct)
    {
        await using var session = store.LightweightSession();
        await new DecisionReads([], []).ReadAsync(session, policy, ct);
    }

    /// <summary>
    /// The hosts the rehearsal uses as a house whose agents are up, with the user's VM running at home, read once and
    /// stored in each rehearsal's transaction (rolled back with it). Before the agents announce themselves (the bridge
    /// has not subscribed yet; on a first start nothing is known of any host) the rehearsed logins decided nothing, so
    /// a real first login still paid for all it takes to decide and send a command: measured, ~800 methods compiled,
    /// ~55 ms.
    /// </summary>
    private async Task<IReadOnlyList<HostState>> AliveHostsAsync(UserSpec user, List<string> seats, CancellationToken ct)
    {
        await using var session = store.QuerySession();
        var names = seats.Prepend(user.HomeHost).Distinct().ToList();
        var stored = await session.LoadManyAsync<HostState>(ct, names.Select(HostState.StreamId));
        var memory = policy.Vm(user.Vm)?.MemoryMb ?? 4096;
        return names.Select(name =>
        {
            var host = stored.FirstOrDefault(h => h.Name == name) ?? new HostState { Id = HostState.StreamId(name), Name = name };
            var vms = host.Vms.Where(v => v.Name != user.Vm).ToList();
            if (name == user.HomeHost)
            {
                vms.Add(new VmFact(user.Vm, VmRunState.Running, memory, $"spice://{name}:5900"));
            }

            return host with
            {
                AgentOnline = true,
                MemoryMb = Math.Max(host.MemoryMb, 4 * memory),
                MemoryFreeMb = Math.Max(host.MemoryFreeMb, 2 * memory),
                Vms = vms,
            };
        }).ToList();
    }
}
