namespace Presence.Server.Tests.Infrastructure;

/// <summary>The checkout the tests run from, for the artifacts kept in it (histories, schema, README).</summary>
public static class Repository
{
    public static string Root { get; } = Find();

    public static string PathOf(params string[] parts) => Path.Combine([Root, .. parts]);

    private static string Find()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Presence.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"no Presence.sln above {AppContext.BaseDirectory}");
    }
}
