using System.Diagnostics;
using System.Text;
using Presence.Server.Hosting;

namespace Presence.Server.Tests.Infrastructure;

/// <summary>
/// One throwaway PostgreSQL cluster per test run, started on first use from the installed binaries with the
/// server's own launcher, and stopped and deleted when the run ends. Each test class takes its own database from
/// it, which is cheaper than a cluster per class and isolates Marten's and Wolverine's tables.
/// </summary>
public static class PostgresCluster
{
    private const string RunPrefix = "presence-tests-";
    private const string OwnerFile = "owner.pid";

    private static readonly Lazy<string> Run = new(CreateRunDirectory);
    private static readonly Lazy<Task<EmbeddedPostgres>> Cluster = new(() => EmbeddedPostgres.StartAsync(
        new EmbeddedPostgresOptions { DataDirectory = Path.Combine(RunDirectory, "cluster"), Durable = false }));
    private static int _cleanedUp;

    /// <summary>This run's folder, /tmp/presence-tests-&lt;guid&gt;; everything in it goes when the run ends.</summary>
    public static string RunDirectory => Run.Value;

    public static Task<EmbeddedPostgres> InstanceAsync() => Cluster.Value;

    /// <summary>Creates a database no one else uses and returns its connection string.</summary>
    public static async Task<string> NewDatabaseAsync(string prefix)
    {
        var cluster = await Cluster.Value;
        return await cluster.CreateDatabaseAsync($"{Sanitise(prefix)}_{Guid.NewGuid():N}"[..^16]);
    }

    /// <summary>A fresh, not yet existing folder inside this run's folder, for tests that run their own cluster.</summary>
    public static string NewScratchDirectory(string name) => Path.Combine(RunDirectory, $"{name}-{Guid.NewGuid():N}");

    /// <summary>Stops every cluster of this run and deletes its folder; <see cref="TestRunFramework"/> calls it.</summary>
    internal static void CleanUp()
    {
        if (!Run.IsValueCreated || Interlocked.Exchange(ref _cleanedUp, 1) == 1)
            return;
        if (Cluster.IsValueCreated && Cluster.Value.IsCompletedSuccessfully)
            Quietly(() => Cluster.Value.Result.StopAsync().GetAwaiter().GetResult());
        Remove(Run.Value);
    }

    // Lower case and short: quoted names keep their case, and psql users should not need quotes.
    private static string Sanitise(string prefix)
    {
        var builder = new StringBuilder();
        foreach (var c in prefix.ToLowerInvariant())
            builder.Append(char.IsAsciiLetterOrDigit(c) ? c : '_');
        var name = builder.ToString().Trim('_');
        return name.Length == 0 ? "test" : name[..Math.Min(name.Length, 40)];
    }

    private static string CreateRunDirectory()
    {
        var temp = OperatingSystem.IsWindows() ? Path.GetTempPath() : "/tmp";
        SweepAbandonedRuns(temp);
        var run = Path.Combine(temp, RunPrefix + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(run);
        if (!OperatingSystem.IsWindows())
        {
            // As root the clusters run as postgres, which must get through this folder whatever the umask.
            File.SetUnixFileMode(run, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute |
                                      UnixFileMode.GroupRead | UnixFileMode.GroupExecute |
                                      UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        }
        File.WriteAllText(Path.Combine(run, OwnerFile), Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture));
        // For runners that do not dispose the test framework. VSTest kills the test host within a fraction of a
        // second of ProcessExit, so this alone would leave clusters running.
        AppDomain.CurrentDomain.ProcessExit += (_, _) => CleanUp();
        return run;
    }

    private static void Remove(string run)
    {
        // Clusters that tests started and did not stop, e.g. after a failed assertion.
        foreach (var dir in Directory.EnumerateDirectories(run))
            Quietly(() => EmbeddedPostgres.StopAbandonedAsync(dir).GetAwaiter().GetResult());
        Quietly(() => Directory.Delete(run, recursive: true));
    }

    // A test process that was killed never cleaned up: its clusters would run until reboot.
    private static void SweepAbandonedRuns(string temp)
    {
        foreach (var run in Directory.EnumerateDirectories(temp, RunPrefix + "*"))
        {
            var owner = Path.Combine(run, OwnerFile);
            if (File.Exists(owner) ? IsAlive(File.ReadAllText(owner)) : Directory.GetCreationTimeUtc(run) > DateTime.UtcNow.AddMinutes(-5))
                continue;
            Remove(run);
        }
    }

    private static bool IsAlive(string pidText)
    {
        if (!int.TryParse(pidText.Trim(), out var pid))
            return false;
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException)
        {
            return false;
        }
    }

    private static void Quietly(Action action)
    {
        try
        {
            action();
        }
        catch (Exception e)
        {
            // Clean-up must not fail the run; say what was left behind.
            Console.Error.WriteLine($"presence tests: clean-up: {e.Message}");
        }
    }
}
