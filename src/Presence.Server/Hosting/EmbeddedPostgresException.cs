namespace Presence.Server.Hosting;

/// <summary>The private PostgreSQL cluster could not be prepared, started or stopped.</summary>
public class EmbeddedPostgresException : Exception
{
    public EmbeddedPostgresException(string message) : base(message) { }

    public EmbeddedPostgresException(string message, Exception inner) : base(message, inner) { }
}

/// <summary>
/// No PostgreSQL binaries to start a private cluster from. The message is one line naming both ways out, so
/// the server can print it as it is and stop.
/// </summary>
public sealed class PostgresNotFoundException : EmbeddedPostgresException
{
    public PostgresNotFoundException(string lookedIn)
        : base($"No PostgreSQL binaries found (looked in {lookedIn}): install PostgreSQL (Debian: apt-get install postgresql) " +
               "or run `docker compose up` and set ConnectionStrings:Presence.")
    {
    }
}
