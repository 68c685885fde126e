using System.Text.Json;
using System.Text.Json.Serialization;

namespace Presence.Domain.Tests.Support;

/// <summary>
/// Events as text, lists included (records compare lists by reference, so two equal decisions are not Equal):
/// the type name and the JSON of every field. Used to compare decisions and to print them when a test fails.
/// </summary>
public static class EventJson
{
    private static readonly JsonSerializerOptions Options = new()
    {
        Converters = { new JsonStringEnumConverter(), new AsText<Instant>(), new AsText<Duration>() },
    };

    public static string Of(object @event) => @event.GetType().Name + " " + JsonSerializer.Serialize(@event, @event.GetType(), Options);

    public static IReadOnlyList<string> Of(IEnumerable<object> events) => events.Select(Of).ToList();

    public static string Lines(IEnumerable<object> events) => string.Join("\n", events.Select(e => "  " + Of(e)));

    private sealed class AsText<T> : JsonConverter<T>
    {
        public override T Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            throw new NotSupportedException();

        public override void Write(Utf8JsonWriter writer, T value, JsonSerializerOptions options) =>
            writer.WriteStringValue(value?.ToString());
    }
}
