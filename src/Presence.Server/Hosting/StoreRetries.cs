using System.Diagnostics;
using JasperFx;
using Npgsql;
using Wolverine;
using Wolverine.ErrorHandling;
using Wolverine.Runtime;
using Wolverine.Runtime.Handlers;

namespace Presence.Server.Hosting;

/// <summary>
/// Wolverine's answer when storing a message's outcome fails through nobody's fault. Another writer got there first
/// (optimistic concurrency with another server node, a stream or a contract id two deliveries started at once): a
/// fresh attempt reloads and decides again, or finds the duplicate. The database is away: the message is held, and
/// with it everything behind it on the MQTT bridge, until it can be stored, because a message is acknowledged only
/// once it is. Anything else (a <see cref="MessageRejected"/>, a bug) is not retried.
/// </summary>
public static class StoreRetries
{
    /// <summary>
    /// Cooldowns after a concurrent write; the last repeats (with up to as much again at random, so two nodes that
    /// keep meeting on one stream drift apart) for as long as it takes. A conflict means another writer committed:
    /// the house made progress, and a fresh attempt decides on it. With a fixed number of attempts, two server nodes
    /// sharing one user's signals (Mqtt:SharedGroup) lost one signal of 200 to the dead-letter queue
    /// (Drills/two_server_nodes_sharing_the_work).
    /// </summary>
    public static readonly TimeSpan[] AfterConflict =
        [TimeSpan.FromMilliseconds(50), TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(250)];

    /// <summary>Cooldowns while the database is away; the last repeats until it is back or the server stops.</summary>
    public static readonly TimeSpan[] WhileAway =
    [
        TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(200), TimeSpan.FromMilliseconds(400), TimeSpan.FromMilliseconds(800),
        TimeSpan.FromMilliseconds(1600), TimeSpan.FromMilliseconds(3200), TimeSpan.FromSeconds(5),
    ];

    public static WolverineOptions RetryStoreTrouble(this WolverineOptions opts)
    {
        opts.Policies.OnException(IsConflict, "another writer got there first").ContinueWith(new AgainAfterConflict());
        opts.Policies.OnException(IsStoreAway, "the database is away").ContinueWith(new HoldWhileAway());
        return opts;
    }

    /// <summary>
    /// Another writer got there first: a stream's expected version, a stream or document created twice, a unique key
    /// (a contract id stored by a statement of ours, which Marten reports wrapped in its command failure), or what a
    /// decision made without reading saw (Users/KeptReading).
    /// </summary>
    public static bool IsConflict(Exception e) => e switch
    {
        ConcurrencyException or JasperFx.Events.ExistingStreamIdCollisionException or Marten.Exceptions.ExistingStreamIdCollisionException
            or DocumentAlreadyExistsException or Users.KeptReadingChanged => true,
        AggregateException { InnerExceptions: var inner } => inner.All(IsConflict),
        PostgresException p => p.SqlState == PostgresErrorCodes.UniqueViolation,
        Marten.Exceptions.MartenCommandException { InnerException: PostgresException inner } => inner.SqlState == PostgresErrorCodes.UniqueViolation,
        _ => false,
    };

    /// <summary>
    /// Database trouble of any kind (down, refusing connections, out of disk). Constraint violations are not trouble:
    /// they are the concurrent duplicate case, which the conflict retry settles.
    /// </summary>
    public static bool IsStoreAway(Exception e) => e switch
    {
        PostgresException p => !p.SqlState.StartsWith("23", StringComparison.Ordinal),
        NpgsqlException => true,
        System.Net.Sockets.SocketException => true,
        TimeoutException => true,
        _ => e.InnerException is { } inner && IsStoreAway(inner),
    };

    /// <summary>
    /// Runs the message again after a cooldown that grows through <see cref="WhileAway"/> and then stays at its last,
    /// for as long as it takes. Wolverine's own cooldowns are finite (at most 25), and a signal must not be lost to an
    /// outage that outlasts them.
    /// </summary>
    private sealed class HoldWhileAway : IContinuationSource
    {
        public string Description => "hold until the database is back";

        public IContinuation Build(Exception ex, Envelope envelope) =>
            new Again(WhileAway[Math.Clamp(envelope.Attempts, 1, WhileAway.Length) - 1], ex, envelope.Attempts <= 1);
    }

    private sealed class AgainAfterConflict : IContinuationSource
    {
        public string Description => "decide again on what the other writer stored";

        public IContinuation Build(Exception ex, Envelope envelope)
        {
            var attempt = Math.Max(envelope.Attempts, 1);
            var cooldown = attempt <= AfterConflict.Length
                ? AfterConflict[attempt - 1]
                : AfterConflict[^1] + AfterConflict[^1] * Random.Shared.NextDouble();
            // A decision made on what this node kept found another writer's change as it committed: no one is writing
            // at the same moment to back off from, so it is decided again at once, on what it now reads.
            if (attempt == 1 && ex is Users.KeptReadingChanged or AggregateException { InnerExceptions: [Users.KeptReadingChanged, ..] })
            {
                cooldown = TimeSpan.Zero;
            }
            return new Again(cooldown, ex, first: false, hold: false);
        }
    }

    /// <param name="first">True on the first hold of a message only, so an outage is logged once per message, not per retry.</param>
    /// <param name="hold">A hold while the database is away (reported to /health and the log), not a conflict's retry.</param>
    private sealed class Again(TimeSpan cooldown, Exception failure, bool first, bool hold = true) : IContinuation, IInlineContinuation
    {
        // A message from a durable local queue.
        public async ValueTask ExecuteAsync(IEnvelopeLifecycle lifecycle, IWolverineRuntime runtime, DateTimeOffset now, Activity? activity)
        {
            LogHold(lifecycle, runtime);
            await Task.Delay(cooldown);
            await lifecycle.RetryExecutionNowAsync();
        }

        // InvokeAsync (the MQTT bridge): the server stopping ends the wait, and the message stays unacknowledged.
        public async ValueTask<InvokeResult> ExecuteInlineAsync(
            IEnvelopeLifecycle lifecycle, IWolverineRuntime runtime, DateTimeOffset now, Activity? activity, CancellationToken cancellation)
        {
            LogHold(lifecycle, runtime);
            await Task.Delay(cooldown, cancellation);
            return InvokeResult.TryAgain;
        }

        // What an operator sees while the database is away, and what a test waits for instead of guessing a time;
        // /health learns it here too, as a query of its own may well succeed (a full disk still serves reads).
        private void LogHold(IEnvelopeLifecycle lifecycle, IWolverineRuntime runtime)
        {
            if (!hold)
            {
                return;
            }

            runtime.Services.GetService<StoreOutage>()?.Held(failure);
            if (first)
            {
                runtime.LoggerFactory.CreateLogger(typeof(StoreRetries)).LogWarning(
                    "The database is away ({Reason}): holding {Message} until it can be stored",
                    StoreOutage.Reason(failure), lifecycle.Envelope?.MessageType);
            }
        }
    }
}
