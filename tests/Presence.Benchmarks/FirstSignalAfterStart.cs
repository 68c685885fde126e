using System.Diagnostics;
using System.Buffers;
using System.Text;
using System.Text.Json;
using MQTTnet;
using MQTTnet.Protocol;
using Presence.Benchmarks.EndToEnd;

namespace Presence.Benchmarks;

/// <summary>
/// Issue 11 §5, "first signal after start within 50 ms of a warm one", measured black-box: the server as its own
/// process (these binaries: run with -c Release), its private PostgreSQL (embedded, fsync on) and its embedded
/// broker, exactly as `dotnet run --project src/Presence.Server` runs them. Each run starts the server on a schema
/// nobody used yet (a fresh database as far as Marten and Wolverine can tell), waits for /health to say ready,
/// then times a console login → alice's retained state on MQTT showing the new seat: the first one, then warm ones.
/// </summary>
/// <remarks>dotnet run -c Release --project tests/Presence.Benchmarks -- first-signal [--runs 5] [--warm 30]</remarks>
public static class FirstSignalAfterStart
{
    public const string Verb = "first-signal";

    public static async Task<int> RunAsync(string[] args)
    {
        var runs = Option(args, "--runs", 5);
        var warmCount = Option(args, "--warm", 30);
        var scratch = Path.Combine(Path.GetTempPath(), $"presence-first-signal-{Guid.NewGuid():N}");
        Directory.CreateDirectory(scratch);
        var server = Path.Combine(AppContext.BaseDirectory, "Presence.Server.dll");
        Console.WriteLine($"first signal after start vs warm: {runs} runs, {warmCount} warm signals each; server {server}; scratch {scratch}");

        var firsts = new List<double>();
        var warms = new List<double>();
        var readies = new List<double>();
        try
        {
            for (var run = 1; run <= runs; run++)
            {
                var (ready, first, warm) = await StartedAsync(server, scratch, run, warmCount);
                readies.Add(ready);
                firsts.Add(first);
                warms.AddRange(warm);
                Console.WriteLine($"  run {run}: ready after {ready:0} ms; first signal {first:0.0} ms; warm p50 {Percentile(warm, 50):0.0} ms");
            }
        }
        finally
        {
            Directory.Delete(scratch, recursive: true);
        }

        var warmP50 = Percentile(warms, 50);
        Console.WriteLine();
        Console.WriteLine("| measure | p50 ms | p95 ms | max ms | n |");
        Console.WriteLine("|---|---|---|---|---|");
        Console.WriteLine($"| start → /health ready | {Percentile(readies, 50):0} | {Percentile(readies, 95):0} | {readies.Max():0} | {readies.Count} |");
        Console.WriteLine($"| first login after ready → state | {Percentile(firsts, 50):0.0} | {Percentile(firsts, 95):0.0} | {firsts.Max():0.0} | {firsts.Count} |");
        Console.WriteLine($"| warm login → state | {warmP50:0.0} | {Percentile(warms, 95):0.0} | {warms.Max():0.0} | {warms.Count} |");
        Console.WriteLine($"first minus warm p50: {Percentile(firsts, 50) - warmP50:0.0} ms (target ≤ 50 ms); worst first minus warm p50: {firsts.Max() - warmP50:0.0} ms");
        return 0;
    }

    private static async Task<(double Ready, double First, List<double> Warm)> OneRunAsync(string server, string scratch, int run, int warmCount)
    {
        var (httpPort, mqttPort, tlsPort) = BenchServer.FreePorts();
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(server);
        foreach (var arg in new[]
                 {
                     $"--Database:DataDirectory={Path.Combine(scratch, "pg")}",
                     // A schema nobody used: Marten and Wolverine create everything, as on a fresh install.
                     $"--Database:Schema=run{run}",
                     $"--Urls=http://127.0.0.1:{httpPort}",
                     $"--Mqtt:Port={mqttPort}",
                     $"--Mqtt:Tls:Port={tlsPort}",
                     $"--Mqtt:Tls:CertificateFile={Path.Combine(scratch, "broker.pfx")}",
                     $"--Signing:PublicKeyFile={Path.Combine(scratch, "server-key.pub")}",
                     "--Logging:LogLevel:Default=Warning",
                 })
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment.Remove("ConnectionStrings__Presence");
        start.Environment.Remove("PRESENCE_CONFIG");
        var output = new StringBuilder();
        using var process = Process.Start(start)!;
        process.OutputDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var clock = Stopwatch.StartNew();
        try
        {
            await WaitReadyAsync(httpPort, process, output);
            var ready = clock.Elapsed.TotalMilliseconds;

            await using var watcher = await Mqtt.ConnectAsync(mqttPort, "presence-cli", "presence/users/alice/state");
            var seats = new Dictionary<string, Mqtt>();
            foreach (var seat in new[] { "imac", "kids" })
            {
                seats[seat] = await Mqtt.ConnectAsync(mqttPort, seat);
            }

            try
            {
                var first = await LoginAsync(watcher, seats["imac"], "imac", $"first-{run}");
                var warm = new List<double>();
                for (var i = 0; i < warmCount; i++)
                {
                    var seat = i % 2 == 0 ? "kids" : "imac";
                    warm.Add(await LoginAsync(watcher, seats[seat], seat, $"warm-{run}-{i}"));
                }

                return (ready, first, warm);
            }
            finally
            {
                foreach (var client in seats.Values)
                {
                    await client.DisposeAsync();
                }
            }
        }
        finally
        {
            // SIGTERM: the server stops its private PostgreSQL on the way out, so the next run can start it again.
            Process.Start("kill", ["-TERM", process.Id.ToString()]).WaitForExit();
            if (!process.WaitForExit(TimeSpan.FromSeconds(60)))
            {
                process.Kill(entireProcessTree: true);
            }
        }
    }

    /// <summary>
    /// One run, started again on other ports when a port picked free was taken before the server listened on it (a
    /// free port is an ephemeral one, which any outgoing connection of this machine may take meanwhile): a start that
    /// never happened measures nothing, and ended the whole benchmark.
    /// </summary>
    private static async Task<(double Ready, double First, List<double> Warm)> StartedAsync(string server, string scratch, int run, int warmCount)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await OneRunAsync(server, scratch, run, warmCount);
            }
            catch (InvalidOperationException e) when (attempt < 3 && e.Message.Contains("Address already in use", StringComparison.Ordinal))
            {
                Console.WriteLine($"  run {run}: a port was taken before the server could listen on it; starting again on others");
            }
        }
    }

    /// <summary>A console login at <paramref name="seat"/>; the time until alice's state says she sits there.</summary>
    private static async Task<double> LoginAsync(Mqtt watcher, Mqtt computer, string seat, string id)
    {
        var seen = watcher.Next(m => m.GetProperty("seat_host").GetString() == seat);
        var sent = Stopwatch.GetTimestamp();
        await computer.PublishAsync($"presence/hosts/{seat}/signals/session", $$"""{"id":"{{id}}","user":"alice","state":"login","seat":"console"}""");
        var arrived = await seen.WaitAsync(TimeSpan.FromSeconds(30));
        return Stopwatch.GetElapsedTime(sent, arrived).TotalMilliseconds;
    }

    private static async Task WaitReadyAsync(int httpPort, Process process, StringBuilder output)
    {
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{httpPort}"), Timeout = TimeSpan.FromSeconds(5) };
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(120);
        while (DateTime.UtcNow < deadline && !process.HasExited)
        {
            try
            {
                if ((await http.GetAsync("/health")).IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                // Not listening yet, or too busy starting to answer within the client's timeout.
            }

            await Task.Delay(20);
        }

        lock (output)
        {
            throw new InvalidOperationException($"the server never said ready:\n{output}");
        }
    }

    private static int Option(string[] args, string name, int fallback)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1]) : fallback;
    }

    private static double Percentile(IReadOnlyList<double> values, int percent)
    {
        var sorted = values.Order().ToList();
        return sorted[Math.Clamp((int)Math.Ceiling(percent / 100.0 * sorted.Count) - 1, 0, sorted.Count - 1)];
    }

    /// <summary>An MQTT client as one identity (on the loopback broker a never-enrolled one needs no password).</summary>
    private sealed class Mqtt : IAsyncDisposable
    {
        private readonly IMqttClient client = new MqttClientFactory().CreateMqttClient();
        private readonly object gate = new();
        private (Func<JsonElement, bool> Match, TaskCompletionSource<long> Seen)? waiting;

        private Mqtt()
        {
            client.ApplicationMessageReceivedAsync += e =>
            {
                var at = Stopwatch.GetTimestamp();
                lock (gate)
                {
                    if (waiting is { } w && w.Match(JsonDocument.Parse(e.ApplicationMessage.Payload.ToArray()).RootElement))
                    {
                        w.Seen.TrySetResult(at);
                        waiting = null;
                    }
                }

                return Task.CompletedTask;
            };
        }

        public static async Task<Mqtt> ConnectAsync(int port, string identity, params string[] subscriptions)
        {
            var mqtt = new Mqtt();
            await mqtt.client.ConnectAsync(new MqttClientOptionsBuilder()
                .WithTcpServer("127.0.0.1", port)
                .WithClientId($"bench-{identity}-{Guid.NewGuid():N}")
                .WithCredentials(identity, "")
                .WithProtocolVersion(MQTTnet.Formatter.MqttProtocolVersion.V500)
                .Build());
            foreach (var topic in subscriptions)
            {
                await mqtt.client.SubscribeAsync(topic, MqttQualityOfServiceLevel.AtLeastOnce);
            }

            return mqtt;
        }

        /// <summary>The arrival time of the next message that matches, from now on (retained ones seen earlier do not count).</summary>
        public Task<long> Next(Func<JsonElement, bool> match)
        {
            var seen = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
            lock (gate)
            {
                waiting = (match, seen);
            }

            return seen.Task;
        }

        public Task PublishAsync(string topic, string json) => client.PublishAsync(new MqttApplicationMessageBuilder()
            .WithTopic(topic).WithPayload(json).WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build());

        public async ValueTask DisposeAsync()
        {
            if (client.IsConnected)
            {
                await client.DisconnectAsync();
            }

            client.Dispose();
        }
    }
}
