using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Presence.Server.Tests.HomeAssistant;

/// <summary>One entity as Home Assistant would read it: its device config's component, abbreviations and `~` expanded.</summary>
public sealed record HaComponent(string DeviceId, string Key, string Platform, string UniqueId, JsonObject Config);

/// <summary>What the broker holds for Home Assistant, checked against <see cref="HaRules"/>.</summary>
public sealed record HaReport(
    IReadOnlyDictionary<string, JsonObject> Devices,
    IReadOnlyList<HaComponent> Components,
    IReadOnlyList<string> StateTopics,
    IReadOnlyList<string> CommandTopics,
    IReadOnlyList<string> Violations);

/// <summary>
/// Reads every retained config under the discovery prefix the way HA's discovery.py does (topic regex, JSON object,
/// abbreviations, `~`), then checks the schemas of <see cref="HaRules"/> and every topic the configs name against
/// what the broker retains.
/// </summary>
public static class HaConformance
{
    public static HaReport Check(IReadOnlyDictionary<string, byte[]> retained, string prefix)
    {
        var violations = new List<string>();
        var devices = new Dictionary<string, JsonObject>();
        var components = new List<HaComponent>();
        foreach (var (topic, payload) in retained.Where(r => r.Key.StartsWith(prefix + "/", StringComparison.Ordinal) && r.Key.EndsWith("/config", StringComparison.Ordinal)))
        {
            if (payload.Length == 0)
            {
                continue; // a removal, not a config
            }

            var match = HaRules.TopicMatcher().Match(topic[(prefix.Length + 1)..]);
            if (!match.Success)
            {
                violations.Add($"{topic}: does not match discovery.py TOPIC_MATCHER (HA: 'illegal discovery topic')");
                continue;
            }

            JsonObject root;
            try
            {
                root = JsonNode.Parse(Encoding.UTF8.GetString(payload)) as JsonObject ?? throw new JsonException("not a JSON object");
            }
            catch (JsonException e)
            {
                violations.Add($"{topic}: not a JSON object ({e.Message})");
                continue;
            }

            if (match.Groups["component"].Value != "device")
            {
                violations.Add($"{topic}: Presence announces devices only ({prefix}/device/<id>/config)");
                continue;
            }

            var deviceId = match.Groups["object_id"].Value;
            root = Expand(root, HaRules.Abbreviations);
            foreach (var key in root.Select(p => p.Key).Where(k => !HaRules.DeviceDiscoveryRootKeys.Contains(k)))
            {
                violations.Add($"{topic}: root key '{key}' is not in DEVICE_DISCOVERY_SCHEMA (HA refuses the whole device)");
            }

            foreach (var key in HaRules.DeviceDiscoveryRequired.Where(k => root[k] is null))
            {
                violations.Add($"{topic}: required '{key}' missing");
            }

            if (root["device"] is JsonObject device)
            {
                device = Expand(device, HaRules.DeviceAbbreviations);
                devices[deviceId] = device;
                CheckDevice(topic, device, violations);
            }

            if (root["origin"] is JsonObject origin)
            {
                origin = Expand(origin, HaRules.OriginAbbreviations);
                foreach (var key in origin.Select(p => p.Key).Where(k => !HaRules.OriginKeys.Contains(k)))
                {
                    violations.Add($"{topic}: origin key '{key}' is not in MQTT_ORIGIN_INFO_SCHEMA");
                }

                if (origin["name"]?.GetValueKind() != JsonValueKind.String)
                {
                    violations.Add($"{topic}: origin.name is required");
                }
            }
            else
            {
                violations.Add($"{topic}: origin must be an object");
            }

            if (root["components"] is not JsonObject cmps || cmps.Count == 0)
            {
                violations.Add($"{topic}: components must be a non-empty object");
                continue;
            }

            foreach (var (key, node) in cmps)
            {
                var where = $"{topic} component '{key}'";
                if (!HaRules.TopicMatcher().IsMatch($"x/{deviceId}/{key}/config"))
                {
                    violations.Add($"{where}: its key becomes an object_id and must match [a-zA-Z0-9_-]+");
                }

                if (node is not JsonObject raw)
                {
                    violations.Add($"{where}: not an object");
                    continue;
                }

                var component = ExpandTopics(Expand(raw, HaRules.Abbreviations));
                if (component["availability"] is JsonArray items)
                {
                    component["availability"] = new JsonArray(items.Select(i => (JsonNode?)(i is JsonObject o ? ExpandTopics(Expand(o, HaRules.Abbreviations), component["~"]?.GetValue<string>()) : i?.DeepClone())).ToArray());
                }

                var platform = component["platform"]?.GetValue<string>() ?? "";
                var uniqueId = component["unique_id"]?.GetValue<string>() ?? "";
                CheckComponent(where, platform, component, violations);
                components.Add(new HaComponent(deviceId, key, platform, uniqueId, component));
            }
        }

        foreach (var duplicate in components.GroupBy(c => c.UniqueId).Where(g => g.Count() > 1))
        {
            violations.Add($"unique_id '{duplicate.Key}' is used by {duplicate.Count()} components (HA keeps only the first)");
        }

        var identifiers = devices.Values.SelectMany(d => d["identifiers"]?.AsArray().Select(i => i!.GetValue<string>()) ?? []).ToHashSet();
        foreach (var (id, device) in devices)
        {
            if (device["via_device"]?.GetValue<string>() is { } via && !identifiers.Contains(via))
            {
                violations.Add($"device {id}: via_device '{via}' is no announced device's identifier");
            }
        }

        var stateTopics = new List<string>();
        var commandTopics = new List<string>();
        foreach (var c in components)
        {
            CheckTopics(c, retained, stateTopics, commandTopics, violations);
        }

        return new HaReport(devices, components, stateTopics.Distinct().ToList(), commandTopics.Distinct().ToList(), violations);
    }

    private static void CheckDevice(string topic, JsonObject device, List<string> violations)
    {
        foreach (var key in device.Select(p => p.Key).Where(k => !HaRules.DeviceKeys.Contains(k)))
        {
            violations.Add($"{topic}: device key '{key}' is not in MQTT_ENTITY_DEVICE_INFO_SCHEMA");
        }

        var ids = device["identifiers"] as JsonArray;
        if ((ids is null || ids.Count == 0) && device["connections"] is null)
        {
            violations.Add($"{topic}: 'Device must have at least one identifying value in 'identifiers' and/or 'connections''");
        }

        if (ids is not null && ids.Any(i => i?.GetValueKind() != JsonValueKind.String))
        {
            violations.Add($"{topic}: device identifiers must be strings");
        }

        if (device["name"]?.GetValueKind() != JsonValueKind.String)
        {
            violations.Add($"{topic}: a device needs a name (entity.py logs 'MQTT device information always needs to include a name')");
        }

        if (device["via_device"] is { } via && via.GetValueKind() != JsonValueKind.String)
        {
            violations.Add($"{topic}: via_device must be one identifier string");
        }
    }

    private static void CheckComponent(string where, string platform, JsonObject c, List<string> violations)
    {
        if (!HaRules.Platforms.Contains(platform))
        {
            violations.Add($"{where}: platform '{platform}' is not one this test knows HA's schema of");
            return;
        }

        foreach (var key in HaRules.Required[platform].Where(k => c[k] is null))
        {
            violations.Add($"{where}: required '{key}' missing for {platform}");
        }

        foreach (var key in c.Select(p => p.Key).Where(k => !HaRules.PlatformKeys[platform].Contains(k)))
        {
            violations.Add($"{where}: '{key}' is not a {platform} option (HA drops it silently)");
        }

        if (c["name"] is null)
        {
            violations.Add($"{where}: no name: with has_entity_name HA would name it after the device class or the device alone");
        }

        if (c["default_entity_id"]?.GetValue<string>() is { } entityId
            && (!HaRules.ValidEntityId().IsMatch(entityId) || !entityId.StartsWith(platform + ".", StringComparison.Ordinal)))
        {
            violations.Add($"{where}: default_entity_id '{entityId}' is not a valid {platform} entity id (core.py VALID_ENTITY_ID)");
        }

        if (c["entity_category"]?.GetValue<string>() is { } category
            && (!HaRules.EntityCategories.Contains(category) || (category == "config" && HaRules.NoConfigCategory.Contains(platform))))
        {
            violations.Add($"{where}: entity_category '{category}' is not allowed for {platform}");
        }

        if (c["availability"] is not null && c["availability_topic"] is not null)
        {
            violations.Add($"{where}: availability and availability_topic are vol.Exclusive");
        }

        if (c["availability_mode"]?.GetValue<string>() is { } mode && !HaRules.AvailabilityModes.Contains(mode))
        {
            violations.Add($"{where}: availability_mode '{mode}' is not all/any/latest");
        }

        if (c["availability"] is JsonArray items)
        {
            foreach (var item in items)
            {
                if (item is not JsonObject o || o["topic"] is null)
                {
                    violations.Add($"{where}: an availability item needs a topic");
                    continue;
                }

                foreach (var key in o.Select(p => p.Key).Where(k => !HaRules.AvailabilityItemKeys.Contains(k)))
                {
                    violations.Add($"{where}: availability key '{key}' is not allowed");
                }
            }
        }

        var deviceClass = c["device_class"]?.GetValue<string>();
        var options = c["options"] as JsonArray;
        switch (platform)
        {
            case "sensor":
                if (deviceClass is not null && !HaRules.SensorDeviceClasses.Contains(deviceClass))
                {
                    violations.Add($"{where}: sensor device_class '{deviceClass}' is not a SensorDeviceClass");
                }

                if (c["state_class"]?.GetValue<string>() is { } stateClass && !HaRules.StateClasses.Contains(stateClass))
                {
                    violations.Add($"{where}: state_class '{stateClass}' is not a SensorStateClass");
                }

                if (options is not null)
                {
                    if (options.Count == 0)
                    {
                        violations.Add($"{where}: 'An empty options list is not allowed'");
                    }

                    if (c["state_class"] is not null || c["unit_of_measurement"] is not null)
                    {
                        violations.Add($"{where}: options may not go with state_class or unit_of_measurement");
                    }

                    if (deviceClass != "enum")
                    {
                        violations.Add($"{where}: 'The option `options` must be used together with device class `enum`'");
                    }
                }

                if (deviceClass is not null && HaRules.DeviceClassUnits.TryGetValue(deviceClass, out var units))
                {
                    if (c["unit_of_measurement"]?.GetValue<string>() is not { } unit || !units.Contains(unit))
                    {
                        violations.Add($"{where}: unit '{c["unit_of_measurement"]}' is not one DEVICE_CLASS_UNITS allows for {deviceClass}");
                    }
                }
                else if (deviceClass is not null && !HaRules.NonNumericSensorClasses.Contains(deviceClass))
                {
                    violations.Add($"{where}: numeric device_class '{deviceClass}' has no unit table here; read DEVICE_CLASS_UNITS first");
                }

                break;
            case "binary_sensor":
                if (deviceClass is not null && !HaRules.BinarySensorDeviceClasses.Contains(deviceClass))
                {
                    violations.Add($"{where}: binary_sensor device_class '{deviceClass}' is not a BinarySensorDeviceClass");
                }

                break;
            case "select":
                if (options is null || options.Count == 0)
                {
                    violations.Add($"{where}: a select needs options");
                }
                else if (options.Any(o => o!.GetValue<string>().Equals("none", StringComparison.OrdinalIgnoreCase)))
                {
                    violations.Add($"{where}: an option 'none' would clear the select (select.py)");
                }

                break;
            default:
                if (deviceClass is not null)
                {
                    violations.Add($"{where}: {platform} device_class '{deviceClass}' is not checked here; read its DeviceClass enum first");
                }

                if (platform == "event" && (c["event_types"] is not JsonArray types || types.Count == 0))
                {
                    violations.Add($"{where}: event_types must be a non-empty list");
                }

                break;
        }
    }

    private static void CheckTopics(HaComponent c, IReadOnlyDictionary<string, byte[]> retained, List<string> stateTopics, List<string> commandTopics, List<string> violations)
    {
        var where = $"{c.DeviceId}/{c.Key} ({c.Platform})";
        var config = c.Config;
        string? Retained(string topic) => retained.TryGetValue(topic, out var p) && p.Length > 0 ? Encoding.UTF8.GetString(p) : null;

        if (config["command_topic"]?.GetValue<string>() is { } command)
        {
            commandTopics.Add(command);
            if (Retained(command) is { } value)
            {
                violations.Add($"{where}: command topic {command} holds a retained message '{value}'");
            }
        }

        foreach (var item in config["availability"] as JsonArray ?? [])
        {
            var topic = item!["topic"]!.GetValue<string>();
            var available = item["payload_available"]?.GetValue<string>() ?? HaRules.DefaultPayloadAvailable;
            var notAvailable = item["payload_not_available"]?.GetValue<string>() ?? HaRules.DefaultPayloadNotAvailable;
            if (Retained(topic) is not { } value)
            {
                violations.Add($"{where}: availability topic {topic} has no retained message (HA shows unavailable until one comes)");
                continue;
            }

            if (Rendered(item["value_template"]?.GetValue<string>(), value) is not { } rendered)
            {
                violations.Add($"{where}: cannot read availability {topic} '{value}' with template {item["value_template"]}");
            }
            else if (rendered != available && rendered != notAvailable)
            {
                violations.Add($"{where}: availability {topic} gives '{rendered}', neither '{available}' nor '{notAvailable}' (HA ignores it)");
            }
        }

        if (config["json_attributes_topic"]?.GetValue<string>() is { } attributes)
        {
            stateTopics.Add(attributes);
            if (Retained(attributes) is not { } json)
            {
                violations.Add($"{where}: json_attributes_topic {attributes} is not retained");
            }
            else if (!IsJsonObject(json))
            {
                violations.Add($"{where}: json_attributes_topic {attributes} is not a JSON object ('JSON result was not a dictionary')");
            }
        }

        if (config["state_topic"]?.GetValue<string>() is not { } stateTopic)
        {
            return;
        }

        if (c.Platform == "event")
        {
            // event.py: "Ignoring event trigger from replayed retained payload".
            if (Retained(stateTopic) is { } replayed)
            {
                violations.Add($"{where}: event topic {stateTopic} holds a retained message '{replayed}' (HA ignores retained events)");
            }

            return;
        }

        stateTopics.Add(stateTopic);
        if (Retained(stateTopic) is not { } state)
        {
            violations.Add($"{where}: state topic {stateTopic} has no retained value (HA shows unknown)");
            return;
        }

        if (config["value_template"] is not null)
        {
            violations.Add($"{where}: a value_template on {stateTopic} is not checked here");
            return;
        }

        if (state.Length > HaRules.MaxStateLength)
        {
            violations.Add($"{where}: state on {stateTopic} is {state.Length} characters; HA refuses more than {HaRules.MaxStateLength}");
        }

        var options = (config["options"] as JsonArray)?.Select(o => o!.GetValue<string>()).ToList();
        var on = config["state_on"]?.GetValue<string>() ?? config["payload_on"]?.GetValue<string>() ?? HaRules.DefaultOn;
        var off = config["state_off"]?.GetValue<string>() ?? config["payload_off"]?.GetValue<string>() ?? HaRules.DefaultOff;
        var numeric = c.Platform == "sensor" && options is null
            && (config["unit_of_measurement"] is not null || config["state_class"] is not null
                || (config["device_class"]?.GetValue<string>() is { } cls && !HaRules.NonNumericSensorClasses.Contains(cls)));
        var valid = c.Platform switch
        {
            "sensor" when options is not null => options.Contains(state),
            "sensor" when numeric => state == HaRules.PayloadNone || double.TryParse(state, NumberStyles.Float, CultureInfo.InvariantCulture, out _),
            "sensor" => true,
            "binary_sensor" or "switch" => state == on || state == off,
            "select" => options!.Contains(state) && !state.Equals("none", StringComparison.OrdinalIgnoreCase),
            _ => false,
        };
        if (!valid)
        {
            violations.Add($"{where}: state '{state}' on {stateTopic} is not a valid {c.Platform} value{(options is null ? "" : $" (options: {string.Join(", ", options)})")}");
        }
    }

    /// <summary>The one template form Presence uses, `{{ value_json.KEY }}`; null for any other (the test cannot render Jinja).</summary>
    private static string? Rendered(string? template, string value)
    {
        if (template is null)
        {
            return value;
        }

        var m = System.Text.RegularExpressions.Regex.Match(template, @"^\{\{\s*value_json\.([a-z_]+)\s*\}\}$");
        if (!m.Success)
        {
            return null;
        }

        try
        {
            return JsonNode.Parse(value) is JsonObject o && o[m.Groups[1].Value]?.GetValueKind() == JsonValueKind.String
                ? o[m.Groups[1].Value]!.GetValue<string>()
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static bool IsJsonObject(string json)
    {
        try
        {
            return JsonNode.Parse(json) is JsonObject;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    /// <summary>discovery.py _replace_all_abbreviations for one level: an abbreviated key becomes its full name.</summary>
    private static JsonObject Expand(JsonObject o, IReadOnlyDictionary<string, string> abbreviations)
    {
        var expanded = new JsonObject();
        foreach (var (key, value) in o)
        {
            expanded[abbreviations.GetValueOrDefault(key, key)] = value?.DeepClone();
        }

        return expanded;
    }

    /// <summary>discovery.py: `~` at the start or end of a value whose key ends in "topic" becomes the component's `~`.</summary>
    private static JsonObject ExpandTopics(JsonObject o, string? inheritedBase = null)
    {
        var topicBase = o[HaRules.TopicBase]?.GetValue<string>() ?? inheritedBase;
        if (topicBase is null)
        {
            return o;
        }

        foreach (var key in o.Select(p => p.Key).Where(k => k.EndsWith("topic", StringComparison.Ordinal)).ToList())
        {
            if (o[key]?.GetValueKind() == JsonValueKind.String && o[key]!.GetValue<string>() is var value)
            {
                o[key] = value.StartsWith('~') ? topicBase + value[1..] : value.EndsWith('~') ? value[..^1] + topicBase : value;
            }
        }

        return o;
    }
}
