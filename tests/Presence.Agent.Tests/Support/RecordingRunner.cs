using System.Collections.Concurrent;
using Presence.Agent.Processes;

namespace Presence.Agent.Tests.Support;

/// <summary>
/// Stands in for virsh, loginctl, nmcli and systemd-inhibit: records every command line and answers it with
/// what <see cref="Answer"/> says, captured output of the real programs in the tests that use it.
/// </summary>
public sealed class RecordingRunner : ICommandRunner
{
    private readonly ConcurrentQueue<string> commands = new();

    /// <summary>The command lines run so far, program first, arguments quoted when they hold a space.</summary>
    public IReadOnlyList<string> Commands => commands.ToList();

    /// <summary>Answers one command line; the default says the command is unknown, as a failing program would.</summary>
    public Func<string, CancellationToken, Task<CommandResult>> Answer { get; set; } =
        (line, _) => Task.FromResult(new CommandResult(1, "", $"error: the test did not expect '{line}'"));

    /// <summary>Programs <see cref="Exists"/> says are installed; <see cref="Start"/> refuses the rest.</summary>
    public HashSet<string> Installed { get; } = [];

    /// <summary>Programs started with <see cref="Start"/>, still running or not.</summary>
    public List<FakeProgram> Started { get; } = [];

    public static CommandResult Ok(string stdout = "") => new(0, stdout, "");

    public static CommandResult Error(string stderr, int exitCode = 1) => new(exitCode, "", stderr);

    public static string Line(string program, IEnumerable<string> arguments) =>
        string.Join(' ', new[] { program }.Concat(arguments).Select(a => a.Contains(' ') ? $"\"{a}\"" : a));

    public Task<CommandResult> RunAsync(string program, IReadOnlyList<string> arguments, CancellationToken cancellationToken)
    {
        var line = Line(program, arguments);
        commands.Enqueue(line);
        return Answer(line, cancellationToken);
    }

    public IRunningProgram Start(string program, IReadOnlyList<string> arguments)
    {
        if (!Installed.Contains(program))
        {
            throw new ProgramNotFoundException(program);
        }

        var line = Line(program, arguments);
        commands.Enqueue(line);
        var started = new FakeProgram(line);
        lock (Started)
        {
            Started.Add(started);
        }

        return started;
    }

    public bool Exists(string program) => Installed.Contains(program);

    public sealed class FakeProgram(string line) : IRunningProgram
    {
        private readonly TaskCompletionSource<CommandResult> exited = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public string Line { get; } = line;

        public bool Killed { get; private set; }

        public Task<CommandResult> Exited => exited.Task;

        /// <summary>Ends the program on its own, as systemd-inhibit does when logind refuses the lock.</summary>
        public void Exit(int code, string stderr) => exited.TrySetResult(new CommandResult(code, "", stderr));

        public ValueTask DisposeAsync()
        {
            Killed = true;
            exited.TrySetResult(new CommandResult(137, "", ""));
            return ValueTask.CompletedTask;
        }
    }
}
