using System.Diagnostics;
using Presence.Server.Hosting;
using Wolverine;

namespace Presence.Server.Mqtt;

/// <summary>
/// The bridge's short cut for a lone message whose lane has nothing under way (<see cref="InboundLanes"/>): handled at
/// once rather than stored in the inbox and handed to a lane.
/// </summary>
public sealed partial class MqttBridge
{
    /// <summary>The most messages handled at once in the bridge, beside what Wolverine's lanes handle.</summary>
    private const int MaxAtOnce = 4;

    /// <summary>
    /// How many messages may wait for a lane's message handled at once before the bridge stops taking more and waits
    /// too: what is taken and not yet stored stays bounded, as the broker holds the rest.
    /// </summary>
    private const int MaxWaitingForLane = 64;

    /// <summary>A lane whose lone message is being handled at once, with what came for it meanwhile.</summary>
    private sealed class Claim
    {
        public List<Pending> Waiting { get; set; } = [];

        public TaskCompletionSource Released { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private readonly Dictionary<string, Claim> claims = [];

    /// <summary>Handles the lone message of a lane just claimed (<see cref="TryClaim"/>), beside the loop.</summary>
    private void StartAtOnce(Pending lone, CancellationToken ct) => _ = Task.Run(() => HandleAtOnceAsync(lone, ct), CancellationToken.None);

    /// <summary>
    /// Completes once every lane claimed now is released: the bridge waits for what it handles at once when it stops.
    /// A claim is released last thing, whatever became of its message.
    /// </summary>
    private Task AtOnceDoneAsync()
    {
        lock (claims)
        {
            return Task.WhenAll(claims.Values.Select(c => c.Released.Task).ToArray());
        }
    }

    /// <summary>
    /// Claims the message's lane for handling it at once: only when nothing of the lane is stored and not yet handled
    /// nor being handled at once, and fewer than <see cref="MaxAtOnce"/> are.
    /// </summary>
    private bool TryClaim(Pending pending)
    {
        var lane = pending.Message.Lane;
        lock (claims)
        {
            if (claims.Count >= MaxAtOnce || claims.ContainsKey(lane) || lanes.IsBusy(lane))
            {
                return false;
            }

            claims[lane] = new Claim();
            return true;
        }
    }

    /// <summary>
    /// The messages of a batch whose lanes are not being handled at once; the others wait for theirs, in order, and
    /// are stored once it is done with (<see cref="ReleaseAsync"/>), so that nothing of a lane overtakes it. Full: the
    /// release of a lane that has <see cref="MaxWaitingForLane"/> waiting, which the bridge waits for before it takes
    /// more.
    /// </summary>
    private (List<Pending> Others, Task Full) Unclaimed(List<Pending> batch)
    {
        lock (claims)
        {
            if (claims.Count == 0)
            {
                return (batch, Task.CompletedTask);
            }

            var rest = new List<Pending>(batch.Count);
            foreach (var pending in batch)
            {
                if (claims.TryGetValue(pending.Message.Lane, out var claim))
                {
                    claim.Waiting.Add(pending);
                }
                else
                {
                    rest.Add(pending);
                }
            }

            var full = claims.Values.FirstOrDefault(c => c.Waiting.Count >= MaxWaitingForLane);
            return (rest, full?.Released.Task ?? Task.CompletedTask);
        }
    }

    /// <summary>Stores what waited for the lane's message handled at once, until none is left; then frees it.</summary>
    private async Task ReleaseAsync(string lane, CancellationToken ct)
    {
        while (true)
        {
            List<Pending> waited;
            lock (claims)
            {
                var claim = claims[lane];
                waited = claim.Waiting;
                if (waited.Count == 0)
                {
                    claims.Remove(lane);
                    claim.Released.TrySetResult();
                    return;
                }

                claim.Waiting = [];
            }

            await StoreAsync(waited, ct);
        }
    }

    /// <summary>
    /// A lone message of an idle lane, handled in the bridge (Wolverine's InvokeAsync: the same handler, transaction,
    /// outbox and inline retries). Its lane is claimed until it is done with: what comes for the lane meanwhile waits.
    /// </summary>
    private async Task HandleAtOnceAsync(Pending pending, CancellationToken ct)
    {
        var lane = pending.Message.Lane;
        try
        {
            if (!await InvokeAsync(pending, ct))
            {
                // Its transaction rolled back: stored as any other, before what waited for it.
                await StoreAsync([pending], ct);
            }

            await ReleaseAsync(lane, ct);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // Stopping: not acknowledged, the broker delivers them again to the next run.
            Claim? claim;
            lock (claims)
            {
                claims.Remove(lane, out claim);
            }

            claim?.Released.TrySetResult();
            foreach (var left in (claim?.Waiting ?? []).Prepend(pending))
            {
                Complete(left, false, "not_acknowledged");
            }
        }
    }

    /// <summary>
    /// True when the message is done with (handled, refused, or left unacknowledged); false when it is to be stored.
    /// </summary>
    private async Task<bool> InvokeAsync(Pending pending, CancellationToken ct)
    {
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            Activity.Current = pending.Activity;
            await scope.ServiceProvider.GetRequiredService<IMessageBus>().InvokeAsync(pending.Message, ct);
            Interlocked.Increment(ref handledAtOnce);
            Complete(pending, true, "handled");
        }
        catch (MessageRejected e)
        {
            // As Wolverine's policy does for a stored one (Configuration): nothing stored, the emitter told why.
            await rejections.RejectAsync(pending.Message.Topic, e.Message, pending.Message.Id, ct);
            Complete(pending, true, "refused");
        }
        catch (Exception) when (ct.IsCancellationRequested || pending.Cancellation.IsCancellationRequested)
        {
            Complete(pending, false, "not_acknowledged");
        }
        catch (Exception e)
        {
            logger.LogDebug(e, "Handling {Topic} at once failed: storing it for Wolverine's retries", pending.Message.Topic);
            return false;
        }
        finally
        {
            Activity.Current = null;
        }

        return true;
    }
}
