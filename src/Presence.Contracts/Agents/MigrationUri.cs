using System.Net;

namespace Presence.Contracts.Agents;

/// <summary>Where a migration's memory goes: the address in an <c>incoming_uri</c> / <c>target_uri</c>.</summary>
public static class MigrationUri
{
    /// <summary>
    /// The host part: <c>tcp:10.0.0.5:49152</c> and <c>tcp:[::1]:49152</c> (qemu), <c>qemu+ssh://imac/system</c>
    /// (libvirt); null for anything else (<c>exec:</c>, <c>unix:</c>, <c>fd:</c>…), which would not go to a host at all.
    /// </summary>
    public static string? Address(string uri)
    {
        if (uri.StartsWith("tcp:", StringComparison.Ordinal))
        {
            var rest = uri["tcp:".Length..];
            var colon = rest.LastIndexOf(':');
            if (colon <= 0 || !int.TryParse(rest[(colon + 1)..], out var port) || port is < 1 or > 65535)
            {
                return null;
            }

            var address = rest[..colon].Trim('[', ']');
            return Uri.CheckHostName(address) == UriHostNameType.Unknown ? null : address;
        }

        return Uri.TryCreate(uri, UriKind.Absolute, out var parsed) && parsed.Scheme.Contains("qemu", StringComparison.Ordinal) && !string.IsNullOrEmpty(parsed.Host)
            ? parsed.IdnHost
            : null;
    }

    /// <summary>Whether an address (a broker's, a migration's) stays on this computer.</summary>
    public static bool IsLoopback(string address) =>
        address.Equals("localhost", StringComparison.OrdinalIgnoreCase) || (IPAddress.TryParse(address.Trim('[', ']'), out var ip) && IPAddress.IsLoopback(ip));
}
