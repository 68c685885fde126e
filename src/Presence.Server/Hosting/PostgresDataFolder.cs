using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Presence.Server.Hosting;

/// <summary>
/// What a private cluster's data folder tells without asking PostgreSQL: whether our postmaster still runs there, on
/// which port, and what its log said; plus a free loopback port for a new one.
/// </summary>
internal static class PostgresDataFolder
{
    public const string LogFileName = "postgresql.log";
    public const long MaxLogBytes = 10 * 1024 * 1024;

    public static bool IsOurPostmasterRunning(string dataDirectory)
    {
        var pid = ReadPostmasterPid(dataDirectory);
        if (pid is null)
            return false;
        try
        {
            using var process = Process.GetProcessById(pid.Value);
            if (process.HasExited || process.ProcessName is not ("postgres" or "postmaster"))
                return false;
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException)
        {
            return false;
        }

        // A postgres with that pid may serve another cluster (pids are reused after a reboot): the postmaster's
        // working folder is its data folder, and its lock file there is identical to ours only if it is ours.
        var theirs = $"/proc/{pid}/cwd/postmaster.pid";
        try
        {
            if (!Directory.Exists("/proc"))
                return true;
            return File.Exists(theirs) && File.ReadAllText(theirs) == File.ReadAllText(Path.Combine(dataDirectory, "postmaster.pid"));
        }
        catch (Exception e) when (e is UnauthorizedAccessException or IOException)
        {
            // Someone else's process: assume ours, and pg_ctl stop will say if it may not signal it.
            return true;
        }
    }

    public static int? ReadPostmasterPid(string dataDirectory)
    {
        try
        {
            using var reader = new StreamReader(Path.Combine(dataDirectory, "postmaster.pid"));
            return int.TryParse(reader.ReadLine()?.Trim(), out var pid) && pid > 0 ? pid : null;
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
    }

    // postmaster.pid: pid, data folder, start time, port, socket folder, listen address, shared memory key, status.
    public static int? ReadPostmasterPort(string dataDirectory)
    {
        try
        {
            var lines = File.ReadAllLines(Path.Combine(dataDirectory, "postmaster.pid"));
            return lines.Length > 3 && int.TryParse(lines[3].Trim(), out var port) && port is > 0 and <= IPEndPoint.MaxPort ? port : null;
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException or UnauthorizedAccessException or IOException)
        {
            return null;
        }
    }

    public static void RotateLog(string dataDirectory)
    {
        var logFile = Path.Combine(dataDirectory, LogFileName);
        if (LogLength(logFile) > MaxLogBytes)
            File.Move(logFile, logFile + ".1", overwrite: true);
    }

    public static long LogLength(string logFile) => File.Exists(logFile) ? new FileInfo(logFile).Length : 0;

    public static string ReadLog(string logFile, long from)
    {
        try
        {
            using var stream = new FileStream(logFile, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            stream.Seek(Math.Min(from, stream.Length), SeekOrigin.Begin);
            using var reader = new StreamReader(stream);
            return reader.ReadToEnd();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return "";
        }
    }

    public static string LogSection(string logFile, string log)
    {
        var tail = log.Split('\n', StringSplitOptions.RemoveEmptyEntries).TakeLast(30).ToArray();
        return tail.Length == 0 ? "" : $"{Environment.NewLine}--- end of {logFile} ---{Environment.NewLine}{string.Join(Environment.NewLine, tail)}";
    }

    public static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
