using System.Text;
using System.Text.RegularExpressions;
using Marten;

namespace Presence.Server.Schema;

/// <summary>
/// The event store's DDL as Marten would create it for the current configuration, kept in the repository as
/// eventstore/schema/presence.sql so a change to the tables shows up in review; a test fails when it is stale.
/// </summary>
public static partial class SchemaArtifact
{
    public const string RelativePath = "eventstore/schema/presence.sql";
    public const string Regenerate = "dotnet run --project src/Presence.Server -- schema";

    /// <summary>The DDL, the same bytes for the same configuration: unix line ends, no trailing blanks.</summary>
    public static string Export(IDocumentStore store)
    {
        var script = store.Storage.ToDatabaseScript();
        var lines = script.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n').Select(l => l.TrimEnd());
        var text = new StringBuilder();
        text.Append("-- Presence event store schema, exported from Marten's configuration in src/Presence.Server.\n");
        text.Append("-- Generated: do not edit. Regenerate with: ").Append(Regenerate).Append('\n');
        text.Append("-- (schema names follow Database:Schema of the default house, appsettings.json)\n\n");
        foreach (var line in lines)
        {
            text.Append(Volatile().Replace(line, "")).Append('\n');
        }

        return CollapseBlankLines().Replace(text.ToString(), "\n\n").TrimEnd('\n') + "\n";
    }

    /// <summary>The repository root: the nearest folder up from <paramref name="start"/> that holds Presence.sln.</summary>
    public static string? FindRepository(string start)
    {
        for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Presence.sln")))
            {
                return dir.FullName;
            }
        }

        return null;
    }

    // Weasel stamps nothing time-dependent today; should a version or date comment appear, it must not make the file stale.
    [GeneratedRegex(@"^--\s*(Generated|Created) (at|on) .*$")]
    private static partial Regex Volatile();

    [GeneratedRegex(@"\n{3,}")]
    private static partial Regex CollapseBlankLines();
}
