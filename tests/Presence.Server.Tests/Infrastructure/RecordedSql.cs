using System.Collections.Concurrent;
using Marten;
using Marten.Services;
using Npgsql;

namespace Presence.Server.Tests.Infrastructure;

/// <summary>
/// Marten's logger for a test server (`s.ConfigureMarten(o => o.Logger(sql))`): keeps the text of every SQL command
/// the server's sessions ran, alone or in a batch, so a test can say what the server read and how.
/// </summary>
public sealed class RecordedSql : IMartenLogger, IMartenSessionLogger
{
    private readonly ConcurrentQueue<IReadOnlyList<string>> roundTrips = new();

    public IReadOnlyList<string> Commands => [.. roundTrips.SelectMany(trip => trip)];

    /// <summary>The commands by round trip to PostgreSQL: a batch's go together.</summary>
    public IReadOnlyList<IReadOnlyList<string>> RoundTrips => [.. roundTrips];

    public void Clear() => roundTrips.Clear();

    public IMartenSessionLogger StartSession(IQuerySession session) => this;

    public void SchemaChange(string sql)
    {
    }

    public void LogSuccess(NpgsqlCommand command) => roundTrips.Enqueue([command.CommandText]);

    public void LogSuccess(NpgsqlBatch batch) =>
        roundTrips.Enqueue([.. batch.BatchCommands.Cast<NpgsqlBatchCommand>().Select(c => c.CommandText)]);

    public void LogFailure(NpgsqlCommand command, Exception ex) => LogSuccess(command);

    public void LogFailure(NpgsqlBatch batch, Exception ex) => LogSuccess(batch);

    public void LogFailure(Exception ex, string message)
    {
    }

    public void RecordSavedChanges(IDocumentSession session, IChangeSet commit)
    {
    }

    public void OnBeforeExecute(NpgsqlCommand command)
    {
    }

    public void OnBeforeExecute(NpgsqlBatch batch)
    {
    }
}
