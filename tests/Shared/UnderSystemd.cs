using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Runtime.Versioning;
using System.Text;

namespace Presence.Tests.Shared;

/// <summary>
/// A program run as a Type=notify systemd unit runs it: .NET's systemd support speaks only when the process's parent
/// is systemd, so the program starts under a small shell script named <c>systemd</c> that stays its parent and
/// forwards SIGTERM, and NOTIFY_SOCKET names a datagram socket this class listens on, as systemd would.
/// Linked into each test project that needs it (tests/Shared is no project of its own).
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class UnderSystemd : IDisposable
{
    private readonly Socket notify;
    private readonly Process wrapper;
    private readonly StringBuilder output = new();

    private UnderSystemd(Socket notify, Process wrapper)
    {
        this.notify = notify;
        this.wrapper = wrapper;
    }

    /// <summary>What the program printed so far, for failure messages.</summary>
    public string Output
    {
        get
        {
            lock (output)
            {
                return output.ToString();
            }
        }
    }

    public static UnderSystemd Start(string directory, IEnumerable<string> command, Action<IDictionary<string, string?>>? environment = null)
    {
        Directory.CreateDirectory(directory);
        var socketPath = Path.Combine(directory, "notify");
        var notify = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        notify.Bind(new UnixDomainSocketEndPoint(socketPath));

        var script = Path.Combine(directory, "systemd");
        File.WriteAllText(script, "#!/bin/sh\n\"$@\" &\nchild=$!\ntrap 'kill -TERM $child' TERM\nwait $child\nwait $child\n");
        File.SetUnixFileMode(script, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);

        var start = new ProcessStartInfo(script) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in command)
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["NOTIFY_SOCKET"] = socketPath;
        environment?.Invoke(start.Environment);
        var running = new UnderSystemd(notify, Process.Start(start)!);
        running.wrapper.OutputDataReceived += (_, e) => running.Append(e.Data);
        running.wrapper.ErrorDataReceived += (_, e) => running.Append(e.Data);
        running.wrapper.BeginOutputReadLine();
        running.wrapper.BeginErrorReadLine();
        return running;
    }

    /// <summary>The next notification the program sends (e.g. READY=1), or a timeout that shows what it printed.</summary>
    public async Task<string> NextNotificationAsync(TimeSpan within)
    {
        var buffer = new byte[1024];
        using var timeout = new CancellationTokenSource(within);
        try
        {
            var length = await notify.ReceiveAsync(buffer, SocketFlags.None, timeout.Token);
            return Encoding.UTF8.GetString(buffer, 0, length).Trim();
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"nothing on NOTIFY_SOCKET within {within.TotalSeconds} s; the program said:\n{Output}");
        }
    }

    /// <summary>What `systemctl stop` does first: SIGTERM.</summary>
    public async Task StopAsync()
    {
        using (var term = Process.Start(new ProcessStartInfo("kill", ["-TERM", wrapper.Id.ToString(CultureInfo.InvariantCulture)]))!)
        {
            await term.WaitForExitAsync();
        }
    }

    public async Task WaitForExitAsync(TimeSpan within)
    {
        using var exited = new CancellationTokenSource(within);
        await wrapper.WaitForExitAsync(exited.Token);
    }

    public void Dispose()
    {
        if (!wrapper.HasExited)
        {
            wrapper.Kill(entireProcessTree: true);
        }

        wrapper.Dispose();
        notify.Dispose();
    }

    private void Append(string? line)
    {
        lock (output)
        {
            output.AppendLine(line);
        }
    }
}
