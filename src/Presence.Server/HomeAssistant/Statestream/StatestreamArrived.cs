using System.Text.Json.Serialization;
using NodaTime;
using Presence.Server.Mqtt;

namespace Presence.Server.HomeAssistant.Statestream;

/// <summary>
/// A mapped entity's new state, readable (<see cref="StatestreamInbound"/> checked it), handed to Wolverine. At is when
/// it arrived: mqtt_statestream's state topic carries no time of its own. Stored by the bridge and handled in the house
/// lane like what agents say: Home Assistant's relayed evidence is never ordered against a user's own signals (it
/// carries the time it arrived, EvidenceStrength.Relayed), and it is a trickle beside them.
/// </summary>
public sealed record StatestreamArrived(string Topic, string Entity, string State, Instant At) : IArrived
{
    [JsonIgnore] public string? Id => null;

    [JsonIgnore] public string Lane => Lanes.House;

    public Guid? StoredAs { get; init; }

    public IArrived Storing(Guid id) => this with { StoredAs = id };
}

/// <summary>
/// The last state of an entity that Presence recorded. mqtt_statestream republishes the state on every attribute
/// change (a room sensor's distance) and the broker redelivers it, retained, at every start: only a change is news.
/// </summary>
public sealed record StatestreamState(string Id, string State, Instant At);
