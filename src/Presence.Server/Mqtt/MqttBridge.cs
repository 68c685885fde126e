using System.Diagnostics;
using System.Threading.Channels;
using Marten;
using Microsoft.Extensions.Options;
using NodaTime;
using Presence.Contracts.Agents;
using Presence.Contracts.Mqtt;
using Presence.Contracts.Wire;
using Presence.Server.Configuration;
using Presence.Server.HomeAssistant.Statestream;
using Presence.Server.Hosting;
using Presence.Server.Telemetry;
using Wolverine.Marten;

namespace Presence.Server.Mqtt;

/// <summary>
/// The incoming half of the bridge: what the embedded broker hands over in process (<see cref="BridgeHandOff"/>), or
/// what its own client takes from an external broker. Each message is validated against the contract and, when it
/// is good, handled: in the bridge, lane by lane (one per group of users and one for the house, <see cref="Lanes"/>),
/// lanes in parallel, each in order, by Wolverine's handler in a transaction of its own (MqttBridge.AtOnce.cs). It is
/// acknowledged to an external broker only once that committed (or the message was rejected), so a crash in between
/// means a redelivery, never a lost signal; the embedded broker's publisher is answered once it is in line, the
/// broker being this process too. Messages that arrive while their lane is being handled wait for it and are then
/// handled together; a lone message is handled at once (no timer). A message whose transaction rolled back is stored
/// in Wolverine's durable inbox instead, acknowledged once that row is committed, and handled by Wolverine's
/// partitioned local queues and retries, with whatever of its lane comes behind it (<see cref="InboundLanes"/>).
/// </summary>
public sealed partial class MqttBridge(
    IOptions<MqttOptions> options,
    IServiceScopeFactory scopes,
    IDocumentStore store,
    StoreOutage outage,
    Rejections rejections,
    IClock clock,
    IHostApplicationLifetime lifetime,
    ServerSecret secret,
    StatestreamInbound statestream,
    InboundLanes lanes,
    BridgeHandOff handOff,
    ILogger<MqttBridge> logger) : BackgroundService
{
    /// <summary>The most messages handed on at a time (stored in one transaction, or handed to their lanes).</summary>
    public const int MaxBatch = 256;

    /// <summary>
    /// Messages the bridge's own client took and did not yet hand on. When it is full the client stops taking, and the
    /// broker holds the rest (bounded memory, whatever a flood).
    /// </summary>
    private const int MaxWaiting = 4 * MaxBatch;

    private readonly MqttConnection connection = ServerSession.Connection("in", options.Value, secret, logger);
    private readonly Topics topics = new(options.Value.TopicRoot);
    private readonly Duration maxSkew = DurationText.Parse(options.Value.MaxSkew, "Mqtt:MaxSkew");
    private readonly Channel<Pending> waiting = Channel.CreateUnbounded<Pending>(new UnboundedChannelOptions { SingleReader = true });

    /// <summary>
    /// Room for what the bridge's own client takes: when it is full the client stops taking, and the broker holds the
    /// rest. What the embedded broker hands over never waits for it (a publisher's packets would wait behind it, its
    /// keep-alive too) but is held up to Mqtt:MaxQueuedMessages (<see cref="held"/>), as the broker's queue held it.
    /// </summary>
    private readonly SemaphoreSlim clientRoom = new(MaxWaiting);

    /// <summary>Inputs handed over and not yet done with (stored, handled, refused or left).</summary>
    private long held;
    private long throughClient;
    private long handedOver;
    private long batches;
    private long stored;
    private long handledAtOnce;
    private long atOnceTransactions;

    /// <summary>Transactions that stored inbound messages, and the messages they stored: their ratio is the batch size.</summary>
    public (long Batches, long Messages) Stores => (Interlocked.Read(ref batches), Interlocked.Read(ref stored));

    /// <summary>
    /// The bridge's transactions that handled messages, and those messages (never stored in the inbox): their ratio is
    /// the batch.
    /// </summary>
    public (long Transactions, long Messages) AtOnce => (Interlocked.Read(ref atOnceTransactions), Interlocked.Read(ref handledAtOnce));

    /// <summary>
    /// Inputs handed over by the embedded broker in process (<see cref="BridgeHandOff"/>), and those that came through
    /// the bridge's own MQTT client (an external broker's, and retained messages on subscribing).
    /// </summary>
    public (long HandedOver, long ThroughClient) Arrivals => (Interlocked.Read(ref handedOver), Interlocked.Read(ref throughClient));

    /// <summary>Completes once the bridge has connected and subscribed (after the start, so after SignalWarmup): it takes signals.</summary>
    public Task Connected => connection.Connected;

    /// <summary>Whether the connection to the broker is up now, for /health.</summary>
    public bool IsConnected => connection.IsConnected;

    /// <summary>
    /// Up and subscribed, after every handler was loaded and the signal path warmed: the next signal is handled at
    /// once. False while the server is still starting (the connection opens only after that), and while it is down.
    /// </summary>
    public bool IsListening => connection.Connected.IsCompletedSuccessfully && connection.IsConnected;

    private sealed record Pending(IArrived Message, string Kind, CancellationToken Cancellation, Activity? Activity, long Started, bool HandedOver)
    {
        public TaskCompletionSource<bool> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        private int completed;

        /// <summary>
        /// True for the first caller only: when stopping, a message waiting for its lane may be reached from the loop
        /// and from its lane's release at the same time.
        /// </summary>
        public bool CompleteOnce() => Interlocked.Exchange(ref completed, 1) == 0;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (ServerSession.PlainBeyondLoopback(options.Value))
        {
            logger.LogWarning(
                "MQTT: the external broker {Host}:{Port} is beyond this computer and Mqtt:Tls:Enabled=false: the server's password, every signal and every command cross the network unencrypted. " +
                "Give the broker a TLS listener and remove Mqtt:Tls:Enabled=false (trust it with Mqtt:Tls:CaFile or Mqtt:Tls:Fingerprint)",
                options.Value.Host, options.Value.Port);
        }

        else if (ServerSession.ExternalTls(options.Value))
        {
            var tls = options.Value.Tls;
            logger.LogInformation(
                "MQTT: reaching the external broker {Host}:{Port} over TLS (Mqtt:Tls:Port), trusting {Trust}{Client}",
                options.Value.Host, tls.Port,
                !string.IsNullOrWhiteSpace(tls.Fingerprint) ? "only the certificate pinned by Mqtt:Tls:Fingerprint"
                    : !string.IsNullOrWhiteSpace(tls.CaFile) ? $"the CA in {tls.CaFile}" : "this computer's CAs",
                string.IsNullOrWhiteSpace(tls.ClientCertificate) ? "" : $", showing the client certificate {tls.ClientCertificate}");
        }

        var handingOn = Task.Run(() => HandOnLoopAsync(stoppingToken), CancellationToken.None);

        // Wolverine and Marten must be up before the first message is handed over, and the handlers loaded and the
        // signal path warmed (SignalWarmup, a hosted service that finishes before the host reports started).
        if (!await lifetime.WaitForStartAsync(stoppingToken))
        {
            await handingOn;
            return;
        }

        connection.OnMessageTaken((topic, payload) =>
        {
            Interlocked.Increment(ref throughClient);
            return TakeAsync(topic, payload, stoppingToken);
        });
        // Inputs stored before this node started (by a node that died, or another that runs) come first in their lanes.
        foreach (var (lane, count) in await StoredInputs.WaitingAsync(store, stoppingToken))
        {
            lanes.Waiting(lane, count);
        }

        // Before subscribing, so that the bridge's session is never queued what is handed over.
        handOff.Open((topic, payload) =>
        {
            Interlocked.Increment(ref handedOver);
            return TakeAsync(topic, payload, stoppingToken, handedOver: true);
        });
        connection.Subscribe(handOff.Filters);
        try
        {
            await connection.RunAsync(stoppingToken);
        }
        finally
        {
            handOff.Close();
            await handingOn;
            await AtOnceDoneAsync();
        }
    }

    /// <summary>Returns true when the message is done with (stored, or rejected) and may be acknowledged.</summary>
    public async Task<bool> HandleAsync(string topic, byte[] payload, CancellationToken ct) => await await TakeAsync(topic, payload, ct);

    /// <summary>
    /// Takes a message: completes once it is read and in line to be stored (in the order messages are taken), with
    /// the task that says whether it may be acknowledged (true once stored or rejected).
    /// </summary>
    /// <param name="handedOver">
    /// Handed over by the embedded broker (<see cref="BridgeHandOff"/>): in line at once, or
    /// <see cref="BridgeFullException"/> when Mqtt:MaxQueuedMessages such inputs are held already.
    /// </param>
    public async ValueTask<Task<bool>> TakeAsync(string topic, byte[] payload, CancellationToken ct, bool handedOver = false)
    {
        // The root of the message's trace: Wolverine's handler span and Marten's commit nest inside it.
        var activity = PresenceTelemetry.Source.StartActivity("presence.mqtt.receive", ActivityKind.Consumer);
        activity?.SetTag("messaging.system", "mqtt").SetTag("messaging.destination.name", topic);
        var started = Stopwatch.GetTimestamp();
        var id = InboundId.Read(payload);
        activity?.SetTag("presence.message_id", id);
        if (statestream.Owns(topic))
        {
            // Home Assistant's plain-string states are not the contract's JSON: read (and reported) on their own.
            if (await statestream.ReadAsync(topic, payload, ct) is not { } state)
            {
                Finish(activity, started, "statestream", "refused");
                return Task.FromResult(true);
            }

            return await QueueAsync(new Pending(state, "statestream", ct, activity, started, handedOver));
        }

        string? refusal = null;
        Inbound? inbound = null;
        if (payload.Length > InboundId.MaxPayloadBytes)
        {
            refusal = $"payload is {payload.Length} bytes; at most {InboundId.MaxPayloadBytes} are accepted";
        }
        else
        {
            try
            {
                inbound = InboundParser.Parse(topics, topic, payload, clock.GetCurrentInstant(), maxSkew);
            }
            catch (ContractException e)
            {
                refusal = e.Message;
            }
        }

        if (inbound is null)
        {
            await rejections.RejectAsync(topic, refusal!, id, ct);
            Finish(activity, started, "unknown", "refused");
            return Task.FromResult(true);
        }

        if (inbound.Message is AgentEvent answer)
        {
            PresenceTelemetry.AnswerReceived(answer.CommandId);
        }

        var message = Arrived.From(inbound, topics.Root, payload);
        return await QueueAsync(new Pending(message, KindOf(message), ct, activity, started, handedOver));
    }

    private async ValueTask<Task<bool>> QueueAsync(Pending pending)
    {
        if (pending.HandedOver)
        {
            if (Interlocked.Increment(ref held) > options.Value.MaxQueuedMessages)
            {
                Interlocked.Decrement(ref held);
                Finish(pending.Activity, pending.Started, pending.Kind, "refused_full");
                throw new BridgeFullException(options.Value.MaxQueuedMessages);
            }

            if (!pending.Cancellation.IsCancellationRequested && waiting.Writer.TryWrite(pending))
            {
                return pending.Done.Task;
            }

            Interlocked.Decrement(ref held);
            Finish(pending.Activity, pending.Started, pending.Kind, "not_acknowledged");
            return Task.FromResult(false);
        }

        try
        {
            await clientRoom.WaitAsync(pending.Cancellation);
            waiting.Writer.TryWrite(pending);
        }
        catch (Exception) when (pending.Cancellation.IsCancellationRequested)
        {
            Finish(pending.Activity, pending.Started, pending.Kind, "not_acknowledged");
            return Task.FromResult(false);
        }

        return pending.Done.Task;
    }

    private static string KindOf(Arrived message) => message switch
    {
        SignalArrived => "signal",
        UserRequestArrived => "request",
        MaintenanceArrived => "maintenance",
        AgentStatusArrived => "agent_status",
        AgentInventoryArrived => "agent_inventory",
        _ => "agent_event",
    };

    private static void Finish(Activity? activity, long started, string kind, string outcome)
    {
        activity?.SetTag("presence.kind", kind).SetTag("presence.outcome", outcome);
        activity?.Dispose();
        var tags = new TagList { { "presence.kind", kind }, { "presence.outcome", outcome } };
        PresenceTelemetry.Received.Add(1, tags);
        PresenceTelemetry.HandleTime.Record(Stopwatch.GetElapsedTime(started).TotalMilliseconds, tags);
    }

    private void Complete(Pending pending, bool acknowledge, string outcome)
    {
        if (!pending.CompleteOnce())
        {
            return;
        }

        if (pending.HandedOver)
        {
            Interlocked.Decrement(ref held);
        }

        Finish(pending.Activity, pending.Started, pending.Kind, outcome);
        pending.Done.TrySetResult(acknowledge);
    }

    /// <summary>
    /// Hands on what is waiting, as long as the bridge runs. Batches form from what arrived while the previous one was
    /// handed on, never from waiting for more.
    /// </summary>
    private async Task HandOnLoopAsync(CancellationToken ct)
    {
        var batch = new List<Pending>(MaxBatch);
        try
        {
            while (await waiting.Reader.WaitToReadAsync(ct))
            {
                while (batch.Count < MaxBatch && waiting.Reader.TryRead(out var next))
                {
                    if (!next.HandedOver)
                    {
                        clientRoom.Release();
                    }

                    batch.Add(next);
                }

                await DispatchAsync(batch, ct);
                batch.Clear();
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // Stopping: what was not handed on stays unacknowledged, and the broker delivers it again to the next run.
            foreach (var pending in batch)
            {
                Complete(pending, false, "not_acknowledged");
            }

            while (waiting.Reader.TryRead(out var left))
            {
                Complete(left, false, "not_acknowledged");
            }
        }
    }

    private async Task StoreAsync(List<Pending> batch, CancellationToken ct)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await using var scope = scopes.CreateAsyncScope();
                var outbox = scope.ServiceProvider.GetRequiredService<IMartenOutbox>();
                await using var session = store.LightweightSession();
                outbox.Enroll(session);
                var gathered = SignalsArrived.Gather(batch.Select(p => p.Message).ToList());
                foreach (var (message, first) in gathered)
                {
                    // The envelope carries this message's trace (a user's gathered signals: the first one's) into the
                    // handler's span.
                    Activity.Current = batch[first].Activity;
                    var stored = message.Storing(Guid.NewGuid());
                    StoredInputs.Insert(session, stored);
                    await outbox.PublishAsync(stored);
                }

                Activity.Current = null;
                // One transaction for the whole batch: each message's inbox row. Wolverine enqueues them in their
                // lanes once it has committed.
                // Counted before the commit: Wolverine may hand a row to its lane, and have it handled, before
                // SaveChangesAsync returns.
                foreach (var (message, _) in gathered)
                {
                    lanes.Stored(message.Lane);
                }

                try
                {
                    await session.SaveChangesAsync(ct);
                }
                catch
                {
                    foreach (var (message, _) in gathered)
                    {
                        lanes.Handled(message.Lane);
                    }

                    throw;
                }

                Interlocked.Increment(ref batches);
                Interlocked.Add(ref stored, batch.Count);
                foreach (var pending in batch)
                {
                    Complete(pending, true, "stored");
                }

                return;
            }
            catch (Exception) when (ct.IsCancellationRequested || batch.Any(p => p.Cancellation.IsCancellationRequested))
            {
                // The server is stopping: whatever failed (Marten wraps a cancelled command in its own exception) is no
                // verdict on the messages. Not acknowledged, the broker redelivers them to the next run.
                foreach (var pending in batch)
                {
                    Complete(pending, false, "not_acknowledged");
                }

                return;
            }
            catch (Exception e) when (StoreRetries.IsStoreAway(e))
            {
                // Held, and with it everything behind it (the broker keeps the rest), until the database is back.
                outage.Held(e);
                if (attempt == 1)
                {
                    logger.LogWarning("The database is away ({Reason}): holding the inbound {Kinds} until it can be stored",
                        StoreOutage.Reason(e), string.Join(", ", batch.GroupBy(p => p.Message.GetType().Name).Select(g => g.Count() == 1 ? g.Key : $"{g.Count()}× {g.Key}")));
                }

                await Task.Delay(StoreRetries.WhileAway[Math.Min(attempt, StoreRetries.WhileAway.Length) - 1], ct);
            }
            catch (Exception e)
            {
                logger.LogError(e, "Storing {Count} inbound messages failed for good", batch.Count);
                foreach (var pending in batch)
                {
                    await rejections.RejectAsync(pending.Message.Topic, $"internal error while storing this message: {e.Message}", pending.Message.Id, ct);
                    Complete(pending, true, "refused");
                }

                return;
            }
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        await connection.DisposeAsync();
    }
}
