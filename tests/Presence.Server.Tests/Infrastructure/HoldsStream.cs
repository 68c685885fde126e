using System.Collections.Concurrent;
using Marten;

namespace Presence.Server.Tests.Infrastructure;

/// <summary>
/// A Marten listener that holds open, or fails once, the next transactions that append to one stream (a user's): a
/// test arms a gate, sees the transaction held, and releases it when it has looked at what happens meanwhile.
/// </summary>
public sealed class HoldsStream(string stream) : DocumentSessionListenerBase
{
    private readonly ConcurrentQueue<Gate> armed = new();
    private readonly ConcurrentBag<Gate> all = [];
    private int failNext;

    /// <summary>Holds the next transaction of the stream that no gate armed before holds.</summary>
    public Gate Arm()
    {
        var gate = new Gate();
        armed.Enqueue(gate);
        all.Add(gate);
        return gate;
    }

    /// <summary>Fails the stream's next <paramref name="times"/> transactions (0: none from now on).</summary>
    public void FailNext(int times = 1) => Volatile.Write(ref failNext, times);

    public void ReleaseAll()
    {
        foreach (var gate in all)
        {
            gate.Release();
        }
    }

    public override async Task BeforeSaveChangesAsync(IDocumentSession session, CancellationToken token)
    {
        if (!session.PendingChanges.Streams().Any(s => s.Key == stream))
        {
            return;
        }

        if (Volatile.Read(ref failNext) > 0 && Interlocked.Decrement(ref failNext) >= 0)
        {
            throw new InvalidOperationException($"a fault in the transaction that would append to {stream}'s stream");
        }

        if (armed.TryDequeue(out var gate))
        {
            await gate.HoldAsync();
        }
    }

    public sealed class Gate
    {
        private readonly TaskCompletionSource holding = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource released = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>Completes once the transaction is held.</summary>
        public Task Holding => holding.Task;

        public void Release() => released.TrySetResult();

        internal Task HoldAsync()
        {
            holding.TrySetResult();
            return released.Task;
        }
    }
}
