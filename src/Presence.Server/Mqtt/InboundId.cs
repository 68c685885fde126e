using System.Text.Json;

namespace Presence.Server.Mqtt;

/// <summary>
/// What the server can tell about a message it rejects before (or without) understanding it: its top-level `id`, for
/// the error on presence/errors, and whether it is too big to look at. Inbound payloads are small (the largest, an
/// inventory, is a few KiB), so anything over <see cref="MaxPayloadBytes"/> is refused unparsed.
/// </summary>
public static class InboundId
{
    public const int MaxPayloadBytes = 64 * 1024;

    private const int MaxIdLength = 64;

    /// <summary>The payload's top-level string `id` (at most 64 characters), or null when it has none that can be read.</summary>
    public static string? Read(ReadOnlySpan<byte> payload)
    {
        try
        {
            var reader = new Utf8JsonReader(payload, new JsonReaderOptions { MaxDepth = 64 });
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return null;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isId = reader.ValueTextEquals("id"u8);
                if (!reader.Read())
                {
                    return null;
                }

                if (isId)
                {
                    return reader.TokenType == JsonTokenType.String && reader.GetString() is { Length: <= MaxIdLength } id ? id : null;
                }

                reader.Skip();
            }

            return null;
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or ArgumentException)
        {
            // Not JSON, cut short, too deep, or not UTF-8: the error says so; there is no id to name.
            return null;
        }
    }
}
