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
        var dll = typeof(PresenceApp).Assembly.Location;
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

    /// <summary>A verb against a running test server's database and house.</summary>
    public static Task<Run> AgainstAsync(TestServer server, params string[] args) =>
        RunAsync([.. args, "--config", server.HouseFile, $"--ConnectionStrings:Presence={server.ConnectionString}"]);
}
