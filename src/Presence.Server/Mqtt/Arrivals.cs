using System.Text.Json.Serialization;
using NodaTime;
using Presence.Contracts.Agents;
using Presence.Contracts.Requests;
using Presence.Contracts.Signals;
using Presence.Contracts.Wire;
using Presence.Domain.House;

namespace Presence.Server.Mqtt;

/// <summary>
/// An inbound MQTT message on its way to its handler: where it came from (for presence/errors), its contract id,
/// and the lane it is handled in (<see cref="Lanes"/>).
/// </summary>
public interface IArrived
{
    string Topic { get; }

    string? Id { get; }

    string Lane { get; }
}

/// <summary>
/// The Wolverine group ids of inbound messages. Messages of one lane are handled one at a time in the order the
/// broker delivered them; different lanes run in parallel (Wolverine's partitioned local queues, Configuration).
/// </summary>
/// <remarks>
/// Why these keys: what a user's saga decides depends on the order of that user's inputs, so everything that names
/// a user (their signals, requests, and the agents' answers about their VM) is in the user's lane. What is about a
/// computer alone (lid, Wi-Fi, power, agent status and inventory, maintenance) is in the host's lane: the host's own
/// stream must take those in the order the computer sent them. Such a message also reaches the sagas of the users
/// the host concerns, beside those users' own lanes; there FetchForWriting's optimistic concurrency and StoreRetries
/// settle it (the loser decides again on the stream as it now is), as they already did for timeouts and other nodes.
/// Keying host messages by user instead would need the house loaded in the bridge to fan them out, and keying
/// everything by host would serialize a whole house behind its one server.
/// </remarks>
public static class Lanes
{
    public static string User(string user) => "user:" + user;

    public static string Host(string host) => "host:" + host;
}

/// <summary>
/// An inbound message as the broker delivered it (topic and payload) and as the bridge read it. Only the raw form is
/// stored in Wolverine's inbox: the contract types keep their topic-derived fields (host, user) out of their JSON, so
/// a message recovered from the inbox after a crash is read again from its own bytes, with the `at` that counted on
/// arrival (no skew check the second time: it passed once).
/// </summary>
public abstract record Arrived(string Root, string Topic, byte[] Payload, Instant At) : IArrived
{
    private object? message;

    /// <summary>What the bridge read; left out of the stored JSON and read again from <see cref="Payload"/> when absent.</summary>
    [JsonIgnore]
    public object Message
    {
        get => message ??= InboundParser.Parse(new Topics(Root), Topic, Payload, At, Duration.Zero).Message;
        init => message = value;
    }

    [JsonIgnore] public abstract string? Id { get; }

    [JsonIgnore] public abstract string Lane { get; }

    /// <summary>What the bridge hands to Wolverine for a message it read: one message type per kind of inbound topic.</summary>
    public static Arrived From(Inbound inbound, string root, byte[] payload, HousePolicy policy) => inbound.Message switch
    {
        Signal => new SignalArrived(root, inbound.Topic, payload, inbound.At) { Message = inbound.Message },
        UserRequest => new UserRequestArrived(root, inbound.Topic, payload, inbound.At) { Message = inbound.Message },
        MaintenanceRequest => new MaintenanceArrived(root, inbound.Topic, payload, inbound.At) { Message = inbound.Message },
        AgentStatus => new AgentStatusArrived(root, inbound.Topic, payload, inbound.At) { Message = inbound.Message },
        AgentInventory => new AgentInventoryArrived(root, inbound.Topic, payload, inbound.At) { Message = inbound.Message },
        AgentEvent e => new AgentEventArrived(root, inbound.Topic, payload, inbound.At, policy.OwnerOfVm(e.Vm)?.Name) { Message = inbound.Message },
        var other => throw new InvalidOperationException($"no handler for {other.GetType().Name}"),
    };
}

public sealed record SignalArrived(string Root, string Topic, byte[] Payload, Instant At) : Arrived(Root, Topic, Payload, At)
{
    [JsonIgnore] public Signal Signal => (Signal)Message;

    [JsonIgnore] public override string? Id => Signal.Id;

    [JsonIgnore] public override string Lane => Signal.User is { } user ? Lanes.User(user) : Lanes.Host(Signal.Host);
}

public sealed record UserRequestArrived(string Root, string Topic, byte[] Payload, Instant At) : Arrived(Root, Topic, Payload, At)
{
    [JsonIgnore] public UserRequest Request => (UserRequest)Message;

    [JsonIgnore] public override string? Id => Request.Id;

    [JsonIgnore] public override string Lane => Lanes.User(Request.User);
}

public sealed record MaintenanceArrived(string Root, string Topic, byte[] Payload, Instant At) : Arrived(Root, Topic, Payload, At)
{
    [JsonIgnore] public MaintenanceRequest Request => (MaintenanceRequest)Message;

    [JsonIgnore] public override string? Id => Request.Id;

    [JsonIgnore] public override string Lane => Lanes.Host(Request.Host);
}

public sealed record AgentStatusArrived(string Root, string Topic, byte[] Payload, Instant At) : Arrived(Root, Topic, Payload, At)
{
    [JsonIgnore] public AgentStatus Status => (AgentStatus)Message;

    [JsonIgnore] public override string? Id => Status.Id;

    [JsonIgnore] public override string Lane => Lanes.Host(Status.Host);
}

public sealed record AgentInventoryArrived(string Root, string Topic, byte[] Payload, Instant At) : Arrived(Root, Topic, Payload, At)
{
    [JsonIgnore] public AgentInventory Inventory => (AgentInventory)Message;

    [JsonIgnore] public override string? Id => Inventory.Id;

    [JsonIgnore] public override string Lane => Lanes.Host(Inventory.Host);
}

/// <param name="Owner">The user whose VM the answer is about (the bridge looks it up in the house); the answer goes
/// to their saga, so it is in their lane. None for a VM the house does not know: the handler rejects it.</param>
public sealed record AgentEventArrived(string Root, string Topic, byte[] Payload, Instant At, string? Owner) : Arrived(Root, Topic, Payload, At)
{
    [JsonIgnore] public AgentEvent Event => (AgentEvent)Message;

    [JsonIgnore] public override string? Id => Event.Id;

    [JsonIgnore] public override string Lane => Owner is { } owner ? Lanes.User(owner) : Lanes.Host(Event.Host);
}
