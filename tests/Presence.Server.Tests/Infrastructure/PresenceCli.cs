using System.Diagnostics;
using Presence.Server.Hosting;

namespace Presence.Server.Tests.Infrastructure;

/// <summary>The server's command line as a user runs it: its own process, so JasperFx finds the verbs as it does for them.</summary>
public static class PresenceCli
{
    public sealed record Run(int ExitCode, string Stdout, string Stderr)
    {
        public string Output => Stdout + Stderr;
    }

    public static async Task<Run> RunAsync(params string[] args)
    {
        var dll = ServerDll();
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Path.GetDirectoryName(dll)!,
        };
        start.ArgumentList.Add(dll);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        // Wide enough that JasperFx's help table does not wrap a verb's name.
        start.Environment["COLUMNS"] = "200";
        start.Environment.Remove("ConnectionStrings__Presence");
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var guard = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        await process.WaitForExitAsync(guard.Token);
        return new Run(process.ExitCode, await stdout, await stderr);
    }

    /// <summary>
    /// The server as built in its own folder: JasperFx scans the entry assembly's folder for command assemblies, and
    /// in the test's folder it would trip over the test framework's assemblies, which the server's deps do not list.
    /// </summary>
    private static string ServerDll()
    {
        var tests = AppContext.BaseDirectory;
        var marker = Path.Combine("tests", "Presence.Server.Tests") + Path.DirectorySeparatorChar;
        var at = tests.IndexOf(marker, StringComparison.Ordinal);
        var dll = at < 0 ? null : Path.Combine(tests[..at], "src", "Presence.Server", tests[(at + marker.Length)..], "Presence.Server.dll");
        return dll is not null && File.Exists(dll)
            ? dll
            : throw new InvalidOperationException($"the server's own build is not where expected ({dll ?? tests}); build the solution first");
    }

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
    public static Task<Run> AgainstAsync(TestServer server, params string[] args) =>
        RunAsync([.. args, "--config", server.HouseFile, $"--ConnectionStrings:Presence={server.ConnectionString}"]);
}
