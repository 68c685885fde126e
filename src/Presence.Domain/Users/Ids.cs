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
        // The seed as 32 hex digits, a slash and the label, in UTF-8, hashed: the same bytes as ever, without the
        // string and arrays building them cost (a decision derives several ids).
        var length = 33 + Encoding.UTF8.GetMaxByteCount(label.Length);
        Span<byte> text = length <= 512 ? stackalloc byte[length] : new byte[length];
        Seed.TryFormat(text, out var written, "N");
        text[written++] = (byte)'/';
        written += Encoding.UTF8.GetBytes(label, text[written..]);
        Span<byte> bytes = stackalloc byte[16];
        Md5.Hash(text[..written], bytes);
        bytes[6] = (byte)((bytes[6] & 0x0F) | 0x30); // a name-based (v3) uuid: says it was derived, not random
        bytes[8] = (byte)((bytes[8] & 0x3F) | 0x80);
        return new Guid(bytes, bigEndian: true);
    }

    public string Decision() => "d-" + Derive("decision").ToString("N")[..12];

    public string Migration() => "m-" + Derive("migration").ToString("N")[..12];

    public string Command(string label) => Derive("command/" + label).ToString();
}
