using NodaTime;

namespace Presence.Server.HomeAssistant.Statestream;

/// <summary>
/// A mapped entity's new state, readable (<see cref="StatestreamInbound"/> checked it), handed to Wolverine. At is when
/// it arrived: mqtt_statestream's state topic carries no time of its own.
/// </summary>
public sealed record StatestreamArrived(string Topic, string Entity, string State, Instant At);

/// <summary>
/// The last state of an entity that Presence recorded. mqtt_statestream republishes the state on every attribute
/// change (a room sensor's distance) and the broker redelivers it, retained, at every start: only a change is news.
/// </summary>
public sealed record StatestreamState(string Id, string State, Instant At);
