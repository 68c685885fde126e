using Npgsql;
using Presence.Server.Hosting;

namespace Presence.Server.Tests.Hosting;

/// <summary>
/// A database that is away holds the message until it is back; a constraint violation is a concurrent duplicate,
/// which the conflict retry settles and must not hold the bridge forever.
/// </summary>
public sealed class telling_store_trouble_apart
{
    [Fact]
    public void a_database_that_refuses_or_drops_connections_is_away()
    {
        Assert.True(StoreRetries.IsStoreAway(new NpgsqlException("connection refused")));
        Assert.True(StoreRetries.IsStoreAway(new PostgresException("database does not allow connections", "FATAL", "FATAL", "55000")));
        Assert.True(StoreRetries.IsStoreAway(new InvalidOperationException("wrapped", new System.Net.Sockets.SocketException())));
    }

    [Fact]
    public void a_constraint_violation_or_a_bug_is_not()
    {
        Assert.False(StoreRetries.IsStoreAway(new PostgresException("duplicate key", "ERROR", "ERROR", PostgresErrorCodes.UniqueViolation)));
        Assert.False(StoreRetries.IsStoreAway(new InvalidOperationException("a bug")));
    }
}
