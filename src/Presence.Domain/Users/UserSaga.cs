using System.Collections.Immutable;
using System.Text.Json.Serialization;
using NodaTime;
using Presence.Domain.House;
using Presence.Domain.Migration;
using Presence.Domain.Placement;
using Presence.Domain.Seating;
using Presence.Domain.Signals;

namespace Presence.Domain.Users;

/// <summary>
/// The first event of every user's stream, and again whenever the house file gives the user another VM: the stream
/// itself then says which VM it is about, so replaying it needs no configuration.
/// </summary>
public sealed record UserEnrolled(string User, string Vm, string HomeHost, string PolicyVersion, Instant At) : IUserEvent;

/// <summary>
/// The facts about the whole house a decision was about to use, recorded first so a replay sees them too. No longer
/// recorded (<see cref="HouseChanged"/> records only what changed); old streams and histories keep theirs and fold
/// and replay as before.
/// </summary>
public sealed record HouseObserved(string User, IReadOnlyList<HostFacts> Hosts, Instant At) : IUserEvent;

/// <summary>
/// What of the house changed since the saga last looked, recorded before the decision that uses it: the hosts whose
/// facts differ (each whole, as its agent now tells it) and the hosts gone from the house. The house at any point of
/// a stream is every such change folded in order (<see cref="Fold"/>), so a replay sees what the decider saw.
/// </summary>
public sealed record HouseChanged(string User, IReadOnlyList<HostFacts> Hosts, IReadOnlyList<string> Gone, Instant At) : IUserEvent
{
    /// <summary>The house as a stream recorded it, after <paramref name="event"/>: either record of the house moves it on.</summary>
    public static HouseSnapshot Fold(HouseSnapshot house, object @event) => @event switch
    {
        HouseObserved o => new HouseSnapshot(o.Hosts),
        HouseChanged c => house.With(c.Hosts, c.Gone),
        _ => house,
    };
}

public sealed record LastDecision(string Id, string Rule, string Reason, Instant At);

public sealed record PendingDisplay(string CommandId, string Host);

/// <summary>An automation level set while Presence ran, and the house file's level for the user at the time.</summary>
public sealed record AutomationSetting(AutomationLevel Level, AutomationLevel HouseFileLevel);

public enum SessionMode { ThinClient, Local, Moving, Held, Suspended }

/// <summary>A settling wait in progress: act at <see cref="DueAt"/> if the user still sits at <see cref="Seat"/>.</summary>
public sealed record PendingSettle(string SettleId, string Seat, Instant DueAt, IReadOnlyList<string> EvidenceIds)
{
    /// <summary>What the wait guards: a display's wait ends early when certain evidence comes (EvidenceStrength).</summary>
    public PlacementMode? Mode { get; init; }
}

/// <summary>
/// One user's saga: everything the decider knows, rebuilt by <see cref="UserDecider.Evolve"/> from the user's stream
/// (stream id = user name). Immutable: every change is a new value.
/// </summary>
public sealed record UserSaga
{
    public required string Id { get; init; }
    public string? Vm { get; init; }
    public string? Seat { get; init; }
    public double SeatConfidence { get; init; }
    public IReadOnlyList<string> SeatEvidence { get; init; } = [];

    /// <summary>When the evidence that last changed <see cref="Seat"/> was observed; older evidence arriving late cannot undo it.</summary>
    public Instant? SeatEvidenceAt { get; init; }

    public string? VmHost { get; init; }

    /// <summary>False right after a move, until the target's own inventory shows the VM: until then a stale inventory must not move it back.</summary>
    public bool VmHostConfirmed { get; init; } = true;
    public string? DisplayedOn { get; init; }
    public PendingDisplay? PendingDisplay { get; init; }

    /// <summary>
    /// The host whose agent was last told to show the VM and not told since to stop, confirmed or not: what a seat may
    /// be showing of this user, which <see cref="DisplayedOn"/> (confirmed, and forgotten when the VM moves) is not.
    /// </summary>
    public string? ShownOn { get; init; }

    /// <summary>Where the VM ran when <see cref="ShownOn"/> was told to show it: after a move there, the seat switches to it.</summary>
    public string? ShownFrom { get; init; }
    public PendingMigration? Migration { get; init; }
    public PendingOperation? Operation { get; init; }
    public SuspendedVm? Suspended { get; init; }
    public PendingSettle? Settling { get; init; }

    /// <summary>The phase timeout last scheduled; it matters only while that phase of that move is still pending.</summary>
    public PendingTimeout? Timeout { get; init; }
    public PlacementProposed? Proposal { get; init; }
    public bool Held { get; init; }

    /// <summary>The automation level set while Presence ran, if any (UserDecider.AutomationOf says which level holds).</summary>
    public AutomationSetting? Automation { get; init; }
    public Instant? LastMoveAt { get; init; }

    /// <summary>The host a maintenance evacuation took the VM from, to bring it back afterwards.</summary>
    public string? EvacuatedFrom { get; init; }

    /// <summary>When each host was last seen unplugged (power ac=false), for "leaving with the laptop".</summary>
    [JsonConverter(typeof(HostInstantsJson))]
    public ImmutableSortedDictionary<string, Instant> UnpluggedAt { get; init; } = HostInstants.None;

    /// <summary>Measured seconds per GiB of this VM's past live migrations; the cost model's memory.</summary>
    public double? SecondsPerGib { get; init; }

    /// <summary>Pages per second this VM dirtied during its last move: a busy VM migrates slower than its size says.</summary>
    public long? DirtyPagesRate { get; init; }
    public LastDecision? LastDecision { get; init; }

    /// <summary>
    /// The last placement decided, which the moves in flight carry out: an agent's answer belongs to its story even
    /// when a later decision (a suppressed move, say) has become <see cref="LastDecision"/>.
    /// </summary>
    public string? CarryingOut { get; init; }

    /// <summary>The signal or request that started the story of <see cref="CarryingOut"/>, when one did.</summary>
    public string? CarryingOutStartedBy { get; init; }

    /// <summary>
    /// What the saga knows of the house (a fingerprint per host, the agents offline, where each VM runs): enough to
    /// record only what of the house changed, and small, where the whole house's facts were not.
    /// </summary>
    public HouseSeen HouseSeen { get; init; } = HouseSeen.Empty;
    public int Decisions { get; init; }
    public Instant? LastEvidenceAt { get; init; }

    /// <summary>The newest evidence time per computer, to recognise late evidence by that computer's own clock.</summary>
    [JsonConverter(typeof(HostInstantsJson))]
    public ImmutableSortedDictionary<string, Instant> NewestEvidence { get; init; } = HostInstants.None;
    public Instant? Since { get; init; }

    public SessionMode Mode => Migration is not null || Operation is not null ? SessionMode.Moving
        : Suspended is not null ? SessionMode.Suspended
        : Held ? SessionMode.Held
        : VmHost is not null && VmHost == Seat ? SessionMode.Local
        : SessionMode.ThinClient;

    public bool Busy => Migration is not null || Operation is not null;

    /// <summary>
    /// The hosts this saga has anything on (<see cref="HostNews.HostsInvolved"/>). Stored with the document and
    /// indexed, so news about a host finds its sagas without reading every one.
    /// </summary>
    public IReadOnlyList<string> Involves => HostNews.HostsInvolved(this);

    public static UserSaga Start(string user, string? vm) => new() { Id = user, Vm = vm };
}
