using Microsoft.Extensions.Options;

namespace Presence.Server.HomeAssistant.Statestream;

/// <summary>
/// The mapped entities by the topic mqtt_statestream publishes their state on: `&lt;base&gt;/&lt;domain&gt;/&lt;object_id&gt;/state`
/// (mqtt_statestream/__init__.py: the entity id with its dot made a '/', then "/state").
/// </summary>
public sealed class StatestreamMap
{
    private readonly Dictionary<string, StatestreamEntityOptions> byTopic;

    public StatestreamMap(IOptions<StatestreamOptions> options)
    {
        var ha = options.Value;
        BaseTopic = ha.BaseTopic;
        Identity = ha.Identity;
        byTopic = ha.Enabled ? ha.Entities.ToDictionary(e => StateTopic(ha.BaseTopic, e.Entity)) : [];
        Rooms = new Dictionary<string, string>(ha.Rooms, StringComparer.OrdinalIgnoreCase);
    }

    public string BaseTopic { get; }
    public string Identity { get; }

    /// <summary>Room names (case ignored: mqtt_room says the topic's "office", Bermuda the area's "Office") → computer.</summary>
    public IReadOnlyDictionary<string, string> Rooms { get; }

    public bool Enabled => byTopic.Count > 0;

    /// <summary>One exact subscription per mapped entity: the states of entities Presence does not read never arrive.</summary>
    public IReadOnlyList<string> Subscriptions => [.. byTopic.Keys.Order(StringComparer.Ordinal)];

    public static string StateTopic(string baseTopic, string entity) => $"{baseTopic}/{entity.Replace('.', '/')}/state";

    /// <summary>Whether the topic is under the statestream base at all (Home Assistant's to publish, Presence's to read).</summary>
    public bool IsUnderBase(string topic) => Enabled && topic.StartsWith(BaseTopic + "/", StringComparison.Ordinal);

    public StatestreamEntityOptions? Entity(string topic) => byTopic.GetValueOrDefault(topic);

    /// <summary>The entity id a statestream topic speaks of (`domain.object_id`), for errors about unmapped ones.</summary>
    public string EntityOf(string topic)
    {
        var parts = topic[(BaseTopic.Length + 1)..].Split('/');
        return parts.Length >= 2 ? $"{parts[0]}.{parts[1]}" : topic;
    }
}
