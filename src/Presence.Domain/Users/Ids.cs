using System.Globalization;
using System.Text;

namespace Presence.Domain.Users;

/// <summary>
/// Ids the decider hands out are derived from a seed the caller passes in, so Decide stays a pure function:
/// the same seed gives the same ids, and fresh seeds never collide with ids an agent remembers.
/// </summary>
public readonly record struct Ids(Guid Seed)
{
    public Guid Derive(string label) => Derive(label, default);

    /// <summary>
    /// A short id: a letter, a dash and the first 12 hex digits of the id derived from the label ("d-1a2b3c4d5e6f").
    /// </summary>
    public string Short(char kind, string label) => Short(kind, Derive(label, default));

    /// <summary>As <see cref="Short(char, string)"/> for the label followed by a number ("decision/2").</summary>
    public string Short(char kind, string label, int number)
    {
        Span<char> digits = stackalloc char[11];
        number.TryFormat(digits, out var length, provider: CultureInfo.InvariantCulture);
        return Short(kind, Derive(label, digits[..length]));
    }

    public string Decision() => Short('d', "decision");

    public string Migration() => Short('m', "migration");

    /// <summary>A command's id: the derived id of "command/" and the label, in full.</summary>
    public string Command(string label) => Derive("command/", label).ToString();

    /// <remarks>
    /// The seed as 32 hex digits, a slash and the label (in two parts, so no string is built for it), in UTF-8, hashed:
    /// the same bytes as ever, without the strings and arrays building them cost (a decision derives several ids).
    /// </remarks>
    private Guid Derive(ReadOnlySpan<char> label, ReadOnlySpan<char> more)
    {
        var length = 33 + Encoding.UTF8.GetMaxByteCount(label.Length + more.Length);
        Span<byte> text = length <= 512 ? stackalloc byte[length] : new byte[length];
        Seed.TryFormat(text, out var written, "N");
        text[written++] = (byte)'/';
        written += Encoding.UTF8.GetBytes(label, text[written..]);
        written += Encoding.UTF8.GetBytes(more, text[written..]);
        Span<byte> bytes = stackalloc byte[16];
        Md5.Hash(text[..written], bytes);
        bytes[6] = (byte)((bytes[6] & 0x0F) | 0x30); // a name-based (v3) uuid: says it was derived, not random
        bytes[8] = (byte)((bytes[8] & 0x3F) | 0x80);
        return new Guid(bytes, bigEndian: true);
    }

    private static string Short(char kind, Guid id) => string.Create(14, (kind, id), static (chars, state) =>
    {
        Span<char> hex = stackalloc char[32];
        state.id.TryFormat(hex, out _, "N");
        chars[0] = state.kind;
        chars[1] = '-';
        hex[..12].CopyTo(chars[2..]);
    });
}
