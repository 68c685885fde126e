using NodaTime;
using Presence.Contracts.Agents;
using Presence.Contracts.Requests;
using Presence.Contracts.Signals;

namespace Presence.Contracts.Wire;

/// <summary>One inbound message after the contract's checks: its topic, its typed payload, its id and time.</summary>
public sealed record Inbound(string Topic, ParsedTopic Route, object Message, string? Id, Instant At, bool AtWasStamped);

public static class InboundParser
{
    /// <summary>
    /// Applies every check of CONTRACT.md "Conventions" that needs no stored state: topic shape, JSON, required
    /// fields, types, values, and clock skew (<see cref="ClockSkew"/>). A missing `at` is stamped with <paramref name="now"/>.
    /// </summary>
    public static Inbound Parse(Topics topics, string topic, ReadOnlySpan<byte> payload, Instant now, Duration maxSkew)
    {
        var route = topics.Parse(topic, out var topicError) ?? throw new ContractException(topicError!);
        object message = route.Kind switch
        {
            TopicKind.Signal => Signal.Parse(route.Host!, route.SignalKind!, payload),
            TopicKind.UserRequest => UserRequest.Parse(route.User!, payload),
            TopicKind.Maintenance => MaintenanceRequest.Parse(route.Host!, payload),
            TopicKind.AgentStatus => AgentStatus.Parse(route.Host!, payload),
            TopicKind.AgentInventory => AgentInventory.Parse(route.Host!, payload),
            TopicKind.AgentEvents => AgentEvent.Parse(route.Host!, payload),
            _ => throw new ContractException($"topic '{topic}' is published by the server, not accepted from clients"),
        };

        var (id, at) = message switch
        {
            Signal s => (s.Id, s.At),
            UserRequest r => (r.Id, r.At),
            MaintenanceRequest m => (m.Id, m.At),
            AgentStatus s => (s.Id, s.At),
            AgentInventory i => (i.Id, i.At),
            AgentEvent e => (e.Id, e.At),
            _ => ((string?)null, (Instant?)null),
        };

        if (at is { } stamped && ClockSkew.Refusal(route, stamped, now, maxSkew) is { } refusal)
        {
            throw new ContractException(refusal);
        }

        return new Inbound(topic, route, message, id, at ?? now, at is null);
    }
}
