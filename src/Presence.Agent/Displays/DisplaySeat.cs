using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Presence.Agent.Hypervisors;
using Presence.Agent.Processes;

namespace Presence.Agent.Displays;

/// <summary>
/// The screen of this computer: which VM displays it shows. In thin-client mode the VM runs elsewhere and only its
/// display is attached here, by running the configured viewer (`Agent:Display:Viewer`, e.g.
/// <c>["remote-viewer", "--full-screen", "{uri}"]</c>) with the VM's SPICE/VNC address; detaching ends it. With no
/// viewer configured the attachment is only recorded (a headless server, the simulated demo).
/// </summary>
internal sealed class DisplaySeat(ILogger logger, ICommandRunner? runner = null, IReadOnlyList<string>? viewer = null)
{
    private readonly ConcurrentDictionary<string, string> attached = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, IRunningProgram> viewers = new(StringComparer.Ordinal);

    public IReadOnlyDictionary<string, string> Attached => new Dictionary<string, string>(attached, StringComparer.Ordinal);

    public async Task AttachAsync(string vm, string displayUri)
    {
        if (viewer is { Count: > 0 } template && runner is not null)
        {
            // One viewer per VM: a second attach (a new address after a move) replaces the first.
            await StopViewerAsync(vm);
            var arguments = template.Skip(1).Select(a => a.Replace("{uri}", displayUri, StringComparison.Ordinal).Replace("{vm}", vm, StringComparison.Ordinal)).ToList();
            try
            {
                viewers[vm] = runner.Start(template[0], arguments);
            }
            catch (ProgramNotFoundException e)
            {
                throw new HypervisorException($"cannot show {vm}: the display viewer {e.Message} (Agent:Display:Viewer)", e);
            }
        }

        attached[vm] = displayUri;
        logger.LogInformation("Display of {Vm} attached from {DisplayUri}", vm, displayUri);
    }

    /// <summary>Not an error when nothing is attached: detaching is idempotent.</summary>
    public async Task DetachAsync(string vm)
    {
        await StopViewerAsync(vm);
        if (attached.TryRemove(vm, out var uri))
        {
            logger.LogInformation("Display of {Vm} ({DisplayUri}) detached", vm, uri);
        }
    }

    private async Task StopViewerAsync(string vm)
    {
        if (viewers.TryRemove(vm, out var running))
        {
            await running.DisposeAsync();
        }
    }
}
