using Marten;

namespace Presence.Server.Users;

/// <summary>
/// Every hour, deletes the house prints no saga refers to any longer
/// (<see cref="HousePrintsStore.DeleteUnusedAsync"/>).
/// Each node does it; two at once only find less to delete.
/// </summary>
public sealed class HousePrintsCleanup(IDocumentStore store, ILogger<HousePrintsCleanup> logger) : BackgroundService
{
    public static readonly TimeSpan Every = TimeSpan.FromHours(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Every);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                await DeleteUnusedAsync(stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping, or a start refused by a later service: the host would report a cancelled wait as a crash.
        }
    }

    private async Task DeleteUnusedAsync(CancellationToken ct)
    {
        try
        {
            var deleted = await HousePrintsStore.DeleteUnusedAsync(store, olderThan: Every, ct);
            if (deleted > 0)
            {
                logger.LogInformation("Deleted {Count} house prints no saga refers to", deleted);
            }
        }
        catch (Exception e) when (e is Npgsql.NpgsqlException or TimeoutException)
        {
            // PostgreSQL away: the next hour tries again; nothing depends on it meanwhile.
            logger.LogWarning("Could not delete unused house prints: {Why}", e.Message);
        }
    }
}
