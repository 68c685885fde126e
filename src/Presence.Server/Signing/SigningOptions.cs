using Presence.Server.Configuration;
using Presence.Server.Hosting;

namespace Presence.Server.Signing;

/// <summary>The `Signing` section: where the house's public command-signing key is written for agents on this computer.</summary>
public sealed class SigningOptions
{
    public const string Section = "Signing";

    public const string FileName = "server-key.pub";

    /// <summary>
    /// Empty means <c>server-key.pub</c> beside the private PostgreSQL's data folder (the agent's default
    /// <c>Agent:Trust:ServerKeyFile</c>): an agent whose broker is on loopback reads it there.
    /// </summary>
    public string? PublicKeyFile { get; set; }

    public static string EffectivePublicKeyFile(SigningOptions options, DatabaseOptions database) =>
        !string.IsNullOrWhiteSpace(options.PublicKeyFile)
            ? Path.GetFullPath(options.PublicKeyFile)
            : Path.Combine(Path.GetDirectoryName(Path.GetFullPath(database.DataDirectory ?? EmbeddedPostgres.DefaultDataDirectory()))!, FileName);
}
