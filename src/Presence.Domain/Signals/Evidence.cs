using Presence.Domain.Users;
using NodaTime;

namespace Presence.Domain.Signals;

/// <summary>
/// What a piece of evidence is about. Stored by name in every stream, so values are only ever added: Room and Zone
/// came with Home Assistant (a room-presence sensor; a person's home / not_home / zone).
/// </summary>
public enum EvidenceKind { Session, Lid, Wifi, Idle, Power, Request, Room, Zone }

/// <summary>
/// One observation, as the decider stores it in the user's stream before deciding on it. <see cref="Id"/> is the
/// sender's id when it gave one, else one the server made; <see cref="Details"/> keeps the payload's own words
/// (e.g. state=login, seat=console) so history reads like what happened.
/// </summary>
public sealed record Evidence(
    string Id,
    EvidenceKind Kind,
    string Host,
    string? User,
    IReadOnlyDictionary<string, string> Details,
    Instant At)
{
    public string? Detail(string key) => Details.TryGetValue(key, out var value) ? value : null;

    public override string ToString() => Words.EventText.Signal(this);
}

/// <summary>Evidence entered a user's stream.</summary>
/// <remarks>
/// <see cref="At"/> is when it happened by its sender's clock; <see cref="ReceivedAt"/> when the decider took it up
/// (its `now`) and <see cref="Seed"/> the seed of the ids it handed out then: replay decides it again just so.
/// </remarks>
public sealed record SignalRecorded(string User, Evidence Evidence, Instant At, Instant? ReceivedAt = null, Guid? Seed = null) : IUserInputRecord;
