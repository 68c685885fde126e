using System.Diagnostics;
using Presence.Server.Hosting;
using Wolverine;

namespace Presence.Server.Mqtt;

/// <summary>
/// How the bridge hands what it takes to the handlers: lane by lane (<see cref="Lanes"/>), each lane's inputs handled
/// in the bridge, in order, while the other lanes go on. Wolverine's inbox is only for what failed there.
/// </summary>
/// <remarks>
/// A lane with nothing in the inbox is claimed, and its inputs are handled in a transaction of their own (a lane's
/// signals gathered into one, <see cref="SignalsArrived"/>) by Wolverine's <c>InvokeAsync</c>: the same generated
/// handler, transaction, outbox and inline retries as a stored input gets, and each input is acknowledged once that
/// committed. What comes for the lane meanwhile waits and is handled next, gathered in its turn. An input whose
/// transaction rolled back is stored, with what comes behind it, and Wolverine's lanes and retries take them from
/// there; until they are handled the lane's next inputs are stored too, so nothing of a lane overtakes what came
/// before. Measured against storing every input of a burst in the inbox first (docs/benchmarks.md, "A burst handled
/// in the bridge"): 20,000 signals from 50 computers stored 22 % faster with 18 % less CPU a signal (the inbox row's
/// insert and its mark as handled, Wolverine's hand-over) in three alternated pairs, a quarter faster in two full runs.
/// </remarks>
public sealed partial class MqttBridge
{
    /// <summary>
    /// How many inputs may wait for their lane before the bridge stops handing on more and waits until the lane takes
    /// them: what is taken and not yet handled stays bounded, as the broker (or, for what it hands over, the bridge's
    /// Mqtt:MaxQueuedMessages) holds the rest.
    /// </summary>
    private const int MaxWaitingForLane = MaxBatch;

    /// <summary>A lane the bridge is handling, with what came for it meanwhile.</summary>
    private sealed class Claim
    {
        public List<Pending> Waiting { get; private set; } = [];

        public TaskCompletionSource Released { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>Completes when what waits is taken to be handled: there is room for more.</summary>
        public TaskCompletionSource Taken { get; private set; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public List<Pending> Take()
        {
            var taken = Waiting;
            Waiting = [];
            Taken.TrySetResult();
            Taken = new(TaskCreationOptions.RunContinuationsAsynchronously);
            return taken;
        }
    }

    private readonly Dictionary<string, Claim> claims = [];

    /// <summary>
    /// Completes once every lane claimed now is released: the bridge waits for what it handles when it stops.
    /// A claim is released last thing, whatever became of its inputs.
    /// </summary>
    private Task AtOnceDoneAsync()
    {
        lock (claims)
        {
            return Task.WhenAll(claims.Values.Select(c => c.Released.Task).ToArray());
        }
    }

    /// <summary>
    /// Hands a batch on, lane by lane, in the order taken: to the claim of a lane being handled (it waits its turn),
    /// to a new claim handled beside the loop, or to the inbox when the lane has inputs stored and not yet handled.
    /// Completes once what is to be stored is, and no lane has more than <see cref="MaxWaitingForLane"/> waiting.
    /// </summary>
    private async Task DispatchAsync(List<Pending> batch, CancellationToken ct)
    {
        var toStore = new List<Pending>();
        var full = new List<Task>();
        var started = new List<(string Lane, List<Pending> Inputs)>();
        lock (claims)
        {
            foreach (var lane in batch.GroupBy(p => p.Message.Lane))
            {
                if (claims.TryGetValue(lane.Key, out var claim))
                {
                    claim.Waiting.AddRange(lane);
                    if (claim.Waiting.Count >= MaxWaitingForLane)
                    {
                        full.Add(claim.Taken.Task);
                    }
                }
                else if (lanes.IsBusy(lane.Key))
                {
                    toStore.AddRange(lane);
                }
                else
                {
                    claims[lane.Key] = new Claim();
                    started.Add((lane.Key, lane.ToList()));
                }
            }
        }

        foreach (var (lane, inputs) in started)
        {
            _ = Task.Run(() => HandleLaneAsync(lane, inputs, ct), CancellationToken.None);
        }

        if (toStore.Count > 0)
        {
            await StoreAsync(toStore, ct);
        }

        await Task.WhenAll(full).WaitAsync(ct);
    }

    /// <summary>
    /// Handles a claimed lane's inputs, then what came for it meanwhile, until nothing waits; then frees the lane.
    /// Once one was stored (its transaction rolled back), what follows is stored behind it.
    /// </summary>
    private async Task HandleLaneAsync(string lane, List<Pending> inputs, CancellationToken ct)
    {
        try
        {
            while (true)
            {
                if (lanes.IsBusy(lane))
                {
                    await StoreAsync(inputs, ct);
                }
                else
                {
                    await HandleInOrderAsync(inputs, ct);
                }

                lock (claims)
                {
                    var claim = claims[lane];
                    inputs = claim.Take();
                    if (inputs.Count == 0)
                    {
                        claims.Remove(lane);
                        claim.Released.TrySetResult();
                        return;
                    }
                }
            }
        }
        catch (Exception e)
        {
            // Stopping (or a fault past every handler's own): not acknowledged, the broker delivers them again to the
            // next run.
            if (!ct.IsCancellationRequested)
            {
                logger.LogError(e, "Handling the inputs of lane {Lane} failed: left unacknowledged", lane);
            }

            Claim? claim;
            lock (claims)
            {
                claims.Remove(lane, out claim);
            }

            claim?.Released.TrySetResult();
            foreach (var left in inputs.Concat(claim?.Take() ?? []))
            {
                Complete(left, false, "not_acknowledged");
            }
        }
    }

    /// <summary>
    /// A lane's inputs in order, its signals gathered into one transaction; from the first whose transaction
    /// rolled back on, stored for Wolverine.
    /// </summary>
    private async Task HandleInOrderAsync(List<Pending> inputs, CancellationToken ct)
    {
        var gathered = SignalsArrived.Gather(inputs.Select(p => p.Message).ToList());
        for (var i = 0; i < gathered.Count; i++)
        {
            var (message, first) = gathered[i];
            var end = i + 1 < gathered.Count ? gathered[i + 1].First : inputs.Count;
            if (!await InvokeAsync(message, inputs.GetRange(first, end - first), ct))
            {
                await StoreAsync(inputs.GetRange(first, inputs.Count - first), ct);
                return;
            }
        }
    }

    /// <summary>
    /// True when the inputs are done with (handled, refused, or left unacknowledged); false when they are to be stored.
    /// </summary>
    private async Task<bool> InvokeAsync(IArrived message, List<Pending> inputs, CancellationToken ct)
    {
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            // The transaction carries the first input's trace (a lane's gathered signals: the first one's).
            Activity.Current = inputs[0].Activity;
            await scope.ServiceProvider.GetRequiredService<IMessageBus>().InvokeAsync(message, ct);
            Interlocked.Increment(ref atOnceTransactions);
            Interlocked.Add(ref handledAtOnce, inputs.Count);
            foreach (var input in inputs)
            {
                Complete(input, true, "handled");
            }
        }
        catch (MessageRejected e)
        {
            // As Wolverine's policy does for a stored one (Configuration): nothing stored, the emitter told why. (A
            // lane's gathered signals are refused one by one in their handler, so this is in practice a lone input.)
            foreach (var input in inputs)
            {
                await rejections.RejectAsync(input.Message.Topic, e.Message, input.Message.Id, ct);
                Complete(input, true, "refused");
            }
        }
        catch (Exception) when (ct.IsCancellationRequested || inputs.Any(p => p.Cancellation.IsCancellationRequested))
        {
            foreach (var input in inputs)
            {
                Complete(input, false, "not_acknowledged");
            }
        }
        catch (Exception e)
        {
            logger.LogDebug(e, "Handling {Count} input(s) of lane {Lane} failed: storing them for Wolverine's retries", inputs.Count, message.Lane);
            return false;
        }
        finally
        {
            Activity.Current = null;
        }

        return true;
    }
}
