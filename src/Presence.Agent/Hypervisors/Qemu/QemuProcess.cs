using System.Diagnostics;

namespace Presence.Agent.Hypervisors.Qemu;

/// <summary>
/// One qemu child process. Its stderr is kept (the last lines) because that is where qemu explains why it would
/// not start or why an incoming migration failed — QMP is gone by then.
/// </summary>
internal sealed class QemuProcess
{
    private const int KeptLines = 20;
    private readonly Process process;
    private readonly Queue<string> stderr = new();

    private QemuProcess(Process process)
    {
        this.process = process;
    }

    public int Id => process.Id;

    public bool HasExited => process.HasExited;

    public event Action? Exited;

    public string ErrorOutput
    {
        get
        {
            lock (stderr)
            {
                return string.Join(" | ", stderr);
            }
        }
    }

    public static QemuProcess Start(string binary, IEnumerable<string> arguments)
    {
        var info = new ProcessStartInfo(binary)
        {
            UseShellExecute = false,
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            RedirectStandardInput = true,
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var started = new QemuProcess(process);
        process.ErrorDataReceived += (_, e) => started.Keep(e.Data);
        process.OutputDataReceived += (_, _) => { };
        process.Exited += (_, _) => started.Exited?.Invoke();
        try
        {
            process.Start();
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            process.Dispose();
            throw new HypervisorException($"cannot start {binary}: {e.Message}", e);
        }

        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        return started;
    }

    /// <summary>Ends it at once, with no chance to save anything: for processes that hold no VM worth keeping.</summary>
    public async Task KillAsync()
    {
        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }

            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
        }
        catch (Exception e) when (e is InvalidOperationException or TimeoutException or System.ComponentModel.Win32Exception)
        {
            // Gone already, or not ours to wait for.
        }
    }

    public async Task<bool> WaitForExitAsync(TimeSpan timeout)
    {
        try
        {
            await process.WaitForExitAsync().WaitAsync(timeout);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }

    private void Keep(string? line)
    {
        if (string.IsNullOrWhiteSpace(line))
        {
            return;
        }

        lock (stderr)
        {
            stderr.Enqueue(line.Trim());
            while (stderr.Count > KeptLines)
            {
                stderr.Dequeue();
            }
        }
    }
}
