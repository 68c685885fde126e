using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Presence.Server.Hosting;

namespace Presence.Server.Tests.Infrastructure;

/// <summary>
/// The server as its own OS process, so a drill can SIGKILL it and start another on the same database and broker:
/// an in-process TestServer cannot die without taking the test with it.
/// </summary>
public sealed class ServerProcess : IAsyncDisposable
{
    private readonly Process process;
    private readonly StringBuilder output = new();

    public Uri BaseAddress { get; }
    public string Directory { get; }

    private ServerProcess(Process process, Uri baseAddress, string directory)
    {
        this.process = process;
        BaseAddress = baseAddress;
        Directory = directory;
    }

    /// <summary>Everything the process wrote so far, for failure messages.</summary>
    public string Output { get { lock (output) return output.ToString(); } }

    public bool HasExited => process.HasExited;

    /// <param name="directory">Keep the same one across restarts: the house file and the signing key the agents trust live there.</param>
    /// <param name="settings">More `--Key=value` settings, after the defaults so they win.</param>
    public static async Task<ServerProcess> StartAsync(
        string connectionString,
        ExternalBroker broker,
        string directory,
        string nodeName = "test",
        string houseJson = TestHouse.Json,
        IEnumerable<string>? settings = null,
        TimeSpan? healthTimeout = null)
    {
        System.IO.Directory.CreateDirectory(directory);
        var house = Path.Combine(directory, "house.json");
        await File.WriteAllTextAsync(house, houseJson);
        var httpPort = Ports.Free();

        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(typeof(PresenceApp).Assembly.Location);
        foreach (var arg in TestServer.Arguments(directory, $"http://127.0.0.1:{httpPort}", broker.Port, Ports.Free(), nodeName, external: true, broker.ServerLogin)
                     .Concat(settings ?? []))
            start.ArgumentList.Add(arg);
        // The connection string goes on the command line; an inherited one must not win or leak into the child.
        start.Environment.Remove("ConnectionStrings__Presence");
        start.ArgumentList.Add($"--ConnectionStrings:Presence={connectionString}");

        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        var server = new ServerProcess(process, new Uri($"http://127.0.0.1:{httpPort}"), directory);
        process.OutputDataReceived += (_, e) => server.Append(e.Data);
        process.ErrorDataReceived += (_, e) => server.Append(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await server.WaitHealthyAsync(healthTimeout ?? TimeSpan.FromSeconds(60));
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
        return server;
    }

    private void Append(string? line)
    {
        if (line is null) return;
        lock (output) output.AppendLine(line);
    }

    private async Task WaitHealthyAsync(TimeSpan timeout)
    {
        using var http = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(2) };
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < timeout)
        {
            if (process.HasExited)
                throw new InvalidOperationException($"The server exited with {process.ExitCode} before /health answered:\n{Output}");
            try
            {
                using var response = await http.GetAsync("/health");
                if (response.IsSuccessStatusCode) return;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                // Not listening yet.
            }
            await Task.Delay(TimeSpan.FromMilliseconds(200));
        }
        throw new TimeoutException($"The server's /health did not answer 200 within {timeout}:\n{Output}");
    }

    /// <summary>
    /// How many computers this server sees with their agent online and its inventory taken in (its /api/house): a
    /// login decided on an agent's status alone may not yet know where the VMs run. The status and the inventory are
    /// two messages, and a CI run once logged in between them ("no agent reports alice-desktop running").
    /// </summary>
    public async Task<int> HostsOnlineAsync()
    {
        using var http = new HttpClient { BaseAddress = BaseAddress };
        using var house = JsonDocument.Parse(await http.GetStringAsync(new Uri("/api/house", UriKind.Relative)));
        return house.RootElement.GetProperty("hosts").EnumerateArray()
            .Count(h => h.GetProperty("agent_online").GetBoolean() && h.GetProperty("memory_mb").GetInt32() > 0);
    }

    /// <summary>The kinds of a user's timeline entries, newest first, as this server tells them.</summary>
    public async Task<List<string>> TimelineAsync(string user)
    {
        using var http = new HttpClient { BaseAddress = BaseAddress };
        using var timeline = JsonDocument.Parse(await http.GetStringAsync(new Uri($"/api/users/{user}/timeline", UriKind.Relative)));
        return timeline.RootElement.GetProperty("entries").EnumerateArray().Select(e => e.GetProperty("kind").GetString()!).ToList();
    }

    /// <summary>SIGKILL: no shutdown hooks, no flush; what a power cut or the OOM killer does.</summary>
    public void Kill()
    {
        if (process.HasExited) return;
        process.Kill(entireProcessTree: true);
        process.WaitForExit();
    }

    /// <summary>SIGSTOP: the process stands still (a long GC pause, a swapped-out box) until <see cref="ResumeAsync"/>.</summary>
    public Task PauseAsync() => SignalAsync("STOP");

    /// <summary>SIGCONT after <see cref="PauseAsync"/>.</summary>
    public Task ResumeAsync() => SignalAsync("CONT");

    private async Task SignalAsync(string signal)
    {
        if (process.HasExited) return;
        using var kill = Process.Start("kill", [$"-{signal}", process.Id.ToString()]);
        await kill.WaitForExitAsync();
    }

    /// <summary>SIGTERM and wait for the orderly shutdown.</summary>
    public async Task StopAsync(TimeSpan? timeout = null)
    {
        if (process.HasExited) return;
        await SignalAsync("TERM");
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(30));
        await process.WaitForExitAsync(cts.Token);
    }

    public async ValueTask DisposeAsync()
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
        process.Dispose();
    }
}
