namespace Presence.Server.Tests.Infrastructure;

/// <summary>The server's command line as a user runs it: its own process, so JasperFx finds the verbs as it does for them.</summary>
public static class PresenceCli
{
    /// <summary>The server as a person runs it; 90 s at the most.</summary>
    public static Task<BuiltProgram.Run> RunAsync(params string[] args) =>
        BuiltProgram.RunAsync(BuiltProgram.PathOf("Presence.Server"), args, TimeSpan.FromSeconds(90), start =>
        {
            // Wide enough that JasperFx's help table does not wrap a verb's name.
            start.Environment["COLUMNS"] = "200";
            start.Environment.Remove("ConnectionStrings__Presence");
        });

    /// <summary>
    /// The test house as a file and a fresh database of the suite's cluster, for a run that must not start or touch
    /// the private PostgreSQL.
    /// </summary>
    public static async Task<(string House, string Database)> HouseAndDatabaseAsync(string name)
    {
        var directory = PostgresCluster.NewScratchDirectory(name);
        Directory.CreateDirectory(directory);
        var house = Path.Combine(directory, "house.json");
        await File.WriteAllTextAsync(house, TestHouse.Json);
        return (house, await PostgresCluster.NewDatabaseAsync(name));
    }

    /// <summary>A verb against a running test server's database and house.</summary>
    public static Task<BuiltProgram.Run> AgainstAsync(TestServer server, params string[] args) =>
        RunAsync([.. args, "--config", server.HouseFile, $"--ConnectionStrings:Presence={server.ConnectionString}"]);
}
