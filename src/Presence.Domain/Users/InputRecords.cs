using NodaTime;
using Presence.Domain.Migration;

namespace Presence.Domain.Users;

// What the decider was asked, recorded first in the stream whenever its answer changed anything, with the seed its
// ids came from and the moment (`At`, the decider's `now`) it was asked. Evidence has SignalRecorded for this; these
// are the other inputs. With them a stream holds everything a decision used, so replay needs nothing else.

/// <summary>An agent answered a command (or reported progress on one), and the saga took note.</summary>
public sealed record AgentReported(string User, AgentReport Report, Guid Seed, Instant At) : IUserInputRecord;

/// <summary>A settling wait (<see cref="Placement.SettlingStarted"/>) ran out, and the saga looked again.</summary>
public sealed record SettlingWaitRanOut(string User, string SettleId, Guid Seed, Instant At) : IUserInputRecord;

/// <summary>A phase's timeout (<see cref="PhaseTimeoutScheduled"/>) ran out while that phase was still pending.</summary>
public sealed record PhaseTimeoutRanOut(string User, string MoveId, string Phase, Guid Seed, Instant At) : IUserInputRecord;

/// <summary>Something about a host changed (maintenance, an agent coming or going) and the saga looked again.</summary>
public sealed record HostChangeNoticed(string User, string Host, Guid Seed, Instant At) : IUserInputRecord;
