using JasperFx.Events.Documents;

namespace Presence.Server.HomeAssistant;

/// <summary>
/// Tells the publisher that something was stored. Every commit counts (the listener cannot cheaply tell a user's or
/// host's change from a bookkeeping one); the publisher recomputes from the projections and sends only what differs,
/// so a burst of commits costs one recomputation.
/// </summary>
public sealed class HouseChanges : IDocumentCommitListener
{
    private readonly SemaphoreSlim signal = new(0, 1);

    public Task AfterCommitAsync(IDocumentSessionOperations session, IDocumentChangeSet commit, CancellationToken token)
    {
        Poke();
        return Task.CompletedTask;
    }

    /// <summary>Wakes the publisher; pokes while it is busy fold into one.</summary>
    public void Poke()
    {
        try
        {
            signal.Release();
        }
        catch (SemaphoreFullException)
        {
            // Already poked: the next recomputation sees this change too.
        }
    }

    /// <summary>Waits for a poke, or for <paramref name="atMost"/>; true when poked.</summary>
    public Task<bool> WaitAsync(TimeSpan atMost, CancellationToken ct) => signal.WaitAsync(atMost, ct);
}
