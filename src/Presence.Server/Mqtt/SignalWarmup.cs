using System.Diagnostics;
using System.Text;
using Marten;
using SessionOptions = Marten.Services.SessionOptions;
using NodaTime;
using Npgsql;
using Presence.Contracts.Signals;
using Presence.Contracts.Wire;
using Presence.Domain.House;
using Presence.Domain.Users;
using Presence.Server.Placement;
using Presence.Server.Signals;
using Presence.Server.Users;

namespace Presence.Server.Mqtt;

/// <summary>
/// The first login after a start paid ~0.5 s more than a warm one (measured: tests/Presence.Benchmarks
/// first-signal), all of it first-use work in .NET, Npgsql, System.Text.Json and Marten: JIT, serializer metadata,
/// the document and event storage, the first plan of each statement. Before the bridge subscribes, one made-up
/// login at the first user's first allowed seat takes the path a real one takes (contract parser, handler, decider,
/// Marten reads, event appends, inline projections, the commit's SQL, the saga read back for the state's JSON) inside a PostgreSQL transaction that is then
/// rolled back. Nothing is stored or sent: the rows vanish with the rollback and the handler's outgoing messages
/// are dropped. The one trace it can leave is a gap in the event sequence (PostgreSQL sequences ignore rollbacks),
/// which any failed commit leaves too. A failure only costs the warmth: it is logged and the server starts anyway.
/// </summary>
public sealed class SignalWarmup(IDocumentStore store, HousePolicy policy, IClock clock, ServerNode node, ILogger<SignalWarmup> logger)
{
    public const string SignalId = "presence-warmup";

    public async Task RunAsync(Topics topics, Duration maxSkew, CancellationToken ct)
    {
        if (policy.Users.FirstOrDefault(u => u.AllowedHosts.Count > 0) is not { } user)
        {
            return;
        }

        var seat = user.AllowedHosts[0];
        var clockTime = Stopwatch.StartNew();
        try
        {
            var topic = $"{topics.Root}/hosts/{seat}/signals/session";
            var payload = Encoding.UTF8.GetBytes($$"""{"id":"{{SignalId}}","user":"{{user.Name}}","state":"login","seat":"console"}""");
            var now = clock.GetCurrentInstant();
            var inbound = InboundParser.Parse(topics, topic, payload, now, maxSkew);
            var arrived = new SignalArrived(topic, (Signal)inbound.Message, inbound.At);

            await using var connection = (NpgsqlConnection)store.Storage.Database.CreateConnection();
            await connection.OpenAsync(ct);
            await using var transaction = await connection.BeginTransactionAsync(ct);
            await using (var session = store.LightweightSession(SessionOptions.ForTransaction(transaction)))
            {
                await SignalHandler.Handle(arrived, session, policy, clock, node, ct);
                await session.SaveChangesAsync(ct);
                // What the state publication after it does: read the saga back (inside the transaction, so the one
                // just written) and turn it into the retained state's JSON.
                if (await session.LoadAsync<UserSaga>(user.Name, ct) is { } saga)
                {
                    ContractJson.Serialize(PublishUserStateHandler.ToPayload(saga, user));
                }
            }

            await transaction.RollbackAsync(ct);
            logger.LogInformation("Warmed the signal path with a login of {User} at {Seat}, rolled back, in {Milliseconds} ms", user.Name, seat, clockTime.ElapsedMilliseconds);
        }
        catch (Exception e) when (!ct.IsCancellationRequested)
        {
            logger.LogWarning(e, "Warming the signal path failed after {Milliseconds} ms; the first signal will be slower, nothing else changes", clockTime.ElapsedMilliseconds);
        }
    }
}
