namespace Presence.Server.Hosting;

/// <summary>
/// A well-formed message the house's rules refuse (e.g. a signal naming a user who may not use that host).
/// Thrown before anything is stored, so the transaction rolls back and the bridge publishes the reason.
/// </summary>
public sealed class MessageRejected(string reason) : Exception(reason);
