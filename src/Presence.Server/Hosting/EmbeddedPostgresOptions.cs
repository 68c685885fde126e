namespace Presence.Server.Hosting;

/// <summary>How to run a private PostgreSQL cluster from the installed binaries.</summary>
public sealed class EmbeddedPostgresOptions
{
    /// <summary>
    /// The cluster's data folder. Its password is kept beside it in <c>&lt;DataDirectory&gt;.password</c>.
    /// When the process runs as root, PostgreSQL runs as the <c>postgres</c> user, which must be able to reach
    /// this folder: use <see cref="EmbeddedPostgres.DefaultDataDirectory"/>, not a folder under /root.
    /// </summary>
    public required string DataDirectory { get; init; }

    /// <summary>Folder holding pg_ctl and initdb; null looks in $PRESENCE_PG_BIN, /usr/lib/postgresql/*/bin, then PATH.</summary>
    public string? BinDirectory { get; init; }

    /// <summary>Loopback port to listen on; 0 picks a free one at each start.</summary>
    public int Port { get; init; }

    /// <summary>Database created if missing and named by <see cref="EmbeddedPostgres.ConnectionString"/>.</summary>
    public string Database { get; init; } = "presence";

    public TimeSpan StartTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// False for throwaway clusters (tests): no fsync, so start, CREATE DATABASE and shutdown are several times
    /// faster, but a machine crash can lose or corrupt the data. Keep true for anything worth keeping.
    /// </summary>
    public bool Durable { get; init; } = true;
}
