using System.Diagnostics;

namespace Presence.Agent.Tests.Support;

/// <summary>A real mosquitto (/usr/sbin/mosquitto, anonymous, on loopback and a free port), for one test.</summary>
public sealed class Mosquitto : IAsyncDisposable
{
    public const string Binary = "/usr/sbin/mosquitto";

    private readonly Process process;
    private readonly string directory;

    private Mosquitto(Process process, string directory, int port)
    {
        this.process = process;
        this.directory = directory;
        Port = port;
    }

    public int Port { get; }

    /// <summary>Returns once mosquitto says it is running.</summary>
    public static async Task<Mosquitto> StartAsync()
    {
        Assert.True(File.Exists(Binary), $"{Binary} is missing: install the mosquitto package");
        var directory = Directory.CreateTempSubdirectory("presence-mosquitto-").FullName;
        var port = TestBroker.FreePort();
        var config = Path.Combine(directory, "mosquitto.conf");
        await File.WriteAllTextAsync(config, $"listener {port} 127.0.0.1\nallow_anonymous true\nlog_dest stderr\n");
        var running = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var process = new Process { StartInfo = new ProcessStartInfo(Binary, ["-c", config]) { RedirectStandardError = true, RedirectStandardOutput = true } };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data?.Contains(" running", StringComparison.Ordinal) == true)
            {
                running.TrySetResult();
            }
        };
        process.Start();
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        await running.Task.WaitAsync(Watcher.Patience);
        return new Mosquitto(process, directory, port);
    }

    public async ValueTask DisposeAsync()
    {
        process.Kill();
        await process.WaitForExitAsync();
        process.Dispose();
        Directory.Delete(directory, recursive: true);
    }
}
