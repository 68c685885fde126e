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

/// <summary>A settling wait (<see cref="Placement.SettlingStarted"/>) ran out.</summary>
public sealed record Settle : UserInput
{
    public required string SettleId { get; init; }
}

/// <summary>Something about a host changed that may matter to this user (maintenance, an agent coming or going).</summary>
public sealed record ObserveHostChange : UserInput
{
    public required string Host { get; init; }
}

/// <summary>A phase's timeout (<see cref="PhaseTimeoutScheduled"/>) ran out; late ones, for a phase already over, do nothing.</summary>
public sealed record CheckTimeout : UserInput
{
    public required string MoveId { get; init; }

    public required string Phase { get; init; }
}
