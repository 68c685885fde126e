using NodaTime;
using Presence.Contracts.Agents;
using Presence.Contracts.Requests;
using Presence.Contracts.Signals;

namespace Presence.Server.Mqtt;

// What the bridge hands to Wolverine: one message type per kind of inbound topic, each with the topic (for
// de-duplication and errors) and the time that counts for it (the payload's `at`, or when it arrived).

public sealed record SignalArrived(string Topic, Signal Signal, Instant At);

/// <param name="By">The controller that asked, when the topic itself tells (Home Assistant's command topics); recorded with the request.</param>
public sealed record UserRequestArrived(string Topic, UserRequest Request, Instant At, string? By = null);

public sealed record MaintenanceArrived(string Topic, MaintenanceRequest Request, Instant At);

public sealed record AgentStatusArrived(string Topic, AgentStatus Status, Instant At);

public sealed record AgentInventoryArrived(string Topic, AgentInventory Inventory, Instant At);

public sealed record AgentEventArrived(string Topic, AgentEvent Event, Instant At);
