using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Presence.Agent.Displays;

/// <summary>
/// The screen of this computer: which VM displays it shows. In thin-client mode the VM runs elsewhere and only
/// its display is attached here. Only recorded for now; a viewer (remote-viewer, a SPICE client) will be
/// started and stopped here.
/// </summary>
internal sealed class DisplaySeat(ILogger logger)
{
    private readonly ConcurrentDictionary<string, string> attached = new(StringComparer.Ordinal);

    public IReadOnlyDictionary<string, string> Attached => new Dictionary<string, string>(attached, StringComparer.Ordinal);

    public void Attach(string vm, string displayUri)
    {
        attached[vm] = displayUri;
        logger.LogInformation("Display of {Vm} attached from {DisplayUri}", vm, displayUri);
    }

    /// <summary>Not an error when nothing is attached: detaching is idempotent.</summary>
    public void Detach(string vm)
    {
        if (attached.TryRemove(vm, out var uri))
        {
            logger.LogInformation("Display of {Vm} ({DisplayUri}) detached", vm, uri);
        }
    }
}
