using JasperFx.Events.Documents;
using Npgsql;
using NodaTime;

namespace Presence.Server.Hosting;

/// <summary>
/// Whether the server can store what it is given, as its own writes found. A query cannot tell: with its disk full
/// PostgreSQL answers every read and refuses every insert, so /health would say ready while each signal is held.
/// <see cref="StoreRetries"/> reports each hold; Marten reports each commit, and any commit ends the outage.
/// </summary>
public sealed class StoreOutage(IClock clock) : IDocumentCommitListener
{
    /// <summary>
    /// How long a hold stays news without another one: longer than the longest cooldown between two attempts of a held
    /// message, so an outage reads as current for as long as anything is held; a message from a durable queue (which
    /// never got to a commit, e.g. the server stopped holding it) stops counting that long after its last failed attempt.
    /// </summary>
    public static readonly Duration Fresh = Duration.FromTimeSpan(StoreRetries.WhileAway[^1] * 3);

    private readonly Lock gate = new();
    private Instant? since;
    private Instant lastHold;
    private string reason = "";

    /// <summary>A message could not be stored and is held for another attempt.</summary>
    public void Held(Exception failure)
    {
        var now = clock.GetCurrentInstant();
        lock (gate)
        {
            since ??= now;
            lastHold = now;
            reason = Reason(failure);
        }
    }

    /// <summary>Something was stored: whatever held the earlier messages is over.</summary>
    public Task AfterCommitAsync(IDocumentSessionOperations session, IDocumentChangeSet commit, CancellationToken token)
    {
        lock (gate)
        {
            since = null;
        }

        return Task.CompletedTask;
    }

    /// <summary>Since when messages are held and the latest reason, or null when storing works.</summary>
    public (Instant Since, string Reason)? Current
    {
        get
        {
            var now = clock.GetCurrentInstant();
            lock (gate)
            {
                return since is { } s && now - lastHold <= Fresh ? (s, reason) : null;
            }
        }
    }

    /// <summary>PostgreSQL's own words ("53100: could not extend file …: No space left on device"), not Marten's wrapping of them.</summary>
    public static string Reason(Exception failure)
    {
        for (var e = failure; e is not null; e = e.InnerException)
        {
            switch (e)
            {
                // Without the DETAIL line Npgsql adds (redacted anyway unless the connection string asks for it).
                case PostgresException p:
                    return $"{p.SqlState}: {p.MessageText}";
                case NpgsqlException:
                    return e.Message;
            }
        }

        return failure.Message;
    }
}
