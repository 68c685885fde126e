using Marten;
using NodaTime.Extensions;

namespace Presence.Server.Demo;

/// <summary>
/// Prints the event store as it grows: every <see cref="Interval"/> it reads the events after the last one it saw,
/// in sequence order, and prints their <see cref="DemoLines"/>. Reading the store (not the MQTT traffic) is the
/// point: the audience sees what was recorded, which is what history and replay will show later.
/// </summary>
/// <remarks>
/// Reading by sequence is safe here because the server appends from one MQTT message at a time; with concurrent
/// writers a transaction could commit a lower sequence after a higher one was read (Marten's async daemon
/// handles that with its high-water mark).
/// </remarks>
public sealed class EventFeed(IDocumentStore store, DemoLines lines, TextWriter output)
{
    public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(200);

    private readonly SemaphoreSlim gate = new(1, 1);
    private long last;

    public async Task RunAsync(CancellationToken ct)
    {
        using var timer = new PeriodicTimer(Interval);
        try
        {
            do
            {
                try
                {
                    await PollAsync(ct);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    // The next poll reads from the same sequence: a hiccup delays lines, it does not lose them.
                    output.WriteLine($"  (could not read the event store: {e.Message})");
                }
            }
            while (await timer.WaitForNextTickAsync(ct));
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
    }

    /// <summary>Prints whatever arrived since the last poll.</summary>
    public async Task PollAsync(CancellationToken ct)
    {
        await gate.WaitAsync(ct);
        try
        {
            await using var session = store.QuerySession();
            var events = await session.Events.QueryAllRawEvents()
                .Where(e => e.Sequence > last)
                .OrderBy(e => e.Sequence)
                .Take(1000)
                .ToListAsync(ct);
            foreach (var e in events)
            {
                last = e.Sequence;

                foreach (var line in lines.For(e.Data, e.Timestamp.ToInstant()))
                {
                    output.WriteLine(line);
                }
            }
        }
        finally
        {
            gate.Release();
        }
    }
}
