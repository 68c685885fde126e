using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Presence.Server.Hosting;

namespace Presence.Benchmarks.EndToEnd;

/// <summary>
/// The server as its own OS process (<c>dotnet Presence.Server.dll</c>, the build this exe was built with), as
/// tests/Presence.Server.Tests/Infrastructure/ServerProcess does: its memory is its own, so its RSS can be read from
/// /proc, and nothing of the benchmark's own work (agents, publishers) runs inside it.
/// </summary>
public sealed class BenchServer : IAsyncDisposable
{
    private readonly Process process;
    private readonly StringBuilder output = new();

    private BenchServer(Process process, Uri baseAddress, int mqttPort, string directory)
    {
        this.process = process;
        BaseAddress = baseAddress;
        MqttPort = mqttPort;
        Directory = directory;
    }

    public Uri BaseAddress { get; }
    public int MqttPort { get; }
    public string Directory { get; }
    public int Pid => process.Id;

    /// <summary>Where the server writes the public key that agents on this computer read (the loopback first run).</summary>
    public static string ServerKeyFile(string directory) => Path.Combine(directory, "server-key.pub");

    public string Output { get { lock (output) return output.ToString(); } }

    /// <summary>Starts the server on <paramref name="connectionString"/> with its embedded broker, and waits for /health.</summary>
    public static async Task<BenchServer> StartAsync(string connectionString, string directory, string houseJson, TimeSpan healthTimeout)
    {
        System.IO.Directory.CreateDirectory(directory);
        var house = Path.Combine(directory, "house.json");
        await File.WriteAllTextAsync(house, houseJson);
        var (httpPort, mqttPort, tlsPort) = FreePorts();

        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(typeof(PresenceApp).Assembly.Location);
        foreach (var arg in new[]
                 {
                     "--config", house,
                     $"--Urls=http://127.0.0.1:{httpPort}",
                     "--Mqtt:Host=127.0.0.1",
                     $"--Mqtt:Port={mqttPort}",
                     "--Mqtt:NodeName=bench",
                     "--Mqtt:Broker=Embedded",
                     $"--Signing:PublicKeyFile={ServerKeyFile(directory)}",
                     $"--Mqtt:Tls:Port={tlsPort}",
                     $"--Mqtt:Tls:CertificateFile={Path.Combine(directory, "mqtt-broker.pfx")}",
                     // What a house runs: information and up, no debug logging paid per message.
                     "--Logging:LogLevel:Default=Warning",
                     $"--ConnectionStrings:Presence={connectionString}",
                 })
        {
            start.ArgumentList.Add(arg);
        }

        // The connection string goes on the command line; an inherited one must not win.
        start.Environment.Remove("ConnectionStrings__Presence");
        start.Environment["DOTNET_ENVIRONMENT"] = "Production";
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";

        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        var server = new BenchServer(process, new Uri($"http://127.0.0.1:{httpPort}"), mqttPort, directory);
        process.OutputDataReceived += (_, e) => server.Append(e.Data);
        process.ErrorDataReceived += (_, e) => server.Append(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await server.WaitHealthyAsync(healthTimeout);
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }

        return server;
    }

    /// <summary>Resident memory of the server process now, and its peak, in MB (/proc/&lt;pid&gt;/status VmRSS, VmHWM).</summary>
    public (double Rss, double Peak) Memory()
    {
        if (process.HasExited)
        {
            throw new InvalidOperationException($"the server exited with {process.ExitCode}:\n{Output}");
        }

        double rss = double.NaN, peak = double.NaN;
        foreach (var line in File.ReadLines($"/proc/{process.Id}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal)) rss = Kilobytes(line) / 1024.0;
            if (line.StartsWith("VmHWM:", StringComparison.Ordinal)) peak = Kilobytes(line) / 1024.0;
        }

        return (rss, peak);
    }

    private static long Kilobytes(string line) =>
        long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);

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

            await Task.Delay(TimeSpan.FromMilliseconds(100));
        }

        throw new TimeoutException($"The server's /health did not answer 200 within {timeout}:\n{Output}");
    }

    /// <summary>SIGTERM and the orderly shutdown; killed if it takes longer than the timeout.</summary>
    public async ValueTask DisposeAsync()
    {
        if (!process.HasExited)
        {
            using (var term = Process.Start("kill", ["-TERM", process.Id.ToString(CultureInfo.InvariantCulture)]))
            {
                await term.WaitForExitAsync();
            }

            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            try
            {
                await process.WaitForExitAsync(cts.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync();
            }
        }

        process.Dispose();
    }

    public static int FreePort() => FreePorts().Http;

    /// <summary>
    /// Three loopback ports free now and different from each other: each is held until all are chosen, as the kernel
    /// may hand a port just let go to the next ask (a run's HTTP and MQTT once got the same one and the server failed
    /// to start).
    /// </summary>
    public static (int Http, int Mqtt, int Tls) FreePorts()
    {
        var listeners = Enumerable.Range(0, 3).Select(_ => new TcpListener(IPAddress.Loopback, 0)).ToList();
        try
        {
            listeners.ForEach(l => l.Start());
            var ports = listeners.Select(l => ((IPEndPoint)l.LocalEndpoint).Port).ToList();
            return (ports[0], ports[1], ports[2]);
        }
        finally
        {
            listeners.ForEach(l => l.Stop());
        }
    }
}
