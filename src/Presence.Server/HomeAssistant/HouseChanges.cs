using JasperFx.Events.Documents;

namespace Presence.Server.HomeAssistant;

/// <summary>
/// Tells the publisher that something HA shows may have changed: a commit that wrote documents. What HA shows is read
/// from the projections (sagas, timelines, hosts), documents Marten writes in the commit of their events; the listener
/// cannot cheaply tell a user's or host's change from a bookkeeping one, so the publisher recomputes and sends only
/// what differs, and a burst of commits costs one recomputation. A commit of Wolverine's envelopes alone (the bridge
/// storing what arrived) wrote no document: it woke the publisher to read the whole house while the handler read for
/// its decision, on two cores up to 4 ms on a login's way (issue 11, the warm path).
/// </summary>
public sealed class HouseChanges : IDocumentCommitListener
{
    // No maximum: a poke racing a timed-out wait may release once more, which costs one spare recomputation.
    private readonly SemaphoreSlim signal = new(0);
    private int poked;

    public Task AfterCommitAsync(IDocumentSessionOperations session, IDocumentChangeSet commit, CancellationToken token)
    {
        if (Changes(commit))
        {
            Poke();
        }

        return Task.CompletedTask;
    }

    private static bool Changes(IDocumentChangeSet commit) =>
        commit.Updated.Count > 0 || commit.Inserted.Count > 0 || commit.Deleted.Count > 0;

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
