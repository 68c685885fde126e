using System.Security.Cryptography;
using System.Text;

namespace Presence.Domain.Users;

/// <summary>
/// Ids the decider hands out are derived from a seed the caller passes in, so Decide stays a pure function:
/// the same seed gives the same ids, and fresh seeds never collide with ids an agent remembers.
/// </summary>
public readonly record struct Ids(Guid Seed)
{
    public Guid Derive(string label)
    {
        var bytes = MD5.HashData(Encoding.UTF8.GetBytes(Seed.ToString("N") + "/" + label));
        bytes[6] = (byte)((bytes[6] & 0x0F) | 0x30); // a name-based (v3) uuid: says it was derived, not random
        bytes[8] = (byte)((bytes[8] & 0x3F) | 0x80);
        return new Guid(bytes, bigEndian: true);
    }

    public string Decision() => "d-" + Derive("decision").ToString("N")[..12];

    public string Migration() => "m-" + Derive("migration").ToString("N")[..12];

    public string Command(string label) => Derive("command/" + label).ToString();
}
