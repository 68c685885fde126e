using NodaTime;
using NodaTime.Testing;
using Npgsql;
using Presence.Server.Hosting;

namespace Presence.Server.Tests.Hosting;

/// <summary>
/// What /health learns from the server's own writes: a hold makes an outage, with PostgreSQL's words and since when;
/// a commit ends it; a hold no attempt has repeated for longer than <see cref="StoreOutage.Fresh"/> is no longer news.
/// </summary>
public sealed class telling_an_outage_of_the_store
{
    private readonly FakeClock clock = new(Instant.FromUtc(2026, 12, 4, 20, 0));

    [Fact]
    public async Task holds_make_an_outage_since_the_first_with_the_latest_reason_and_a_commit_ends_it()
    {
        var outage = new StoreOutage(clock);
        Assert.Null(outage.Current);

        var first = clock.GetCurrentInstant();
        outage.Held(new InvalidOperationException("NpgsqlTransaction", new PostgresException("could not extend file \"base/1/2\": No space left on device", "ERROR", "ERROR", "53100")));
        clock.Advance(Duration.FromSeconds(5));
        outage.Held(new NpgsqlException("Failed to connect to 127.0.0.1:5432"));

        Assert.Equal((first, "Failed to connect to 127.0.0.1:5432"), outage.Current);
        await outage.AfterCommitAsync(null!, null!, CancellationToken.None);
        Assert.Null(outage.Current);
    }

    [Fact]
    public void the_reason_is_postgresqls_own_words_under_whatever_wraps_them()
    {
        var wrapped = new InvalidOperationException("NpgsqlTransaction", new PostgresException("cannot execute INSERT in a read-only transaction", "ERROR", "ERROR", "25006"));
        Assert.Equal("25006: cannot execute INSERT in a read-only transaction", StoreOutage.Reason(wrapped));
        Assert.Equal("a bug", StoreOutage.Reason(new InvalidOperationException("a bug")));
    }

    [Fact]
    public void a_hold_not_repeated_for_longer_than_fresh_is_no_longer_news()
    {
        var outage = new StoreOutage(clock);
        outage.Held(new NpgsqlException("Failed to connect to 127.0.0.1:5432"));

        clock.Advance(StoreOutage.Fresh);
        Assert.NotNull(outage.Current);
        clock.Advance(Duration.FromMilliseconds(1));
        Assert.Null(outage.Current);
    }
}
