using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Presence.Agent.Processes;

namespace Presence.Agent.Power;

/// <summary>
/// Keeps this computer awake while a VM is on its way here (`inhibit_sleep` on prepare_incoming): a laptop whose
/// lid is closing must not sleep with its user's session half-arrived. Held per VM, released when the VM runs here
/// or the incoming move is aborted. On Linux with systemd each hold is a <c>systemd-inhibit … sleep infinity</c>
/// holding logind's block lock on sleep and on the lid switch, ended on release; where there is no
/// systemd-inhibit (or logind refuses the lock) a log line says the computer may sleep regardless.
/// </summary>
public sealed class SleepInhibitor
{
    public const string Program = "systemd-inhibit";

    private readonly ConcurrentDictionary<string, Inhibition> holds = new(StringComparer.Ordinal);
    private readonly ILogger logger;
    private readonly ICommandRunner runner;
    private readonly bool available;

    /// <param name="runner">Runs systemd-inhibit; the real process runner unless a test records the calls.</param>
    /// <param name="linux">Whether this is Linux; the running system's answer unless a test says otherwise.</param>
    public SleepInhibitor(ILogger logger, ICommandRunner? runner = null, bool? linux = null)
    {
        this.logger = logger;
        this.runner = runner ?? ProcessRunner.Instance;
        available = (linux ?? OperatingSystem.IsLinux()) && this.runner.Exists(Program);
    }

    /// <summary>The VMs this computer is staying awake for.</summary>
    public IReadOnlyCollection<string> HeldFor => holds.Keys.ToList();

    public bool IsHeld => !holds.IsEmpty;

    /// <summary>What <see cref="Hold"/> runs for <paramref name="vm"/>.</summary>
    public static IReadOnlyList<string> Arguments(string vm) =>
        ["--what=sleep:handle-lid-switch", "--who=presence", $"--why={vm} is arriving", "--mode=block", "sleep", "infinity"];

    public void Hold(string vm)
    {
        var hold = new Inhibition(DateTimeOffset.UtcNow);
        if (!holds.TryAdd(vm, hold))
        {
            return;
        }

        if (!available)
        {
            logger.LogInformation("Staying awake for {Vm} is only recorded: this computer has no {Program} to stop it sleeping", vm, Program);
            return;
        }

        try
        {
            hold.Process = runner.Start(Program, Arguments(vm));
            logger.LogInformation("Holding a sleep inhibitor until {Vm} has arrived", vm);
            _ = WatchAsync(vm, hold);
        }
        catch (ProgramNotFoundException e)
        {
            logger.LogInformation("Staying awake for {Vm} is only recorded: {Reason}", vm, e.Message);
        }
    }

    public void Release(string vm)
    {
        if (!holds.TryRemove(vm, out var hold))
        {
            return;
        }

        if (hold.Process is { } process)
        {
            _ = process.DisposeAsync().AsTask();
        }

        logger.LogInformation("Released the sleep inhibitor for {Vm} after {Seconds:0.0} s", vm, (DateTimeOffset.UtcNow - hold.Since).TotalSeconds);
    }

    /// <summary>systemd-inhibit ending while still held means logind refused or dropped the lock: say so once.</summary>
    private async Task WatchAsync(string vm, Inhibition hold)
    {
        var ended = await hold.Process!.Exited;
        if (holds.TryGetValue(vm, out var current) && ReferenceEquals(current, hold))
        {
            logger.LogWarning("{Program} for {Vm} ended (exit {Code}: {Error}); this computer may sleep before {Vm} has arrived",
                Program, vm, ended.ExitCode, ended.StandardError.Trim(), vm);
        }
    }

    private sealed class Inhibition(DateTimeOffset since)
    {
        public DateTimeOffset Since { get; } = since;
        public IRunningProgram? Process { get; set; }
    }
}
