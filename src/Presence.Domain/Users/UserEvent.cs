using Presence.Domain.Audit;

namespace Presence.Domain.Users;

/// <summary>
/// An event of one user's stream (stream id = <see cref="User"/>): the family <see cref="UserDecider.Decide"/>
/// answers with and <see cref="UserDecider.Evolve"/> folds. An interface, not a base record, so the events' stored
/// JSON stays as it was; the event store and history files name an event by its type's name, so an event type is
/// never renamed (its namespace may change only with the store's type mapping).
/// </summary>
public interface IUserEvent : IDomainEvent
{
    string User { get; }
}

/// <summary>
/// A user event that records what the decider was asked (not what it decided), with the seed its ids came from:
/// replay feeds these back in.
/// </summary>
public interface IUserInputRecord : IUserEvent;
