using System.Text.Json;
using System.Text.Json.Serialization;
using NodaTime;
using NodaTime.Serialization.SystemTextJson;

namespace Presence.Contracts.Wire;

/// <summary>
/// The one JSON setting for time, used by every serializer of the product (the wire, Marten, Wolverine, HTTP, history
/// files): NodaTime's converters, with <see cref="InstantJson"/> before its converter for instants.
/// </summary>
public static class TimeJson
{
    public static JsonSerializerOptions ConfigureTime(this JsonSerializerOptions options)
    {
        options.ConfigureForNodaTime(DateTimeZoneProviders.Tzdb);
        // The first converter that can convert a type is the one used.
        options.Converters.Insert(0, new InstantJson());
        return options;
    }
}

/// <summary>
/// Instants as NodaTime's own converter writes and reads them (InstantPattern.ExtendedIso, e.g.
/// 2026-12-06T03:09:42.6462282Z), byte for byte, but without its general pattern engine for the one shape the product
/// writes: a saga keeps an instant per computer that spoke of its user, and reading and writing them through the
/// pattern engine was 5 % of the server's CPU storing a burst of signals (docs/benchmarks.md). Anything else (a year
/// before 1 or after 9998, a comma before the fraction, text that is no instant) goes to NodaTime's converter, so its
/// values and its errors are NodaTime's.
/// </summary>
public sealed class InstantJson : JsonConverter<Instant>
{
    /// <summary>The longest text of the fast path: 2026-12-06T03:09:42.123456789Z.</summary>
    public const int MaxLength = 30;

    private static readonly JsonConverter<Instant> Noda = (JsonConverter<Instant>)NodaConverters.InstantConverter;
    private static readonly Instant First = Instant.FromUtc(1, 1, 1, 0, 0);
    private static readonly Instant Beyond = Instant.FromUtc(9999, 1, 1, 0, 0);
    private static readonly int[] Scale = [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000];

    public override Instant Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        reader.TokenType == JsonTokenType.String && !reader.HasValueSequence && !reader.ValueIsEscaped && TryParse(reader.ValueSpan, out var instant)
            ? instant
            : Noda.Read(ref reader, typeToConvert, options);

    public override void Write(Utf8JsonWriter writer, Instant value, JsonSerializerOptions options)
    {
        Span<byte> text = stackalloc byte[MaxLength];
        if (TryFormat(value, text, out var length))
        {
            writer.WriteStringValue(text[..length]);
        }
        else
        {
            Noda.Write(writer, value, options);
        }
    }

    public override Instant ReadAsPropertyName(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        Noda.ReadAsPropertyName(ref reader, typeToConvert, options);

    public override void WriteAsPropertyName(Utf8JsonWriter writer, Instant value, JsonSerializerOptions options) =>
        Noda.WriteAsPropertyName(writer, value, options);

    /// <summary>
    /// Writes <paramref name="value"/> as ExtendedIso does; false for the years the fast path leaves to NodaTime.
    /// </summary>
    public static bool TryFormat(Instant value, Span<byte> text, out int length)
    {
        length = 0;
        if (value < First || value >= Beyond || text.Length < MaxLength)
        {
            return false;
        }

        var at = value.InUtc().LocalDateTime;
        Digits(text[..4], at.Year);
        text[4] = (byte)'-';
        Digits(text.Slice(5, 2), at.Month);
        text[7] = (byte)'-';
        Digits(text.Slice(8, 2), at.Day);
        text[10] = (byte)'T';
        Digits(text.Slice(11, 2), at.Hour);
        text[13] = (byte)':';
        Digits(text.Slice(14, 2), at.Minute);
        text[16] = (byte)':';
        Digits(text.Slice(17, 2), at.Second);
        length = 19;

        // ExtendedIso's ";FFFFFFFFF": up to nine digits without trailing zeros, and no point at all for a whole second.
        var fraction = at.NanosecondOfSecond;
        if (fraction != 0)
        {
            var digits = 9;
            while (fraction % 10 == 0)
            {
                fraction /= 10;
                digits--;
            }

            text[length++] = (byte)'.';
            Digits(text.Slice(length, digits), fraction);
            length += digits;
        }

        text[length++] = (byte)'Z';
        return true;
    }

    /// <summary>
    /// Reads the shape <see cref="TryFormat"/> writes (any fraction of one to nine digits); false for anything else.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> text, out Instant value)
    {
        value = default;
        if (text.Length is < 20 or > MaxLength || text.Length == 21
            || text[4] != '-' || text[7] != '-' || text[10] != 'T' || text[13] != ':' || text[16] != ':' || text[^1] != 'Z'
            || (text.Length > 20 && text[19] != '.'))
        {
            return false;
        }

        if (!Number(text[..4], out var year) || !Number(text.Slice(5, 2), out var month) || !Number(text.Slice(8, 2), out var day)
            || !Number(text.Slice(11, 2), out var hour) || !Number(text.Slice(14, 2), out var minute) || !Number(text.Slice(17, 2), out var second))
        {
            return false;
        }

        var fraction = 0;
        if (text.Length > 20)
        {
            var digits = text.Length - 21;
            if (!Number(text.Slice(20, digits), out fraction))
            {
                return false;
            }

            fraction *= Scale[9 - digits];
        }

        if (year is < 1 or > 9998 || month is < 1 or > 12 || day < 1 || day > CalendarSystem.Iso.GetDaysInMonth(year, month)
            || hour > 23 || minute > 59 || second > 59)
        {
            return false;
        }

        value = Instant.FromUtc(year, month, day, hour, minute, second).PlusNanoseconds(fraction);
        return true;
    }

    private static void Digits(Span<byte> into, int number)
    {
        for (var i = into.Length - 1; i >= 0; i--)
        {
            into[i] = (byte)('0' + number % 10);
            number /= 10;
        }
    }

    private static bool Number(ReadOnlySpan<byte> digits, out int number)
    {
        number = 0;
        foreach (var b in digits)
        {
            if (b is < (byte)'0' or > (byte)'9')
            {
                return false;
            }

            number = number * 10 + (b - '0');
        }

        return true;
    }
}
