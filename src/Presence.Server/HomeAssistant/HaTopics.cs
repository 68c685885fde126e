using System.Text.RegularExpressions;
using Presence.Contracts.Wire;

namespace Presence.Server.HomeAssistant;

/// <summary>
/// Every topic and id Presence uses with Home Assistant. Ids are built from the topic root and the house file's names
/// only, never from anything a restart or an upgrade changes: Home Assistant keys its registry by unique_id and makes
/// `_2` duplicates when one changes.
/// </summary>
public sealed partial class HaTopics(Topics topics, string discoveryPrefix)
{
    public Topics Contract { get; } = topics;

    public string Prefix { get; } = discoveryPrefix;

    /// <summary>
    /// The topic root as an id part: HA's discovery topic regex allows only [a-zA-Z0-9_-] in a node or object id
    /// (discovery.py TOPIC_MATCHER), and a second house on the same broker (another root) must not share ids.
    /// </summary>
    public string Node { get; } = NotAnIdCharacter().Replace(topics.Root, "_");

    [GeneratedRegex("[^a-zA-Z0-9_-]")]
    private static partial Regex NotAnIdCharacter();

    /// <summary>Home Assistant's birth and last-will topic (HA const.py DEFAULT_BIRTH_WILL_TOPIC under the prefix).</summary>
    public string Birth => $"{Prefix}/status";

    /// <summary>Every device config under the prefix, Presence's and others', to find Presence's stale ones.</summary>
    public string DeviceConfigs => $"{Prefix}/device/+/config";

    public string ServerId => $"{Node}_server";

    public string PersonId(string user) => $"{Node}_person_{user}";

    public string ComputerId(string host) => $"{Node}_computer_{host}";

    public string DeviceConfig(string deviceId) => $"{Prefix}/device/{deviceId}/config";

    /// <summary>The device id of a device config topic, or null when the topic is not one.</summary>
    public string? DeviceIdOf(string configTopic)
    {
        var start = $"{Prefix}/device/";
        return configTopic.StartsWith(start, StringComparison.Ordinal) && configTopic.EndsWith("/config", StringComparison.Ordinal)
            && configTopic.Length > start.Length + "/config".Length
            ? configTopic[start.Length..^"/config".Length]
            : null;
    }

    /// <summary>Whether a device id is one Presence (this topic root) makes: only those may be removed as stale.</summary>
    public bool IsOurs(string deviceId) =>
        deviceId == ServerId || deviceId.StartsWith($"{Node}_person_", StringComparison.Ordinal) || deviceId.StartsWith($"{Node}_computer_", StringComparison.Ordinal);

    public string Server(string key) => $"{Contract.Root}/ha/server/{key}";

    public string Person(string user, string key) => $"{Contract.Root}/ha/person/{user}/{key}";

    public string Computer(string host, string key) => $"{Contract.Root}/ha/computer/{host}/{key}";

    /// <summary>The controller identity Home Assistant connects as (CONTRACT §5); only it may publish the command topics.</summary>
    public const string Controller = "homeassistant";

    /// <summary>Whether <paramref name="topic"/> is one of Home Assistant's command topics under <paramref name="root"/>.</summary>
    public static bool IsCommand(string root, string topic) =>
        topic.StartsWith($"{root}/ha/", StringComparison.Ordinal)
        && (topic.EndsWith("/set", StringComparison.Ordinal) || topic.EndsWith("/press", StringComparison.Ordinal));

    /// <summary>A switch's or select's command topic: never retained, by Presence or (HA's default) by Home Assistant.</summary>
    public static string Set(string stateTopic) => stateTopic + "/set";

    /// <summary>A button's command topic.</summary>
    public static string Press(string stateTopic) => stateTopic + "/press";

    public static string Attributes(string stateTopic) => stateTopic + "/attributes";
}
