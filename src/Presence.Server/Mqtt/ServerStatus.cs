using System.Reflection;
using Presence.Contracts.Wire;

namespace Presence.Server.Mqtt;

/// <summary>
/// The retained `presence/status` (CONTRACT §4, docs/contract-additions.md): `{"state":"online"|"offline","version":…}`,
/// published by the outbound connection when it connects and as its last will, so whoever shows Presence (Home
/// Assistant's availability) can tell a server that is down from one that has nothing new to say.
/// </summary>
public static class ServerStatus
{
    /// <summary>The server's version as built (the informational version without its commit suffix).</summary>
    public static string Version { get; } =
        (typeof(ServerStatus).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0").Split('+')[0];

    public static byte[] Payload(bool online) => ContractJson.Serialize(new StatusPayload(online ? "online" : "offline", Version));

    private sealed record StatusPayload(string State, string Version);
}
