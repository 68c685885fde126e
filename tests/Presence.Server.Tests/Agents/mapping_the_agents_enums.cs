using Presence.Contracts.Agents;
using Presence.Domain.House;
using Presence.Domain.Migration;
using Presence.Server.Agents;

namespace Presence.Server.Tests.Agents;

/// <summary>
/// Every value of the domain's and the wire's enums has its namesake on the other side, whatever order either
/// is declared in; a value added on one side only fails here rather than on an agent's first message.
/// </summary>
public sealed class mapping_the_agents_enums
{
    [Fact]
    public void every_command_kind_is_sent_as_the_command_type_of_its_name()
    {
        Assert.All(Enum.GetValues<CommandKind>(), kind => Assert.Equal(kind.ToString(), kind.ToContract().ToString()));
        Assert.Equal(Enum.GetValues<CommandType>().Length, Enum.GetValues<CommandKind>().Select(k => k.ToContract()).Distinct().Count());
    }

    [Fact]
    public void every_vm_state_an_agent_reports_is_the_run_state_of_its_name()
    {
        Assert.All(Enum.GetValues<VmState>(), state => Assert.Equal(state.ToString(), state.ToDomain().ToString()));
        Assert.Equal(Enum.GetValues<VmRunState>().Length, Enum.GetValues<VmState>().Select(s => s.ToDomain()).Distinct().Count());
    }

    [Fact]
    public void every_agent_event_state_is_the_report_state_of_its_name()
    {
        Assert.All(Enum.GetValues<AgentEventState>(), state => Assert.Equal(state.ToString(), state.ToDomain().ToString()));
        Assert.Equal(Enum.GetValues<ReportState>().Length, Enum.GetValues<AgentEventState>().Select(s => s.ToDomain()).Distinct().Count());
    }
}
