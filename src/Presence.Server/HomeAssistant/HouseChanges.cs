using JasperFx.Events.Documents;

namespace Presence.Server.HomeAssistant;

/// <summary>
/// Tells the publisher that something was stored. Every commit counts (the listener cannot cheaply tell a user's or
/// host's change from a bookkeeping one); the publisher recomputes from the projections and sends only what differs,
/// so a burst of commits costs one recomputation.
/// </summary>
public sealed class HouseChanges : IDocumentCommitListener
{
    // No maximum: a poke racing a timed-out wait may release once more, which costs one spare recomputation.
    private readonly SemaphoreSlim signal = new(0);
    private int poked;

    public Task AfterCommitAsync(IDocumentSessionOperations session, IDocumentChangeSet commit, CancellationToken token)
    {
        Poke();
        return Task.CompletedTask;
    }

    /// <summary>Wakes the publisher; pokes while it is busy fold into one (a commit burst costs no more than one).</summary>
    public void Poke()
    {
        if (Interlocked.Exchange(ref poked, 1) == 0)
        {
            signal.Release();
        }
    }

    /// <summary>
    /// Waits for a poke, or for <paramref name="atMost"/>; true when poked. A poke skipped because one was pending came
    /// after its commit and before this returns, so the reading that follows sees that commit.
    /// </summary>
    public async Task<bool> WaitAsync(TimeSpan atMost, CancellationToken ct)
    {
        var poke = await signal.WaitAsync(atMost, ct);
        Interlocked.Exchange(ref poked, 0);
        return poke;
    }
}
