using System.ComponentModel;
using System.Diagnostics;
using System.Text;

namespace Presence.Agent.Processes;

/// <summary>How a finished program ended.</summary>
public sealed record CommandResult(int ExitCode, string StandardOutput, string StandardError)
{
    public bool Succeeded => ExitCode == 0;
}

/// <summary>A program this computer does not have (not on PATH, or the configured path does not exist).</summary>
public sealed class ProgramNotFoundException(string program, Exception? inner = null)
    : Exception($"'{program}' is not installed or not on PATH", inner)
{
    public string Program { get; } = program;
}

/// <summary>A program left running (systemd-inhibit holding its lock); disposing it ends it and its children.</summary>
public interface IRunningProgram : IAsyncDisposable
{
    /// <summary>Completes when the program ends on its own (or is ended), with what it said on stderr.</summary>
    Task<CommandResult> Exited { get; }
}

/// <summary>
/// Runs the outside programs the agent depends on (virsh, loginctl, nmcli, systemd-inhibit). Everything goes
/// through this so that tests can record the exact command lines and answer them with captured output.
/// </summary>
public interface ICommandRunner
{
    /// <summary>Runs to completion; cancelling kills the program. Throws <see cref="ProgramNotFoundException"/>.</summary>
    Task<CommandResult> RunAsync(string program, IReadOnlyList<string> arguments, CancellationToken cancellationToken);

    /// <summary>Starts a program that is meant to keep running. Throws <see cref="ProgramNotFoundException"/>.</summary>
    IRunningProgram Start(string program, IReadOnlyList<string> arguments);

    /// <summary>Whether <paramref name="program"/> can be run: a path that exists, or a name found on PATH.</summary>
    bool Exists(string program);
}

/// <summary>The real thing: <see cref="Process"/> with stdout and stderr captured; a shell only sets stdin to /dev/null.</summary>
public sealed class ProcessRunner : ICommandRunner
{
    public static ProcessRunner Instance { get; } = new();

    public async Task<CommandResult> RunAsync(string program, IReadOnlyList<string> arguments, CancellationToken cancellationToken)
    {
        using var process = Create(program, arguments);
        StartOrThrow(process, program);
        var stdout = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
        var stderr = process.StandardError.ReadToEndAsync(CancellationToken.None);
        try
        {
            await process.WaitForExitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            Kill(process);
            throw;
        }

        return new CommandResult(process.ExitCode, await stdout, await stderr);
    }

    public IRunningProgram Start(string program, IReadOnlyList<string> arguments)
    {
        var process = Create(program, arguments);
        StartOrThrow(process, program);
        return new RunningProgram(process);
    }

    public bool Exists(string program)
    {
        if (program.Contains('/'))
        {
            return File.Exists(program);
        }

        var path = Environment.GetEnvironmentVariable("PATH") ?? "";
        return path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Any(directory => File.Exists(Path.Combine(directory, program)));
    }

    private static Process Create(string program, IReadOnlyList<string> arguments)
    {
        // stdin is /dev/null, always: virsh watches stdin for Ctrl-C while a save or migration job runs, and
        // given an empty pipe (what a test host or a service manager may hand down) it never notices the job
        // ended. .NET cannot point a child's stdin at a file, so a shell does it and then becomes the program.
        var info = new ProcessStartInfo("/bin/sh")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add("exec \"$0\" \"$@\" </dev/null");
        info.ArgumentList.Add(program);
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        // Parsed output must not depend on the agent's locale: virsh and nmcli translate their labels.
        info.Environment["LC_ALL"] = "C";
        return new Process { StartInfo = info };
    }

    private void StartOrThrow(Process process, string program)
    {
        // The shell would report a missing program only as exit code 127; say it the same way as ever.
        if (!Exists(program))
        {
            process.Dispose();
            throw new ProgramNotFoundException(program);
        }

        try
        {
            process.Start();
        }
        catch (Win32Exception e)
        {
            process.Dispose();
            throw new ProgramNotFoundException(program, e);
        }
    }

    private static void Kill(Process process)
    {
        try
        {
            // The whole tree: systemd-inhibit's `sleep infinity` would otherwise outlive it.
            process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
    }

    private sealed class RunningProgram : IRunningProgram
    {
        private readonly Process process;

        public RunningProgram(Process process)
        {
            this.process = process;
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            Exited = WaitAsync(stdout, stderr);
        }

        public Task<CommandResult> Exited { get; }

        public async ValueTask DisposeAsync()
        {
            Kill(process);
            await Exited;
            process.Dispose();
        }

        private async Task<CommandResult> WaitAsync(Task<string> stdout, Task<string> stderr)
        {
            await process.WaitForExitAsync();
            return new CommandResult(process.ExitCode, await stdout, await stderr);
        }
    }
}
