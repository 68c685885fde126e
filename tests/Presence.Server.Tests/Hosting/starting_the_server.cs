using System.Diagnostics;
using Presence.Server.Hosting;
using Presence.Server.Tests.Infrastructure;

namespace Presence.Server.Tests.Hosting;

/// <summary>The server as a user starts it: its own process, its exit code and the first lines it prints.</summary>
public sealed class starting_the_server
{
    private static async Task<(int ExitCode, string Output)> RunServerAsync(params string[] args)
    {
        var dll = typeof(PresenceApp).Assembly.Location;
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(dll);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment.Remove("ConnectionStrings__Presence");
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var guard = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(guard.Token);
        return (process.ExitCode, await stdout + await stderr);
    }

    [Fact]
    public async Task without_postgresql_binaries_it_says_the_two_ways_out_in_one_line()
    {
        var empty = PostgresCluster.NewScratchDirectory("no-pg");
        Directory.CreateDirectory(empty);

        var (exit, output) = await RunServerAsync(
            $"--Database:BinDirectory={empty}", $"--Database:DataDirectory={Path.Combine(empty, "data")}", $"--Mqtt:Port={Ports.Free()}");

        Assert.NotEqual(0, exit);
        var line = Assert.Single(output.Split('\n'), l => l.Contains("PostgreSQL binaries", StringComparison.Ordinal));
        Assert.Contains("install PostgreSQL", line);
        Assert.Contains("docker compose up", line);
    }

    [Fact]
    public async Task a_bad_value_in_the_house_stops_it_naming_the_key()
    {
        var (exit, output) = await RunServerAsync("--House:Vms:0:MemoryMb=0", "--House:Users:1:HomeHost=attic");

        Assert.Equal(2, exit);
        Assert.Contains("House:Vms:0:MemoryMb must be > 0, got 0", output);
        Assert.Contains("House:Users:1:HomeHost 'attic' is not one of House:Hosts", output);
    }

    [Fact]
    public async Task a_missing_house_file_is_named()
    {
        var (exit, output) = await RunServerAsync("--config", "/nonexistent/house.json");

        Assert.Equal(2, exit);
        Assert.Contains("house file '/nonexistent/house.json'", output);
    }
}
