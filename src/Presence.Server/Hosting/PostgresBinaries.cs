using Microsoft.Extensions.Logging;

namespace Presence.Server.Hosting;

/// <summary>Where the PostgreSQL server programs live.</summary>
internal sealed record PostgresBinaries(string BinDirectory)
{
    public const string BinDirectoryVariable = "PRESENCE_PG_BIN";
    private const string DebianRoot = "/usr/lib/postgresql";

    public string PgCtl => Path.Combine(BinDirectory, Exe("pg_ctl"));
    public string InitDb => Path.Combine(BinDirectory, Exe("initdb"));

    public static PostgresBinaries Locate(string? binDirectory, ILogger logger)
    {
        if (binDirectory is not null)
        {
            return IsComplete(binDirectory)
                ? new PostgresBinaries(Path.GetFullPath(binDirectory))
                : throw new PostgresNotFoundException(binDirectory);
        }

        var fromEnvironment = Environment.GetEnvironmentVariable(BinDirectoryVariable);
        if (!string.IsNullOrWhiteSpace(fromEnvironment))
        {
            if (IsComplete(fromEnvironment))
                return new PostgresBinaries(Path.GetFullPath(fromEnvironment));
            // A typo here should not go unnoticed when another installation silently takes over.
            logger.LogWarning("${Variable} is {Value}, which holds no pg_ctl and initdb; looking elsewhere",
                BinDirectoryVariable, fromEnvironment);
        }

        var debian = FindHighestDebianVersion();
        if (debian is not null)
            return new PostgresBinaries(debian);

        var onPath = FindOnPath();
        if (onPath is not null)
            return new PostgresBinaries(onPath);

        var env = string.IsNullOrWhiteSpace(fromEnvironment) ? "$" + BinDirectoryVariable : fromEnvironment;
        throw new PostgresNotFoundException($"{env}, {DebianRoot}/*/bin, PATH");
    }

    private static string? FindHighestDebianVersion()
    {
        if (!Directory.Exists(DebianRoot))
            return null;

        return Directory.EnumerateDirectories(DebianRoot)
            .Select(dir => (Dir: dir, Version: Version.TryParse(NormaliseVersion(Path.GetFileName(dir)), out var v) ? v : null))
            .Where(x => x.Version is not null && IsComplete(Path.Combine(x.Dir, "bin")))
            .OrderByDescending(x => x.Version)
            .Select(x => Path.Combine(x.Dir, "bin"))
            .FirstOrDefault();
    }

    // Debian names folders "15" or "9.6"; Version.TryParse wants at least two parts.
    private static string NormaliseVersion(string name) => name.Contains('.') ? name : name + ".0";

    private static string? FindOnPath()
    {
        var path = Environment.GetEnvironmentVariable("PATH") ?? "";
        foreach (var dir in path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(dir, Exe("pg_ctl"));
            if (!File.Exists(candidate))
                continue;
            // /usr/local/bin/pg_ctl is often a link into the real installation, and PATH may not carry initdb.
            var real = new FileInfo(candidate).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? candidate;
            var realDir = Path.GetDirectoryName(Path.GetFullPath(real));
            if (realDir is not null && IsComplete(realDir))
                return realDir;
            if (IsComplete(dir))
                return Path.GetFullPath(dir);
        }
        return null;
    }

    private static bool IsComplete(string dir) =>
        File.Exists(Path.Combine(dir, Exe("pg_ctl"))) && File.Exists(Path.Combine(dir, Exe("initdb")));

    private static string Exe(string name) => OperatingSystem.IsWindows() ? name + ".exe" : name;
}
