using Presence.Domain.House;
using Presence.Domain.Migration;
using Presence.Domain.Signals;

namespace Presence.Domain.Users;

/// <summary>
/// What the decider is asked to consider. Each input carries the house as it was when the input arrived and a
/// seed for new ids, so a decision depends only on its arguments.
/// </summary>
public abstract record UserInput
{
    public required string User { get; init; }
    public required HouseSnapshot House { get; init; }
    public required Guid Seed { get; init; }
}

public sealed record ObserveEvidence : UserInput
{
    public required Evidence Evidence { get; init; }
}

public sealed record ObserveAgentReport : UserInput
{
    public required AgentReport Report { get; init; }
}
