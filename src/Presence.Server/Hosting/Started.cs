namespace Presence.Server.Hosting;

public static class Started
{
    /// <summary>
    /// Completes once the host has started: Wolverine and Marten are up, the schema applied, the handlers loaded and
    /// the signal path warmed (SignalWarmup finishes before the host reports started). A client that hands messages
    /// to Wolverine or reads the store waits for it before it connects.
    /// </summary>
    public static async Task WaitForStartAsync(this IHostApplicationLifetime lifetime, CancellationToken ct)
    {
        if (lifetime.ApplicationStarted.IsCancellationRequested)
        {
            return;
        }

        var started = new TaskCompletionSource();
        await using var registration = lifetime.ApplicationStarted.Register(() => started.TrySetResult());
        await started.Task.WaitAsync(ct);
    }
}
