namespace Presence.Server.HomeAssistant;

/// <summary>`HomeAssistant:*` in the house file: whether Presence announces itself to Home Assistant, and where.</summary>
public sealed class HomeAssistantOptions
{
    public const string Section = "HomeAssistant";

    /// <summary>Off: no discovery config, state or event for Home Assistant is published, and nothing is removed.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Home Assistant's `discovery_prefix` (its MQTT integration's setting); its birth topic is `{prefix}/status`.</summary>
    public string DiscoveryPrefix { get; set; } = "homeassistant";

    /// <summary>Null when usable; otherwise what is wrong, naming the key.</summary>
    public static string? Check(HomeAssistantOptions options)
    {
        var prefix = options.DiscoveryPrefix;
        if (string.IsNullOrWhiteSpace(prefix))
        {
            return $"{Section}:DiscoveryPrefix is empty; Home Assistant's default is 'homeassistant'";
        }

        // It is the first levels of every config topic Presence publishes and of the filter it subscribes to:
        // a wildcard would publish nowhere (MQTT refuses it) and an empty level would never match HA's subscription.
        if (prefix.IndexOfAny(['+', '#', '\0']) >= 0 || prefix.Split('/').Any(level => level.Length == 0) || prefix != prefix.Trim())
        {
            return $"{Section}:DiscoveryPrefix '{prefix}' must be MQTT topic levels without wildcards (+, #), empty levels, a leading or trailing '/' or surrounding spaces";
        }

        return null;
    }
}
