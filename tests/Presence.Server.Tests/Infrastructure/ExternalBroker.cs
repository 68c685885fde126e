using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;

namespace Presence.Server.Tests.Infrastructure;

/// <summary>
/// A real mosquitto (/usr/sbin/mosquitto, as .ci/run installs it) on a free loopback port, configured as a house
/// should run it: no anonymous clients, a password per identity, and the ACL shipped in integrations/mosquitto/acl.
/// It outlives server restarts and keeps persistent sessions, so QoS 1 messages wait for a server that is away; it
/// can itself be stopped and started again on the same port and data.
/// </summary>
public sealed class ExternalBroker : IAsyncDisposable
{
    public const string Binary = "/usr/sbin/mosquitto";

    /// <summary>The identities the shipped ACL names, and the computers of <see cref="TestHouse"/>.</summary>
    public static readonly IReadOnlyList<string> Identities = ["presence-server", "homeassistant", "presence-cli", "basement", "imac", "laptop"];

    /// <summary>
    /// mosquitto keeps at most 1000 QoS 1 messages per client by default and silently drops the rest: a server that
    /// is away or behind loses signals (the broker-restart drill lost exactly half of 2000). A house's broker needs
    /// room for everything its computers say while the server is away.
    /// </summary>
    public const int MaxQueuedMessages = 100_000;

    private readonly string directory;
    private readonly Dictionary<string, string> passwords;
    private readonly StringBuilder log = new();
    private Process? process;

    private ExternalBroker(string directory, int port, int? tlsPort, Dictionary<string, string> passwords)
    {
        this.directory = directory;
        this.passwords = passwords;
        Port = port;
        TlsPort = tlsPort;
    }

    public int Port { get; }

    /// <summary>The TLS listener's port, when started with one; the same identities, passwords and ACL hold there.</summary>
    public int? TlsPort { get; }

    /// <summary>What mosquitto wrote since it was first started, for a failing test's message.</summary>
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

    public string PasswordOf(string identity) => passwords[identity];

    /// <summary>The server's login at this broker, for <see cref="TestServer.StartAsync"/>.</summary>
    public (string User, string Password) ServerLogin => ("presence-server", passwords["presence-server"]);

    /// <param name="open">
    /// A misconfigured (or compromised) broker: anyone may connect and publish anywhere, so only what the server and
    /// the agents check themselves stands between a forger and a VM.
    /// </param>
    /// <param name="tls">A second listener, with TLS (<see cref="TestCertificates.ForMosquitto"/>), beside the plain one.</param>
    /// <param name="deliveries">Log every PUBLISH mosquitto sends (its debug lines), for a drill that counts them.</param>
    public static async Task<ExternalBroker> StartAsync(bool open = false, Presence.Tests.Shared.MosquittoTls? tls = null, bool deliveries = false)
    {
        if (!File.Exists(Binary))
        {
            throw new InvalidOperationException($"{Binary} is missing: install mosquitto (apt-get install mosquitto; .ci/run does)");
        }

        var directory = PostgresCluster.NewScratchDirectory("mosquitto");
        Directory.CreateDirectory(directory);
        var passwords = Identities.ToDictionary(i => i, _ => Convert.ToHexString(RandomNumberGenerator.GetBytes(12)));
        await WritePasswordFileAsync(Path.Combine(directory, "passwords"), passwords);
        File.Copy(Repository.PathOf("integrations", "mosquitto", "acl"), Path.Combine(directory, "acl"));
        var port = Ports.Free();
        int? tlsPort = tls is null ? null : Ports.Free();
        await File.WriteAllTextAsync(Path.Combine(directory, "mosquitto.conf"), $"""
            listener {port} 127.0.0.1
            {(open ? "allow_anonymous true" : $"allow_anonymous false\npassword_file {directory}/passwords\nacl_file {directory}/acl")}
            persistence true
            persistence_location {directory}/
            max_queued_messages {MaxQueuedMessages}
            log_dest stderr
            log_type error
            log_type warning
            log_type notice
            log_type information
            {(deliveries ? "log_type debug" : "")}
            {RunAs()}

            {tls?.Listener(tlsPort!.Value)}
            """);

        var broker = new ExternalBroker(directory, port, tlsPort, passwords);
        // A test host that ends without disposing must not leave a broker behind.
        AppDomain.CurrentDomain.ProcessExit += broker.KillOnExit;
        await broker.StartAgainAsync();
        return broker;
    }

    /// <summary>(Re)starts mosquitto on the same port, password file, ACL and persisted sessions.</summary>
    public async Task StartAgainAsync()
    {
        if (process is { HasExited: false })
        {
            throw new InvalidOperationException("mosquitto is already running");
        }

        var running = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var started = new Process
        {
            StartInfo = new ProcessStartInfo(Binary, ["-c", Path.Combine(directory, "mosquitto.conf")])
            {
                RedirectStandardError = true,
                RedirectStandardOutput = true,
                UseShellExecute = false,
            },
            EnableRaisingEvents = true,
        };
        DataReceivedEventHandler record = (_, e) =>
        {
            if (e.Data is null)
            {
                return;
            }

            lock (log)
            {
                log.AppendLine(e.Data);
            }

            // Logged once the listener is open: from here on a client can connect.
            if (e.Data.Contains(" running", StringComparison.Ordinal))
            {
                running.TrySetResult();
            }
        };
        started.ErrorDataReceived += record;
        started.OutputDataReceived += record;
        started.Exited += (_, _) => running.TrySetException(new InvalidOperationException($"mosquitto ended at start:\n{Log}"));
        started.Start();
        started.BeginErrorReadLine();
        started.BeginOutputReadLine();
        process = started;
        await running.Task.WaitAsync(TimeSpan.FromSeconds(20));
    }

    /// <summary>
    /// Stops mosquitto as a service manager would (SIGTERM): it saves its persistence database (sessions and queued
    /// QoS 1 messages) before it ends. <paramref name="kill"/> ends it with SIGKILL instead, saving nothing.
    /// </summary>
    public Task StopAsync(bool kill = false) => SignalStop(kill);

    /// <summary>Sends the signal of <see cref="StopAsync"/> and returns once it is delivered; the task ends when mosquitto has.</summary>
    public Task SignalStop(bool kill = false)
    {
        if (process is not { HasExited: false } running)
        {
            return Task.CompletedTask;
        }

        if (kill)
        {
            running.Kill();
        }
        else
        {
            Signal(running.Id, "TERM");
        }

        return running.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(20));
    }

    /// <summary>
    /// Freezes mosquitto (SIGSTOP): connections stay open and what clients send is taken into the kernel's buffers,
    /// but nothing is answered, so every publish waits for its PUBACK until mosquitto is stopped or killed.
    /// </summary>
    public void Freeze()
    {
        if (process is not { HasExited: false } running)
        {
            throw new InvalidOperationException("mosquitto is not running");
        }

        Signal(running.Id, "STOP");
    }

    public async ValueTask DisposeAsync()
    {
        AppDomain.CurrentDomain.ProcessExit -= KillOnExit;
        await StopAsync(kill: true);
        process?.Dispose();
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
            // The run's folder goes at the end of the run anyway.
        }
    }

    private void KillOnExit(object? sender, EventArgs e)
    {
        try
        {
            process?.Kill();
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
    }

    /// <summary>mosquitto's own hash format, made by mosquitto_passwd from a plain "user:password" file.</summary>
    private static async Task WritePasswordFileAsync(string path, Dictionary<string, string> passwords)
    {
        await File.WriteAllLinesAsync(path, passwords.Select(p => $"{p.Key}:{p.Value}"));
        var (code, output) = await RunAsync("mosquitto_passwd", "-U", path);
        if (code != 0)
        {
            throw new InvalidOperationException($"mosquitto_passwd -U failed ({code}): {output}");
        }
    }

    /// <summary>
    /// As root mosquitto drops to the user `mosquitto`, which cannot read this run's files; `user root` keeps it
    /// as it was started. As any other user the setting has no effect, so it is written only for root.
    /// </summary>
    private static string RunAs() => Environment.UserName == "root" ? "user root" : "";

    private static void Signal(int pid, string signal)
    {
        using var kill = Process.Start(new ProcessStartInfo("kill", ["-" + signal, pid.ToString(System.Globalization.CultureInfo.InvariantCulture)]) { UseShellExecute = false })!;
        kill.WaitForExit();
    }

    private static async Task<(int Code, string Output)> RunAsync(string file, params string[] args)
    {
        using var run = Process.Start(new ProcessStartInfo(file, args)
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        })!;
        var output = await run.StandardOutput.ReadToEndAsync() + await run.StandardError.ReadToEndAsync();
        await run.WaitForExitAsync();
        return (run.ExitCode, output);
    }
}
