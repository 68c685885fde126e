using System.Text.Json.Nodes;
using Presence.Domain.House;
using Presence.Domain.Users;
using Presence.Domain.Words;
using Presence.Server.Mqtt;

namespace Presence.Server.HomeAssistant;

/// <summary>One device's discovery config, retained on <see cref="Topic"/>.</summary>
public sealed record DeviceConfig(string DeviceId, string Topic, JsonObject Payload);

/// <summary>
/// The discovery configs Presence announces: a server device, one device per person and one per computer, each
/// person and computer `via_device` the server.
/// Why device-based discovery (`{prefix}/device/{id}/config` with `cmps`) rather than one config per entity: a person
/// is fifteen entities, and one retained message per device means a device appears, changes (a computer added to
/// the house changes every seat list) and is removed (one empty payload) as a whole, never half-announced; its
/// device and origin blocks are written once. The cost is Home Assistant 2024.11 or newer (device discovery's
/// release) and a strict root schema (HA schemas.py DEVICE_DISCOVERY_SCHEMA takes no extra root keys), so
/// everything entity-specific, availability included, sits inside each component.
/// Full keys only, no abbreviations and no `~`: HA accepts both, and full keys read in a broker browser.
/// </summary>
public static partial class Discovery
{
    public const string Nowhere = "nowhere";
    public const string Nothing = "nothing";
    public const string Suspended = "suspended";
    public const string Nobody = "nobody";

    /// <summary>HA's PAYLOAD_NONE: a sensor given it shows `unknown` (a value not measured yet).</summary>
    public const string Unknown = "None";

    public static readonly IReadOnlyList<string> Modes = [.. System.Enum.GetValues<SessionMode>().Select(Word)];
    public static readonly IReadOnlyList<string> AutomationLevels = [.. System.Enum.GetValues<AutomationLevel>().Select(Word)];

    /// <summary>How an enum's value reads in HA, as on Presence's other topics: snake case (`thin_client`).</summary>
    public static string Word<T>(T value) where T : struct, Enum => Wording.Snake(value.ToString());

    /// <summary>The Presence server device's entities.</summary>
    public static class ServerKeys
    {
        public const string Version = "version";
        public const string Errors = "errors";
    }

    public static class PersonKeys
    {
        public const string Seat = "seat";
        public const string Desktop = "desktop";
        public const string Mode = "mode";
        public const string MoveProgress = "move_progress";
        public const string Moving = "moving";
        public const string Hold = "hold";
        public const string BringTo = "bring_to";
        public const string FollowMe = "follow_me";
        public const string SendHome = "send_home";
        public const string Automation = "automation";
        public const string Proposal = "proposal";
        public const string Approve = "approve";
        public const string Decline = "decline";
        public const string Events = "events";
    }

    public static class ComputerKeys
    {
        public const string Agent = "agent";
        public const string Maintenance = "maintenance";
        public const string MemoryFree = "memory_free";
        public const string Vms = "vms";
        public const string Seated = "seated";
        public const string Battery = "battery";
    }

    public static IReadOnlyList<DeviceConfig> For(HousePolicy policy, HaTopics t)
    {
        var configs = new List<DeviceConfig> { ServerDevice(t) };
        configs.AddRange(policy.Users.Select(u => PersonDevice(policy, u, t)));
        configs.AddRange(policy.Hosts.Select(h => ComputerDevice(h, t)));
        return configs;
    }

    private static DeviceConfig ServerDevice(HaTopics t)
    {
        var id = t.ServerId;
        var components = new JsonObject
        {
            [ServerKeys.Version] = Component(id, ServerKeys.Version, "sensor", "Version", t, null,
                ("state_topic", t.Server(ServerKeys.Version)), ("entity_category", "diagnostic"), ("icon", "mdi:tag")),
            // presence/errors as it is (CONTRACT conventions): HA's event platform wants a JSON object with
            // `event_type` (event.py), so the template makes one; HA ignores a retained event, and errors are not retained.
            [ServerKeys.Errors] = Component(id, ServerKeys.Errors, "event", "Errors", t, null,
                ("state_topic", t.Contract.Errors),
                ("event_types", new JsonArray("rejected")),
                ("value_template", """{"event_type":"rejected","topic":{{ value_json.topic | to_json }},"error":{{ value_json.error | to_json }}}"""),
                ("icon", "mdi:alert-circle")),
        };
        return Device(t, id, new JsonObject
        {
            ["identifiers"] = new JsonArray(id),
            ["name"] = "Presence",
            ["manufacturer"] = "Presence",
            ["model"] = "Presence server",
            ["sw_version"] = ServerStatus.Version,
        }, components);
    }

    private static DeviceConfig PersonDevice(HousePolicy policy, UserSpec user, HaTopics t)
    {
        var id = t.PersonId(user.Name);
        var hosts = policy.Hosts.Select(h => h.Name).ToList();
        string Topic(string key) => t.Person(user.Name, key);
        var components = new JsonObject
        {
            [PersonKeys.Seat] = Enum(id, PersonKeys.Seat, "Seat", t, Topic(PersonKeys.Seat), [.. hosts, Nowhere], "mdi:desk"),
            [PersonKeys.Desktop] = Enum(id, PersonKeys.Desktop, "Desktop runs on", t, Topic(PersonKeys.Desktop), [.. hosts, Suspended, Nowhere], "mdi:monitor"),
            [PersonKeys.Mode] = Enum(id, PersonKeys.Mode, "Mode", t, Topic(PersonKeys.Mode), Modes, "mdi:swap-horizontal"),
            [PersonKeys.MoveProgress] = Component(id, PersonKeys.MoveProgress, "sensor", "Move progress", t, null,
                ("state_topic", Topic(PersonKeys.MoveProgress)), ("unit_of_measurement", "%"), ("state_class", "measurement"),
                ("suggested_display_precision", 0), ("icon", "mdi:progress-clock")),
            [PersonKeys.Moving] = Component(id, PersonKeys.Moving, "binary_sensor", "Moving", t, null,
                ("state_topic", Topic(PersonKeys.Moving)), ("device_class", "moving"), ("payload_on", "ON"), ("payload_off", "OFF")),
            // Its state is what Presence stored, not what was last asked for (HA switch.py: optimistic only without a state topic).
            [PersonKeys.Hold] = Component(id, PersonKeys.Hold, "switch", "Hold", t, null,
                ("state_topic", Topic(PersonKeys.Hold)), ("command_topic", HaTopics.Set(Topic(PersonKeys.Hold))),
                ("payload_on", "ON"), ("payload_off", "OFF"), ("optimistic", false), ("icon", "mdi:pin")),
            [PersonKeys.BringTo] = Component(id, PersonKeys.BringTo, "select", "Bring my desktop to", t, null,
                ("state_topic", Topic(PersonKeys.BringTo)), ("command_topic", HaTopics.Set(Topic(PersonKeys.BringTo))),
                ("options", Strings(user.AllowedHosts)), ("optimistic", false), ("icon", "mdi:send")),
            [PersonKeys.FollowMe] = Button(id, PersonKeys.FollowMe, "Follow me", t, HaTopics.Press(Topic(PersonKeys.FollowMe)), "mdi:walk"),
            [PersonKeys.SendHome] = Button(id, PersonKeys.SendHome, "Send home", t, HaTopics.Press(Topic(PersonKeys.SendHome)), "mdi:home-import-outline"),
            [PersonKeys.Automation] = Component(id, PersonKeys.Automation, "select", "Automation", t, null,
                ("state_topic", Topic(PersonKeys.Automation)), ("command_topic", HaTopics.Set(Topic(PersonKeys.Automation))),
                ("options", Strings(AutomationLevels)), ("optimistic", false), ("entity_category", "config"), ("icon", "mdi:robot")),
            [PersonKeys.Proposal] = Enum(id, PersonKeys.Proposal, "Proposal", t, Topic(PersonKeys.Proposal), [.. hosts, Nothing], "mdi:help-rhombus",
                ("json_attributes_topic", HaTopics.Attributes(Topic(PersonKeys.Proposal)))),
            [PersonKeys.Approve] = Button(id, PersonKeys.Approve, "Approve proposal", t, HaTopics.Press(Topic(PersonKeys.Approve)), "mdi:check"),
            [PersonKeys.Decline] = Button(id, PersonKeys.Decline, "Decline proposal", t, HaTopics.Press(Topic(PersonKeys.Decline)), "mdi:close"),
            // Not retained (HA ignores a replayed retained event): one message per decision or outcome.
            [PersonKeys.Events] = Component(id, PersonKeys.Events, "event", "Decisions", t, null,
                ("state_topic", Topic(PersonKeys.Events)), ("event_types", Strings(HaEvents.Types)), ("icon", "mdi:timeline-text")),
        };
        return Device(t, id, new JsonObject
        {
            ["identifiers"] = new JsonArray(id),
            ["name"] = Capitalised(user.Name),
            ["manufacturer"] = "Presence",
            ["model"] = "Person",
            ["via_device"] = t.ServerId,
        }, components);
    }

    private static DeviceConfig ComputerDevice(HostSpec host, HaTopics t)
    {
        var id = t.ComputerId(host.Name);
        string Topic(string key) => t.Computer(host.Name, key);
        // What the agent measures is unavailable while the agent is away; what the server decides (maintenance, who
        // sits there) and whether the agent is online at all stay available.
        var agentStatus = host.Name;
        var components = new JsonObject
        {
            [ComputerKeys.Agent] = Component(id, ComputerKeys.Agent, "binary_sensor", "Agent", t, null,
                ("state_topic", Topic(ComputerKeys.Agent)), ("device_class", "connectivity"), ("payload_on", "ON"), ("payload_off", "OFF"),
                ("entity_category", "diagnostic")),
            [ComputerKeys.Maintenance] = Component(id, ComputerKeys.Maintenance, "switch", "Maintenance", t, null,
                ("state_topic", Topic(ComputerKeys.Maintenance)), ("command_topic", HaTopics.Set(Topic(ComputerKeys.Maintenance))),
                ("payload_on", "ON"), ("payload_off", "OFF"), ("optimistic", false), ("entity_category", "config"), ("icon", "mdi:wrench")),
            [ComputerKeys.MemoryFree] = Component(id, ComputerKeys.MemoryFree, "sensor", "Free memory", t, agentStatus,
                ("state_topic", Topic(ComputerKeys.MemoryFree)), ("device_class", "data_size"), ("unit_of_measurement", "MiB"),
                ("state_class", "measurement"), ("icon", "mdi:memory")),
            [ComputerKeys.Vms] = Component(id, ComputerKeys.Vms, "sensor", "VMs running", t, agentStatus,
                ("state_topic", Topic(ComputerKeys.Vms)), ("state_class", "measurement"),
                ("json_attributes_topic", HaTopics.Attributes(Topic(ComputerKeys.Vms))), ("icon", "mdi:desktop-classic")),
            [ComputerKeys.Seated] = Component(id, ComputerKeys.Seated, "sensor", "Who sits here", t, null,
                ("state_topic", Topic(ComputerKeys.Seated)), ("icon", "mdi:account")),
        };
        if (host.Role == HostRole.Laptop)
        {
            components[ComputerKeys.Battery] = Component(id, ComputerKeys.Battery, "sensor", "Battery", t, agentStatus,
                ("state_topic", Topic(ComputerKeys.Battery)), ("device_class", "battery"), ("unit_of_measurement", "%"), ("state_class", "measurement"));
        }

        return Device(t, id, new JsonObject
        {
            ["identifiers"] = new JsonArray(id),
            ["name"] = host.Name,
            ["manufacturer"] = "Presence",
            ["model"] = host.Role switch { HostRole.Laptop => "Laptop", HostRole.Desktop => "Desktop", _ => "Server" },
            ["via_device"] = t.ServerId,
        }, components);
    }

    private static DeviceConfig Device(HaTopics t, string id, JsonObject device, JsonObject components)
    {
        // The entity id HA would make itself from the friendly name, but from the short key ("switch.alice_hold",
        // "sensor.imac_memory_free"); HA uses it only when it first registers the entity (const.py
        // CONF_DEFAULT_ENTITY_ID) and adds "_2" if another integration has it. Person and computer keys never overlap.
        var name = device["name"]!.GetValue<string>();
        foreach (var (key, component) in components)
        {
            component!["default_entity_id"] = $"{component["platform"]!.GetValue<string>()}.{EntityObjectId($"{name}_{key}")}";
        }

        return new DeviceConfig(id, t.DeviceConfig(id), new JsonObject
        {
            ["device"] = device,
            ["origin"] = new JsonObject { ["name"] = "Presence", ["sw_version"] = ServerStatus.Version },
            ["components"] = components,
        });
    }

    private static JsonObject Enum(string deviceId, string key, string name, HaTopics t, string stateTopic, IReadOnlyList<string> options, string icon,
        params (string Key, JsonNode? Value)[] more) =>
        Component(deviceId, key, "sensor", name, t, null,
            [("state_topic", stateTopic), ("device_class", "enum"), ("options", Strings(options)), ("icon", icon), .. more]);

    private static JsonObject Button(string deviceId, string key, string name, HaTopics t, string commandTopic, string icon) =>
        Component(deviceId, key, "button", name, t, null, ("command_topic", commandTopic), ("payload_press", "PRESS"), ("icon", icon));

    /// <param name="agentOf">The computer whose agent must be online too, or null for the server's availability alone.</param>
    private static JsonObject Component(string deviceId, string key, string platform, string name, HaTopics t, string? agentOf,
        params (string Key, JsonNode? Value)[] keys)
    {
        var uniqueId = $"{deviceId}_{key}";
        var availability = new JsonArray(Available(t.Contract.ServerStatus));
        if (agentOf is not null)
        {
            availability.Add(Available(t.Contract.AgentStatus(agentOf)));
        }

        var component = new JsonObject
        {
            ["platform"] = platform,
            ["unique_id"] = uniqueId,
            // has_entity_name: HA shows "<device name> <name>" ("Alice Seat", "imac Free memory").
            ["name"] = name,
            ["availability"] = availability,
            ["availability_mode"] = "all",
        };
        foreach (var (k, v) in keys)
        {
            component[k] = v;
        }

        return component;
    }

    /// <summary>presence/status and an agent's status are JSON objects whose `state` is `online` or `offline`.</summary>
    private static JsonObject Available(string topic) => new()
    {
        ["topic"] = topic,
        ["value_template"] = "{{ value_json.state }}",
        ["payload_available"] = "online",
        ["payload_not_available"] = "offline",
    };

    private static JsonArray Strings(IEnumerable<string> values) => new(values.Select(v => (JsonNode?)JsonValue.Create(v)).ToArray());

    /// <summary>
    /// An entity id's object part as HA's core.py VALID_ENTITY_ID takes it: [0-9a-z_], no "__", no leading or trailing
    /// "_". House names may hold "-", which HA would refuse (and with it the whole component).
    /// </summary>
    public static string EntityObjectId(string id)
    {
        var slug = NotSlug().Replace(id.ToLowerInvariant(), "_");
        return Underscores().Replace(slug, "_").Trim('_');
    }

    [System.Text.RegularExpressions.GeneratedRegex("[^a-z0-9_]")]
    private static partial System.Text.RegularExpressions.Regex NotSlug();

    [System.Text.RegularExpressions.GeneratedRegex("_{2,}")]
    private static partial System.Text.RegularExpressions.Regex Underscores();

    private static string Capitalised(string name) => name.Length == 0 ? name : char.ToUpperInvariant(name[0]) + name[1..];
}
