using Presence.Contracts.Agents;
using Presence.Domain.House;
using Presence.Domain.Migration;

namespace Presence.Server.Agents;

/// <summary>
/// The agents' wire (Contracts) and the domain name the same things with enums of their own. They are mapped by
/// name, arm by arm, never by position: reordering either enum must not turn a "failed" into a "completed".
/// </summary>
public static class ContractEnums
{
    public static CommandType ToContract(this CommandKind kind) => kind switch
    {
        CommandKind.PrepareIncoming => CommandType.PrepareIncoming,
        CommandKind.Migrate => CommandType.Migrate,
        CommandKind.AbortIncoming => CommandType.AbortIncoming,
        CommandKind.Cancel => CommandType.Cancel,
        CommandKind.Suspend => CommandType.Suspend,
        CommandKind.Resume => CommandType.Resume,
        CommandKind.AttachDisplay => CommandType.AttachDisplay,
        CommandKind.DetachDisplay => CommandType.DetachDisplay,
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "no agent command for this kind"),
    };

    public static VmRunState ToDomain(this VmState state) => state switch
    {
        VmState.Running => VmRunState.Running,
        VmState.Paused => VmRunState.Paused,
        VmState.Suspended => VmRunState.Suspended,
        VmState.Incoming => VmRunState.Incoming,
        VmState.Stopped => VmRunState.Stopped,
        _ => throw new ArgumentOutOfRangeException(nameof(state), state, "no domain state for this VM state"),
    };

    public static ReportState ToDomain(this AgentEventState state) => state switch
    {
        AgentEventState.Accepted => ReportState.Accepted,
        AgentEventState.Ready => ReportState.Ready,
        AgentEventState.Progress => ReportState.Progress,
        AgentEventState.Completed => ReportState.Completed,
        AgentEventState.Failed => ReportState.Failed,
        AgentEventState.Cancelled => ReportState.Cancelled,
        _ => throw new ArgumentOutOfRangeException(nameof(state), state, "no domain state for this agent event"),
    };
}
