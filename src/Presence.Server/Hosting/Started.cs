namespace Presence.Server.Hosting;

public static class Started
{
    /// <summary>
    /// True once the host has started: Wolverine and Marten are up, the schema applied, the handlers loaded and the
    /// signal path warmed (SignalWarmup finishes before the host reports started). A client that hands messages to
    /// Wolverine or reads the store waits for it before it connects. False when the host stops first (a start
    /// refused by a later service): the caller then ends quietly, as a refused start is not a failure of its own, and
    /// the host would report a cancelled background service as one that crashed.
    /// </summary>
    public static async Task<bool> WaitForStartAsync(this IHostApplicationLifetime lifetime, CancellationToken ct)
    {
        if (lifetime.ApplicationStarted.IsCancellationRequested)
        {
            return true;
        }

        var started = new TaskCompletionSource();
        await using var registration = lifetime.ApplicationStarted.Register(() => started.TrySetResult());
        try
        {
            await started.Task.WaitAsync(ct);
            return true;
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            return false;
        }
    }
}
