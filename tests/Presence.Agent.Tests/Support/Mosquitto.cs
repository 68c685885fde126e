using System.Diagnostics;

namespace Presence.Agent.Tests.Support;

/// <summary>
/// A real mosquitto (/usr/sbin/mosquitto, anonymous, on loopback and a free port), for one test; optionally with a
/// TLS listener beside the plain one.
/// </summary>
public sealed class Mosquitto : IAsyncDisposable
{
    public const string Binary = "/usr/sbin/mosquitto";

    private readonly Process process;
    private readonly string directory;

    private readonly System.Text.StringBuilder log = new();

    private Mosquitto(Process process, string directory, int port, int? tlsPort)
    {
        this.process = process;
        this.directory = directory;
        Port = port;
        TlsPort = tlsPort;
    }

    public int Port { get; }

    /// <summary>The TLS listener's port, when started with one.</summary>
    public int? TlsPort { get; }

    /// <summary>What mosquitto wrote so far (connections, TLS refusals), for a test's assertions and failure messages.</summary>
    public string Log
    {
        get
        {
            lock (log)
            {
                return log.ToString();
            }
        }
    }

    /// <summary>Returns once mosquitto has logged <paramref name="fragment"/>; the patience is a guard against hanging only.</summary>
    public async Task WaitForLogAsync(string fragment, string what)
    {
        var deadline = DateTime.UtcNow + Watcher.Patience;
        while (!Log.Contains(fragment, StringComparison.Ordinal))
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"waited {Watcher.Patience.TotalSeconds:0} s for mosquitto to log {what} ('{fragment}'); it logged:\n{Log}");
            }

            await Task.Delay(50);
        }
    }

    /// <summary>Returns once mosquitto says it is running.</summary>
    /// <param name="tls">A TLS listener (<see cref="Presence.Tests.Shared.TestCertificates.ForMosquitto"/>) beside the plain one.</param>
    public static async Task<Mosquitto> StartAsync(Presence.Tests.Shared.MosquittoTls? tls = null)
    {
        Assert.True(File.Exists(Binary), $"{Binary} is missing: install the mosquitto package");
        var directory = Directory.CreateTempSubdirectory("presence-mosquitto-").FullName;
        var port = TestBroker.FreePort();
        int? tlsPort = tls is null ? null : TestBroker.FreePort();
        var config = Path.Combine(directory, "mosquitto.conf");
        // As root mosquitto drops to the user `mosquitto`, which cannot read this test's private folders; `user root` keeps it as started.
        await File.WriteAllTextAsync(config, $"listener {port} 127.0.0.1\nallow_anonymous true\nlog_dest stderr\n" +
            (Environment.UserName == "root" ? "user root\n" : "") + tls?.Listener(tlsPort!.Value));
        var running = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var process = new Process { StartInfo = new ProcessStartInfo(Binary, ["-c", config]) { RedirectStandardError = true, RedirectStandardOutput = true } };
        var started = new Mosquitto(process, directory, port, tlsPort);
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (started.log)
                {
                    started.log.AppendLine(e.Data);
                }
            }

            if (e.Data?.Contains(" running", StringComparison.Ordinal) == true)
            {
                running.TrySetResult();
            }
        };
        process.Start();
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        await running.Task.WaitAsync(Watcher.Patience);
        return started;
    }

    public async ValueTask DisposeAsync()
    {
        process.Kill();
        await process.WaitForExitAsync();
        process.Dispose();
        Directory.Delete(directory, recursive: true);
    }
}
