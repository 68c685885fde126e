using Presence.Domain.House;

namespace Presence.Server.Hosting;

/// <summary>
/// A well-formed message the house's rules refuse (e.g. a signal naming a user who may not use that host).
/// Thrown before anything is stored, so the transaction rolls back and the bridge publishes the reason.
/// </summary>
public sealed class MessageRejected(string reason) : Exception(reason);

/// <summary>The refusals every inbound message may meet, worded once: the reason names the house file's key.</summary>
public static class Admission
{
    public static HostSpec RequireHost(this HousePolicy policy, string host) =>
        policy.Host(host) ?? throw new MessageRejected($"host '{host}' is not in the house (House:Hosts)");

    public static UserSpec RequireUser(this HousePolicy policy, string user) =>
        policy.User(user) ?? throw new MessageRejected($"user '{user}' is not in the house (House:Users)");
}
