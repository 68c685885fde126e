using JasperFx.Events;
using Marten.Events.Aggregation;
using Presence.Domain.Hosts;

namespace Presence.Server.Agents;

/// <summary>Current facts per host (stream `host:{name}`), kept inline so every decision reads the house in one query.</summary>
public partial class HostProjection : SingleStreamProjection<HostState, string>
{
    public HostProjection()
    {
        foreach (var type in HostState.EventTypes)
        {
            IncludeType(type);
        }
    }

    public override HostState Evolve(HostState? snapshot, string id, IEvent e) => HostState.Evolve(snapshot, e.Data);
}
