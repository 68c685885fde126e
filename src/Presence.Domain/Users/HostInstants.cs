using System.Collections.Immutable;
using System.Text.Json;
using System.Text.Json.Serialization;
using NodaTime;

namespace Presence.Domain.Users;

/// <summary>
/// An instant per computer, as the saga keeps them (<see cref="UserSaga.NewestEvidence"/>,
/// <see cref="UserSaga.UnpluggedAt"/>). Every evidence sets one: a hash map was copied whole each time, twice per
/// signal (the decider's fold and the stored saga's), and for a 50-computer house that copy was a fifth of all the
/// server allocated under a burst. A sorted immutable tree shares all but one path. Ordinal, so its order does not
/// depend on the machine's culture.
/// </summary>
public static class HostInstants
{
    public static readonly ImmutableSortedDictionary<string, Instant> None = ImmutableSortedDictionary.Create<string, Instant>(StringComparer.Ordinal);
}

/// <summary>
/// Reads and writes <see cref="HostInstants"/> as the JSON object of host → instant the saga always stored, and reads
/// it back ordinal (System.Text.Json's own converter would build it with the culture's comparer).
/// </summary>
public sealed class HostInstantsJson : JsonConverter<ImmutableSortedDictionary<string, Instant>>
{
    public override ImmutableSortedDictionary<string, Instant> Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw new JsonException($"expected an object of host to instant, found {reader.TokenType}");
        }

        var instant = (JsonConverter<Instant>)options.GetConverter(typeof(Instant));
        var read = ImmutableSortedDictionary.CreateBuilder<string, Instant>(StringComparer.Ordinal);
        while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
        {
            var host = reader.GetString()!;
            reader.Read();
            read[host] = instant.Read(ref reader, typeof(Instant), options);
        }

        return read.ToImmutable();
    }

    public override void Write(Utf8JsonWriter writer, ImmutableSortedDictionary<string, Instant> value, JsonSerializerOptions options)
    {
        var instant = (JsonConverter<Instant>)options.GetConverter(typeof(Instant));
        writer.WriteStartObject();
        foreach (var (host, at) in value)
        {
            writer.WritePropertyName(host);
            instant.Write(writer, at, options);
        }

        writer.WriteEndObject();
    }
}
