using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Presence.Agent.Power;

/// <summary>
/// Keeps this computer awake while a VM is on its way here (`inhibit_sleep` on prepare_incoming): a laptop whose
/// lid is closing must not sleep with its user's session half-arrived. Held per VM, released when the VM runs here
/// or the incoming move is aborted. Today the hold is recorded and logged; taking logind's `Inhibit` lock
/// (what `systemd-inhibit --what=sleep` does) comes with the Linux sensors.
/// </summary>
public sealed class SleepInhibitor(ILogger logger)
{
    private readonly ConcurrentDictionary<string, DateTimeOffset> holds = new(StringComparer.Ordinal);

    /// <summary>The VMs this computer is staying awake for.</summary>
    public IReadOnlyCollection<string> HeldFor => holds.Keys.ToList();

    public bool IsHeld => !holds.IsEmpty;

    public void Hold(string vm)
    {
        if (holds.TryAdd(vm, DateTimeOffset.UtcNow))
        {
            logger.LogInformation("Holding a sleep inhibitor until {Vm} has arrived", vm);
        }
    }

    public void Release(string vm)
    {
        if (holds.TryRemove(vm, out var since))
        {
            logger.LogInformation("Released the sleep inhibitor for {Vm} after {Seconds:0.0} s", vm, (DateTimeOffset.UtcNow - since).TotalSeconds);
        }
    }
}
