using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using NodaTime;
using Presence.Contracts.Wire;
using Presence.Domain.Audit;
using Presence.Domain.Hosts;
using Presence.Domain.Users;
using Presence.Server.Configuration;

namespace Presence.Server.Replay;

/// <summary>What a history file says about itself on its first line.</summary>
/// <param name="House">The house file's House section as it was when the history was exported: replaying the file needs no other.</param>
public sealed record HistoryHeader(string Format, string User, Instant ExportedAt, string? PolicyVersion, JsonObject? House);

public sealed record History(HistoryHeader Header, IReadOnlyList<Recorded> Events);

/// <summary>A history file that cannot be read; the message names the file, the line and what is wrong.</summary>
public sealed class HistoryFormatException(string message) : Exception(message);

/// <summary>
/// A user's history as JSON lines: a header line, then one event per line in stream order with its audit metadata.
/// Lines, so a history diffs and greps well and a truncated file still shows where it ends.
/// </summary>
public static class HistoryFile
{
    public const string Format = "presence-history/1";

    private static readonly JsonSerializerOptions Json = Options(JsonNamingPolicy.SnakeCaseLower);

    /// <summary>The house is written as the house file spells it, so it binds back like one.</summary>
    private static readonly JsonSerializerOptions HouseJson = Options(null);

    private static readonly Dictionary<string, Type> TypesByName = UserDecider.EventTypes.Concat(HostState.EventTypes)
        .ToDictionary(t => JsonNamingPolicy.SnakeCaseLower.ConvertName(t.Name));

    private static readonly Dictionary<Type, string> NamesByType = TypesByName.ToDictionary(p => p.Value, p => p.Key);

    public static string TypeName(Type type) => NamesByType.TryGetValue(type, out var name)
        ? name
        : throw new ArgumentException($"{type.Name} is not an event of a Presence stream", nameof(type));

    public static void Write(TextWriter writer, string user, Instant exportedAt, HouseOptions? house, IEnumerable<Recorded> events)
    {
        var list = events.ToList();
        var header = new HistoryHeader(
            Format, user, exportedAt, list.Select(e => e.Header("policy_version")).LastOrDefault(v => v is not null),
            house is null ? null : JsonSerializer.SerializeToNode(house, HouseJson)!.AsObject());
        writer.Write(JsonSerializer.Serialize(header, Json));
        writer.Write('\n');
        foreach (var e in list)
        {
            var line = new JsonObject
            {
                ["version"] = e.Version,
                ["type"] = TypeName(e.Data.GetType()),
                ["at"] = JsonSerializer.SerializeToNode(e.At, Json),
                ["correlation_id"] = e.CorrelationId,
                ["causation_id"] = e.CausationId,
                ["headers"] = JsonSerializer.SerializeToNode(e.Headers.OrderBy(h => h.Key, StringComparer.Ordinal).ToDictionary(), Json),
                ["data"] = JsonSerializer.SerializeToNode(e.Data, e.Data.GetType(), Json),
            };
            writer.Write(line.ToJsonString(Json));
            writer.Write('\n');
        }
    }

    public static History Read(string path)
    {
        if (!File.Exists(path))
        {
            throw new HistoryFormatException($"history file '{path}' does not exist");
        }

        using var reader = File.OpenText(path);
        return Read(reader, path);
    }

    /// <summary>Reads a whole history, or throws naming the first line that is wrong: nothing half-read is used.</summary>
    public static History Read(TextReader reader, string source)
    {
        var number = 0;
        HistoryHeader? header = null;
        var events = new List<Recorded>();
        while (reader.ReadLine() is { } line)
        {
            number++;
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            try
            {
                if (header is null)
                {
                    header = JsonSerializer.Deserialize<HistoryHeader>(line, Json);
                    if (header?.Format != Format)
                    {
                        throw new HistoryFormatException($"{source}:{number}: not a Presence history (expected \"format\": \"{Format}\" on the first line)");
                    }

                    if (string.IsNullOrWhiteSpace(header.User))
                    {
                        throw new HistoryFormatException($"{source}:{number}: the header names no user");
                    }

                    continue;
                }

                events.Add(ReadEvent(line, source, number, header.User, events.Count));
            }
            catch (JsonException e)
            {
                throw new HistoryFormatException($"{source}:{number}: not valid JSON: {e.Message}");
            }
        }

        return new History(header ?? throw new HistoryFormatException($"{source}: empty, not a Presence history"), events);
    }

    private static Recorded ReadEvent(string line, string source, int number, string user, int previous)
    {
        var node = JsonNode.Parse(line)?.AsObject() ?? throw new HistoryFormatException($"{source}:{number}: expected an object");
        var typeName = node["type"]?.GetValue<string>() ?? throw new HistoryFormatException($"{source}:{number}: no \"type\"");
        if (!TypesByName.TryGetValue(typeName, out var type))
        {
            throw new HistoryFormatException($"{source}:{number}: unknown event type '{typeName}'");
        }

        var version = node["version"]?.GetValue<long>() ?? throw new HistoryFormatException($"{source}:{number}: no \"version\"");
        if (version != previous + 1)
        {
            throw new HistoryFormatException($"{source}:{number}: version {version} where {previous + 1} was expected: events missing or out of order");
        }

        var dataNode = node["data"] ?? throw new HistoryFormatException($"{source}:{number}: no \"data\"");
        var data = dataNode.Deserialize(type, Json) as IDomainEvent
            ?? throw new HistoryFormatException($"{source}:{number}: \"data\" is not a {typeName}");
        if (data is IUserEvent { User: var owner } && owner != user)
        {
            throw new HistoryFormatException($"{source}:{number}: a {typeName} of '{owner}' in the history of '{user}'");
        }

        var headers = node["headers"]?.Deserialize<Dictionary<string, string>>(Json) ?? [];
        return new Recorded(version, data, node["correlation_id"]?.GetValue<string>(), node["causation_id"]?.GetValue<string>(), headers);
    }

    private static JsonSerializerOptions Options(JsonNamingPolicy? naming)
    {
        var options = new JsonSerializerOptions
        {
            PropertyNamingPolicy = naming,
            DictionaryKeyPolicy = null,
            Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
            DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        };
        options.Converters.Add(new JsonStringEnumConverter(naming));
        options.ConfigureTime();
        return options;
    }
}
