using System.Text;
using System.Text.Json;
using System.Text.Unicode;
using NodaTime;
using NodaTime.Text;

namespace Presence.Contracts.Wire;

/// <summary>
/// Reads one JSON object field by field so every rejection can say which field was wrong and why;
/// a generic deserializer only reports byte offsets. Unknown keys are ignored (forward compatible).
/// A JSON null counts as absent for optional fields.
/// </summary>
public sealed class PayloadReader
{
    public const int MaxIdLength = 64;

    private readonly JsonElement root;

    private PayloadReader(JsonElement root) => this.root = root;

    public static PayloadReader Open(ReadOnlySpan<byte> utf8)
    {
        if (utf8.IsEmpty)
        {
            throw new ContractException("payload is empty; expected a JSON object");
        }

        // The reader checks UTF-8 only lazily (GetString throws InvalidOperationException), so check it up front.
        if (!Utf8.IsValid(utf8))
        {
            throw new ContractException("payload is not valid UTF-8");
        }

        try
        {
            var reader = new Utf8JsonReader(utf8);
            using var document = JsonDocument.ParseValue(ref reader);

            // ParseValue stops after the first value; anything but whitespace after it makes the payload invalid JSON.
            if (reader.Read())
            {
                throw new ContractException($"payload is not valid JSON: unexpected content after the first value at byte {reader.TokenStartIndex}");
            }

            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new ContractException($"payload must be a JSON object, not {Describe(document.RootElement.ValueKind)}");
            }

            return new PayloadReader(document.RootElement.Clone());
        }
        catch (JsonException e)
        {
            throw new ContractException($"payload is not valid JSON: {FirstSentence(e.Message)}");
        }
    }

    public static PayloadReader Open(string json) => Open(Encoding.UTF8.GetBytes(json));

    /// <summary>The contract's optional de-duplication id.</summary>
    public string? Id() => OptionalString("id", MaxIdLength);

    /// <summary>The contract's optional event time.</summary>
    public Instant? At() => OptionalInstant("at");

    public bool Has(string name) => root.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null;

    public string RequiredString(string name, int maxLength = 1024) =>
        OptionalString(name, maxLength) ?? throw Missing(name, "a string");

    public string? OptionalString(string name, int maxLength = 1024)
    {
        if (!TryGet(name, out var value))
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.String)
        {
            throw WrongType(name, "a string", value);
        }

        var text = value.GetString()!;
        if (text.Length > maxLength)
        {
            throw new ContractException($"field '{name}' is {text.Length} characters long; at most {maxLength} allowed");
        }

        return text;
    }

    /// <summary>A user or host name, which must match the contract's name pattern.</summary>
    public string RequiredName(string name) => CheckName(name, RequiredString(name, 63));

    public string? OptionalName(string name) => OptionalString(name, 63) is { } n ? CheckName(name, n) : null;

    public TEnum RequiredEnum<TEnum>(string name) where TEnum : struct, Enum =>
        OptionalEnum<TEnum>(name) ?? throw Missing(name, $"one of {ContractJson.WireNames<TEnum>()}");

    public TEnum? OptionalEnum<TEnum>(string name) where TEnum : struct, Enum
    {
        if (!TryGet(name, out var value))
        {
            return null;
        }

        if (value.ValueKind == JsonValueKind.String)
        {
            var text = value.GetString();
            foreach (var candidate in Enum.GetValues<TEnum>())
            {
                if (string.Equals(ContractJson.WireName(candidate), text, StringComparison.Ordinal))
                {
                    return candidate;
                }
            }
        }

        throw new ContractException(
            $"field '{name}' must be one of {ContractJson.WireNames<TEnum>()}, got {Show(value)}");
    }

    public bool RequiredBool(string name) => OptionalBool(name) ?? throw Missing(name, "true or false");

    public bool? OptionalBool(string name)
    {
        if (!TryGet(name, out var value))
        {
            return null;
        }

        return value.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw WrongType(name, "true or false", value),
        };
    }

    public long RequiredLong(string name, long min = long.MinValue, long max = long.MaxValue) =>
        OptionalLong(name, min, max) ?? throw Missing(name, "a whole number");

    public long? OptionalLong(string name, long min = long.MinValue, long max = long.MaxValue)
    {
        if (!TryGet(name, out var value))
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt64(out var number))
        {
            throw WrongType(name, "a whole number", value);
        }

        return number < min || number > max
            ? throw new ContractException($"field '{name}' must be between {min} and {max}, got {number}")
            : number;
    }

    public int? OptionalInt(string name, int min = int.MinValue, int max = int.MaxValue) =>
        (int?)OptionalLong(name, min, max);

    public int RequiredInt(string name, int min = int.MinValue, int max = int.MaxValue) =>
        (int)RequiredLong(name, min, max);

    public double? OptionalDouble(string name, double min = double.MinValue, double max = double.MaxValue)
    {
        if (!TryGet(name, out var value))
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.Number)
        {
            throw WrongType(name, "a number", value);
        }

        var number = value.GetDouble();
        return number < min || number > max
            ? throw new ContractException($"field '{name}' must be between {min} and {max}, got {number}")
            : number;
    }

    public Instant? OptionalInstant(string name)
    {
        var text = OptionalString(name, 64);
        if (text is null)
        {
            return null;
        }

        var result = InstantPattern.ExtendedIso.Parse(text);
        if (result.Success)
        {
            return result.Value;
        }

        // Emitters often send an offset rather than Z (date -Iseconds does): accept any ISO-8601 offset.
        var withOffset = OffsetDateTimePattern.ExtendedIso.Parse(text);
        return withOffset.Success
            ? withOffset.Value.ToInstant()
            : throw new ContractException($"field '{name}' must be an ISO-8601 instant such as 2026-11-25T08:30:00Z, got \"{text}\"");
    }

    /// <summary>A nested object, or null when absent.</summary>
    public PayloadReader? OptionalObject(string name)
    {
        if (!TryGet(name, out var value))
        {
            return null;
        }

        return value.ValueKind == JsonValueKind.Object ? new PayloadReader(value) : throw WrongType(name, "an object", value);
    }

    /// <summary>The objects of an array field (empty when absent).</summary>
    public IReadOnlyList<PayloadReader> ObjectArray(string name)
    {
        if (!TryGet(name, out var value))
        {
            return [];
        }

        if (value.ValueKind != JsonValueKind.Array)
        {
            throw WrongType(name, "an array", value);
        }

        var items = new List<PayloadReader>();
        var index = 0;
        foreach (var item in value.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Object)
            {
                throw new ContractException($"field '{name}[{index}]' must be an object, got {Show(item)}");
            }

            items.Add(new PayloadReader(item));
            index++;
        }

        return items;
    }

    private bool TryGet(string name, out JsonElement value) =>
        root.TryGetProperty(name, out value) && value.ValueKind != JsonValueKind.Null;

    private static string CheckName(string field, string value) =>
        Topics.IsValidName(value)
            ? value
            : throw new ContractException($"field '{field}' must match [a-z0-9][a-z0-9_-]{{0,62}}, got \"{value}\"");

    private static ContractException Missing(string name, string expected) =>
        new($"required field '{name}' is missing; expected {expected}");

    private static ContractException WrongType(string name, string expected, JsonElement value) =>
        new($"field '{name}' must be {expected}, got {Show(value)}");

    private static string Show(JsonElement value)
    {
        var raw = value.GetRawText();
        return raw.Length > 40 ? raw[..40] + "…" : raw;
    }

    private static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Null => "null",
        _ => kind.ToString(),
    };

    private static string FirstSentence(string message)
    {
        var cut = message.IndexOf(". ", StringComparison.Ordinal);
        return cut > 0 ? message[..cut] : message;
    }
}
