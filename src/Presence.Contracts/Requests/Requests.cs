using System.Text.Json.Serialization;
using NodaTime;
using Presence.Contracts.Wire;

namespace Presence.Contracts.Requests;

public enum RequestAction { Follow, Hold, Release, Move, Home, Approve, Decline, Automation }

/// <summary>How far Presence may act for a user: record only, propose and wait for approval, or act.</summary>
public enum AutomationChoice { Manual, Recommend, Automatic }

/// <summary>A person's (or Home Assistant's) wish about one user's session (CONTRACT.md §2).</summary>
public sealed record UserRequest
{
    [JsonIgnore] public string User { get; init; } = "";
    public required RequestAction Action { get; init; }
    public string? Target { get; init; }
    public string? DecisionId { get; init; }

    /// <summary>The level an `automation` request sets.</summary>
    public AutomationChoice? Level { get; init; }

    public string? Id { get; init; }
    public Instant? At { get; init; }

    public static UserRequest Parse(string user, ReadOnlySpan<byte> payload)
    {
        var p = PayloadReader.Open(payload);
        var action = p.RequiredEnum<RequestAction>("action");
        var request = new UserRequest
        {
            User = user,
            Action = action,
            Target = action == RequestAction.Move ? p.RequiredName("target") : p.OptionalName("target"),
            DecisionId = action is RequestAction.Approve or RequestAction.Decline
                ? p.RequiredString("decision_id", 64)
                : p.OptionalString("decision_id", 64),
            Level = action == RequestAction.Automation ? p.RequiredEnum<AutomationChoice>("level") : p.OptionalEnum<AutomationChoice>("level"),
            Id = p.Id(),
            At = p.At(),
        };
        return request;
    }
}

/// <summary>`presence/hosts/{host}/maintenance`: evacuate a host, or let VMs come back.</summary>
public sealed record MaintenanceRequest
{
    public enum Switch { On, Off }

    [JsonIgnore] public string Host { get; init; } = "";
    public required Switch State { get; init; }
    public string? Reason { get; init; }
    public string? Id { get; init; }
    public Instant? At { get; init; }

    public static MaintenanceRequest Parse(string host, ReadOnlySpan<byte> payload)
    {
        var p = PayloadReader.Open(payload);
        return new MaintenanceRequest
        {
            Host = host,
            State = p.RequiredEnum<Switch>("state"),
            Reason = p.OptionalString("reason", 256),
            Id = p.Id(),
            At = p.At(),
        };
    }
}
