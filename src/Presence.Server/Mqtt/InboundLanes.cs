using Marten;
using Presence.Server.HomeAssistant.Statestream;
using Wolverine;

namespace Presence.Server.Mqtt;

/// <summary>
/// How many inputs of each lane (<see cref="Lanes"/>) are stored in Wolverine's inbox and not yet handled. The bridge
/// handles a lane's inputs itself only while it has none (<see cref="MqttBridge"/>): then nothing of the lane can come
/// before them, so an inbox row and the hand-over to a lane would only cost time (in a trace of warm logins, 1.6–2.1 ms
/// of 9–11; in a burst, 18 % of the CPU a signal costs). Otherwise what comes is stored behind what is.
/// </summary>
/// <remarks>
/// A stored input counts until its handler's transaction committed (<see cref="InputHandled"/>), the house refused
/// it, or Wolverine gave up on it and moved it to the dead letters (<see cref="DeadLetteredInputHandler"/>). Before
/// that last one was counted, such an input left its lane busy until the server started again.
/// </remarks>
public sealed class InboundLanes
{
    private readonly Lock gate = new();
    private readonly Dictionary<string, int> stored = [];

    /// <summary>Whether an input of the lane is stored and not yet handled.</summary>
    public bool IsBusy(string lane)
    {
        lock (gate)
        {
            return stored.ContainsKey(lane);
        }
    }

    /// <summary>
    /// Inputs of this lane that wait in the inbox since before this node started (<see cref="StoredInputs"/>): what
    /// comes for the lane is stored behind them. Counted down as this node handles them; should another node handle
    /// them, the lane's inputs are stored here rather than handled at once until the next start (slower, still in
    /// order).
    /// </summary>
    public void Waiting(string lane, int count)
    {
        lock (gate)
        {
            stored[lane] = stored.GetValueOrDefault(lane) + count;
        }
    }

    /// <summary>An input of this lane is being stored in the inbox: the lane is busy until it is handled.</summary>
    public void Stored(string lane) => Waiting(lane, 1);

    /// <summary>A stored input of this lane is done with, or was not stored after all (rolled back).</summary>
    public void Handled(string lane)
    {
        lock (gate)
        {
            if (stored.TryGetValue(lane, out var count))
            {
                if (count <= 1)
                {
                    stored.Remove(lane);
                }
                else
                {
                    stored[lane] = count - 1;
                }
            }
        }
    }
}

/// <summary>
/// Wolverine middleware on the handlers of inbound messages: a stored input is done with once its handler's transaction
/// committed. Finally runs after every attempt, a failed one too (retried in place, StoreRetries): only a committed
/// one has its inbox row marked handled by Wolverine's Marten outbox (Envelope.Status Handled, set after the commit).
/// An input the bridge handled itself was never stored (no inbox row, so never marked) and is not counted here.
/// </summary>
public static class InputHandled
{
    public static void Finally(Envelope envelope, InboundLanes lanes)
    {
        if (envelope.WasPersistedInInbox && envelope.Status == EnvelopeStatus.Handled && envelope.Message is IArrived arrived)
        {
            lanes.Handled(arrived.Lane);
        }
    }
}

/// <summary>
/// A stored input Wolverine moved to the dead letters is done with too: its lane is free again. Wolverine says so
/// with a <see cref="Fault{T}"/> event per message type (Configuration: fault events on, for dead letters only,
/// without the exception's text); one handler per type of input, since Wolverine routes each closed type apart.
/// </summary>
public static class DeadLetteredInputHandler
{
    public static Task Handle(Fault<SignalArrived> fault, InboundLanes lanes, IDocumentStore store, CancellationToken ct) => Done(fault.Message, lanes, store, ct);

    public static Task Handle(Fault<SignalsArrived> fault, InboundLanes lanes, IDocumentStore store, CancellationToken ct) => Done(fault.Message, lanes, store, ct);

    public static Task Handle(Fault<UserRequestArrived> fault, InboundLanes lanes, IDocumentStore store, CancellationToken ct) => Done(fault.Message, lanes, store, ct);

    public static Task Handle(Fault<MaintenanceArrived> fault, InboundLanes lanes, IDocumentStore store, CancellationToken ct) => Done(fault.Message, lanes, store, ct);

    public static Task Handle(Fault<AgentStatusArrived> fault, InboundLanes lanes, IDocumentStore store, CancellationToken ct) => Done(fault.Message, lanes, store, ct);

    public static Task Handle(Fault<AgentInventoryArrived> fault, InboundLanes lanes, IDocumentStore store, CancellationToken ct) => Done(fault.Message, lanes, store, ct);

    public static Task Handle(Fault<AgentEventArrived> fault, InboundLanes lanes, IDocumentStore store, CancellationToken ct) => Done(fault.Message, lanes, store, ct);

    public static Task Handle(Fault<StatestreamArrived> fault, InboundLanes lanes, IDocumentStore store, CancellationToken ct) => Done(fault.Message, lanes, store, ct);

    /// <summary>
    /// Its lane is free of it, and what of its lane was stored after it no longer waits for it (StoredInputs).
    /// </summary>
    private static async Task Done(IArrived input, InboundLanes lanes, IDocumentStore store, CancellationToken ct)
    {
        await StoredInputs.RemoveAsync(store, input, ct);
        lanes.Handled(input.Lane);
    }
}
