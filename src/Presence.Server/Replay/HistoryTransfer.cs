using Marten;
using NodaTime;
using Presence.Domain.Audit;
using Presence.Server.Audit;
using Presence.Server.Configuration;
using Presence.Server.Hosting;

namespace Presence.Server.Replay;

/// <summary>Moves a user's history between the event store and a history file, metadata and all.</summary>
public static class HistoryTransfer
{
    /// <summary>The history files' folder in a checkout, where `export` writes unless told otherwise.</summary>
    public static readonly string DefaultFolder = Path.Combine("eventstore", "histories");

    public static async Task<(string Path, int Events)> ExportAsync(
        IQuerySession session, string user, HouseOptions house, Instant now, string? path, CancellationToken ct)
    {
        var history = await StoredHistory.LoadAsync(session, user, ct);
        if (history.Count == 0)
        {
            throw new StartupException($"no history for user '{user}' in this event store");
        }

        path ??= System.IO.Path.Combine(DefaultFolder, $"{user}-{now.InUtc().Date:yyyyMMdd}.jsonl");
        return (Write(path, user, house, now, history), history.Count);
    }

    /// <summary>Writes a history file, making its folder if need be; returns its full path.</summary>
    public static string Write(string path, string user, HouseOptions house, Instant now, IReadOnlyList<Recorded> history)
    {
        var full = System.IO.Path.GetFullPath(path);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(full)!);
        using var file = new StreamWriter(full) { NewLine = "\n" };
        HistoryFile.Write(file, user, now, house, history);
        return full;
    }

    /// <summary>
    /// Appends a history file's events as the user's stream, each with its recorded correlation, causation and
    /// headers. Refuses a user who already has a stream: importing never changes what is stored. The whole file is
    /// read and checked before anything is written, and it is written in one transaction.
    /// </summary>
    public static async Task<(string User, int Events)> ImportAsync(IDocumentSession session, string path, CancellationToken ct)
    {
        var history = HistoryFile.Read(path);
        var user = history.Header.User;
        if (await session.Events.FetchStreamStateAsync(user, ct) is { } existing)
        {
            throw new StartupException(
                $"user '{user}' already has a history here ({existing.Version} events); nothing was imported. " +
                "Import into another schema (--Database:Schema=…) or database to look at it beside this one.");
        }

        session.Events.StartStream(user, history.Events.Select(e => (object)Stamped.Event(e.Data, e.CorrelationId, e.CausationId, e.Headers)).ToArray());
        await session.SaveChangesAsync(ct);
        return (user, history.Events.Count);
    }
}
