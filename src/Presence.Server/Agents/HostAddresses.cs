using Microsoft.Extensions.Options;
using Presence.Contracts.Agents;
using Presence.Server.Configuration;

namespace Presence.Server.Agents;

/// <summary>
/// Where the house knows each computer to be (House:Hosts[]:Address, else its name). The server signs a migrate
/// only to an address vouched for here: whoever answers prepare_incoming cannot steer a VM's memory anywhere else.
/// While the broker listens on loopback alone every agent is on this computer, so 127.0.0.1 is then anyone's.
/// </summary>
public sealed class HostAddresses(IOptions<HouseOptions> house, IOptions<MqttOptions> mqtt)
{
    private readonly Dictionary<string, string> known = house.Value.Hosts.ToDictionary(
        h => h.Name, h => string.IsNullOrWhiteSpace(h.Address) ? h.Name : h.Address.Trim('[', ']'), StringComparer.Ordinal);

    private readonly bool loopbackHouse = MigrationUri.IsLoopback(mqtt.Value.Host);

    /// <summary>Null when a migration of a VM to <paramref name="host"/> may send it to <paramref name="uri"/>; otherwise why not.</summary>
    public string? Refusal(string host, string? uri)
    {
        if (!known.TryGetValue(host, out var expected))
        {
            return $"{host} is not a host of the house (House:Hosts)";
        }

        if (uri is null || MigrationUri.Address(uri) is not { } address)
        {
            return $"{host}'s incoming_uri '{uri}' names no address";
        }

        if (address.Equals(expected, StringComparison.OrdinalIgnoreCase)
            || (loopbackHouse && MigrationUri.IsLoopback(address)))
        {
            return null;
        }

        return $"{host}'s incoming_uri '{uri}' is not at the address the house knows for it ({expected}; House:Hosts[]:Address)";
    }
}
