using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;

namespace Presence.Server.Hosting;

internal sealed record CommandResult(string CommandLine, int ExitCode, string Output)
{
    public bool Succeeded => ExitCode == 0;
}

/// <summary>
/// Runs the PostgreSQL programs, as the <c>postgres</c> user when we are root (postgres refuses to run as root).
/// </summary>
internal sealed class PostgresCommandRunner
{
    public const string ServiceUser = "postgres";

    private static readonly string[] RunuserCandidates = ["/usr/sbin/runuser", "/sbin/runuser", "/usr/bin/runuser", "/bin/runuser"];

    private readonly string? _runuser;

    private PostgresCommandRunner(bool asServiceUser, string? runuser)
    {
        AsServiceUser = asServiceUser;
        _runuser = runuser;
    }

    /// <summary>True when commands are switched to the <c>postgres</c> user.</summary>
    public bool AsServiceUser { get; }

    public static PostgresCommandRunner ForCurrentUser() =>
        IsRoot() ? new PostgresCommandRunner(true, RunuserCandidates.FirstOrDefault(File.Exists)) : new PostgresCommandRunner(false, null);

    public static bool IsRoot() => !OperatingSystem.IsWindows() && geteuid() == 0;

    [DllImport("libc", SetLastError = false)]
    private static extern uint geteuid();

    /// <summary>Runs a PostgreSQL program as the user PostgreSQL runs as.</summary>
    public Task<CommandResult> RunAsPostgresAsync(string file, IReadOnlyList<string> args, bool check = true, CancellationToken ct = default)
    {
        if (!AsServiceUser)
            return RunAsync(file, args, check, ct);
        if (_runuser is not null)
            return RunAsync(_runuser, ["-u", ServiceUser, "--", file, .. args], check, ct);
        // su without a login shell keeps our environment, like runuser does.
        var command = string.Join(' ', new[] { file }.Concat(args).Select(ShellQuote));
        return RunAsync("su", ["-s", "/bin/sh", "-c", command, ServiceUser], check, ct);
    }

    /// <summary>Runs a program as ourselves; a non-zero exit throws with the command line and its output when <paramref name="check"/>.</summary>
    public static async Task<CommandResult> RunAsync(string file, IReadOnlyList<string> args, bool check = true, CancellationToken ct = default)
    {
        var psi = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            // The postgres user cannot always read our working folder (/root), and initdb and pg_ctl give up when
            // they cannot find their current directory.
            WorkingDirectory = Path.GetPathRoot(Path.GetTempPath()) ?? "/",
        };
        foreach (var arg in args)
            psi.ArgumentList.Add(arg);
        // English, ASCII messages whatever the host's locale, and no surprises from an unknown one.
        psi.Environment["LC_ALL"] = "C";

        var commandLine = string.Join(' ', new[] { file }.Concat(args).Select(ShellQuote));
        var output = new StringBuilder();
        void Append(string? line)
        {
            if (line is null) return;
            lock (output) output.AppendLine(line);
        }

        using var process = new Process { StartInfo = psi };
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        try
        {
            process.Start();
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or FileNotFoundException)
        {
            throw new EmbeddedPostgresException($"Could not run `{commandLine}`: {e.Message}", e);
        }
        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await process.WaitForExitAsync(ct).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            try { process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            throw;
        }

        string text;
        lock (output) text = output.ToString().TrimEnd();
        var result = new CommandResult(commandLine, process.ExitCode, text);
        if (check && !result.Succeeded)
            throw new EmbeddedPostgresException(Describe(result));
        return result;
    }

    public static string Describe(CommandResult result) =>
        $"`{result.CommandLine}` exited with code {result.ExitCode}" + (result.Output.Length > 0 ? ":" + Environment.NewLine + result.Output : ".");

    /// <summary>Quotes one word for /bin/sh.</summary>
    public static string ShellQuote(string word) =>
        word.Length > 0 && word.All(c => char.IsAsciiLetterOrDigit(c) || "-_./=:,+@%".Contains(c))
            ? word
            : "'" + word.Replace("'", "'\\''") + "'";
}
