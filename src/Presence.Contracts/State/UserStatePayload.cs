using System.Text.Json.Serialization;
using NodaTime;

namespace Presence.Contracts.State;

public enum SessionMode { ThinClient, Local, Moving, Held, Suspended }

public sealed record MigrationSummary(string Id, string From, string To, string Phase, double? Percent);

public sealed record DecisionSummary(string Id, string Rule, string Reason);

/// <summary>`presence/users/{user}/state`, retained: where a user's session is now (CONTRACT.md §4).</summary>
public sealed record UserStatePayload
{
    public required string User { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public string? SeatHost { get; init; }

    public required string Vm { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public string? VmHost { get; init; }

    public required SessionMode Mode { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public MigrationSummary? Migration { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public DecisionSummary? LastDecision { get; init; }

    public Instant? Since { get; init; }

    /// <summary>The user's automation level now (an addition: set in the house file, or while Presence runs).</summary>
    public Requests.AutomationChoice? Automation { get; init; }
}

/// <summary>
/// `presence/errors`: a rejected inbound message and why; <paramref name="Id"/> is the message's own `id` when one could
/// be read from it, so a sender can tell which of its messages it was.
/// </summary>
public sealed record ErrorPayload(string Topic, string Error, Instant At, string? Id = null);
