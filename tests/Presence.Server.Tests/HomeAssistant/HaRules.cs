using System.Text.RegularExpressions;

namespace Presence.Server.Tests.HomeAssistant;

/// <summary>
/// Home Assistant's MQTT discovery rules, as HA's own source states them (home-assistant/core,
/// homeassistant/components/mqtt/ unless said otherwise), for the conformance test. Each table names the file it was
/// read from; /work/wt/notes-issue12.md holds the reading. Only what HA enforces or documents is here: a rule that
/// was not read is left out rather than guessed.
/// </summary>
public static partial class HaRules
{
    /// <summary>discovery.py TOPIC_MATCHER, applied to the topic after "{discovery_prefix}/".</summary>
    [GeneratedRegex(@"^(?<component>\w+)/(?:(?<node_id>[a-zA-Z0-9_-]+)/)?(?<object_id>[a-zA-Z0-9_-]+)/config$")]
    public static partial Regex TopicMatcher();

    /// <summary>homeassistant/core.py VALID_ENTITY_ID (cv.entity_id validates `default_entity_id` with it).</summary>
    [GeneratedRegex(@"^(?!.+__)(?!_)[\da-z_]+(?<!_)\.(?!_)[\da-z_]+(?<!_)$")]
    public static partial Regex ValidEntityId();

    /// <summary>abbreviations.py ABBREVIATIONS (the subset the HA docs list for these platforms): root, component and availability item.</summary>
    public static readonly IReadOnlyDictionary<string, string> Abbreviations = new Dictionary<string, string>
    {
        ["avty"] = "availability", ["avty_mode"] = "availability_mode", ["avty_t"] = "availability_topic",
        ["avty_tpl"] = "availability_template", ["pl_avail"] = "payload_available", ["pl_not_avail"] = "payload_not_available",
        ["t"] = "topic", ["cmd_t"] = "command_topic", ["cmd_tpl"] = "command_template", ["stat_t"] = "state_topic",
        ["val_tpl"] = "value_template", ["json_attr_t"] = "json_attributes_topic", ["json_attr_tpl"] = "json_attributes_template",
        ["dev_cla"] = "device_class", ["stat_cla"] = "state_class", ["unit_of_meas"] = "unit_of_measurement", ["ops"] = "options",
        ["opt"] = "optimistic", ["pl_on"] = "payload_on", ["pl_off"] = "payload_off", ["stat_on"] = "state_on", ["stat_off"] = "state_off",
        ["pl_prs"] = "payload_press", ["evt_typ"] = "event_types", ["uniq_id"] = "unique_id", ["def_ent_id"] = "default_entity_id",
        ["ent_cat"] = "entity_category", ["en"] = "enabled_by_default", ["ic"] = "icon", ["ent_pic"] = "entity_picture",
        ["exp_aft"] = "expire_after", ["frc_upd"] = "force_update", ["off_dly"] = "off_delay", ["sug_dsp_prc"] = "suggested_display_precision",
        ["e"] = "encoding", ["ret"] = "retain", ["dev"] = "device", ["o"] = "origin", ["cmps"] = "components", ["p"] = "platform",
        ["migr_discvry"] = "migrate_discovery",
    };

    /// <summary>abbreviations.py DEVICE_ABBREVIATIONS (via_device has none).</summary>
    public static readonly IReadOnlyDictionary<string, string> DeviceAbbreviations = new Dictionary<string, string>
    {
        ["cu"] = "configuration_url", ["cns"] = "connections", ["ids"] = "identifiers", ["mf"] = "manufacturer", ["mdl"] = "model",
        ["mdl_id"] = "model_id", ["hw"] = "hw_version", ["sw"] = "sw_version", ["sa"] = "suggested_area", ["sn"] = "serial_number",
    };

    /// <summary>abbreviations.py ORIGIN_ABBREVIATIONS.</summary>
    public static readonly IReadOnlyDictionary<string, string> OriginAbbreviations = new Dictionary<string, string>
    {
        ["sw"] = "sw_version", ["url"] = "support_url",
    };

    /// <summary>
    /// discovery.py: TOPIC_BASE "~" is replaced at the start or the end of a value whose key ends in "topic", and of
    /// each availability item's "topic".
    /// </summary>
    public const string TopicBase = "~";

    /// <summary>
    /// schemas.py DEVICE_DISCOVERY_SCHEMA (and _MQTT_AVAILABILITY_SCHEMA it extends), a Schema.extend without `extra=`, so
    /// voluptuous refuses any other root key, `~` included (inferred from the schema, not run in HA: notes §1).
    /// </summary>
    public static readonly IReadOnlySet<string> DeviceDiscoveryRootKeys = new HashSet<string>
    {
        "device", "components", "origin", "state_topic", "command_topic", "message_expiry_interval", "qos", "encoding",
        "availability", "availability_mode", "availability_template", "availability_topic", "payload_available", "payload_not_available",
    };

    /// <summary>schemas.py DEVICE_DISCOVERY_SCHEMA: Required device, components, origin.</summary>
    public static readonly IReadOnlyList<string> DeviceDiscoveryRequired = ["device", "components", "origin"];

    /// <summary>schemas.py MQTT_ENTITY_DEVICE_INFO_SCHEMA.</summary>
    public static readonly IReadOnlySet<string> DeviceKeys = new HashSet<string>
    {
        "identifiers", "connections", "manufacturer", "model", "model_id", "name", "hw_version", "serial_number", "sw_version",
        "via_device", "suggested_area", "configuration_url",
    };

    /// <summary>schemas.py MQTT_ORIGIN_INFO_SCHEMA: Required name.</summary>
    public static readonly IReadOnlySet<string> OriginKeys = new HashSet<string> { "name", "sw_version", "support_url" };

    /// <summary>schemas.py availability list items: Required topic.</summary>
    public static readonly IReadOnlySet<string> AvailabilityItemKeys = new HashSet<string> { "topic", "payload_available", "payload_not_available", "value_template" };

    /// <summary>schemas.py AVAILABILITY_MODES; entity.py: payload_available defaults to "online", payload_not_available to "offline".</summary>
    public static readonly IReadOnlySet<string> AvailabilityModes = new HashSet<string> { "all", "any", "latest" };

    public const string DefaultPayloadAvailable = "online";
    public const string DefaultPayloadNotAvailable = "offline";

    /// <summary>const.py SUPPORTED_COMPONENTS, the part Presence may use (a platform outside this table fails the test until read).</summary>
    public static readonly IReadOnlySet<string> Platforms = new HashSet<string> { "sensor", "binary_sensor", "switch", "select", "button", "event" };

    /// <summary>schemas.py MQTT_ENTITY_COMMON_SCHEMA + config.py MQTT_BASE_SCHEMA + the availability block, and `platform` in a component.</summary>
    private static readonly string[] Common =
    [
        "platform", "availability", "availability_mode", "availability_template", "availability_topic", "payload_available", "payload_not_available",
        "device", "origin", "entity_picture", "enabled_by_default", "entity_category", "icon", "json_attributes_topic", "json_attributes_template",
        "default_entity_id", "message_expiry_interval", "unique_id", "visible_by_default", "qos", "encoding", "group", TopicBase,
    ];

    /// <summary>
    /// Each platform file's DISCOVERY_SCHEMA keys (sensor.py, binary_sensor.py, switch.py, select.py, button.py, event.py; config.py
    /// MQTT_RO_SCHEMA / MQTT_RW_SCHEMA). HA drops any other key silently (REMOVE_EXTRA), so one here would be a key Presence means and HA ignores.
    /// </summary>
    public static readonly IReadOnlyDictionary<string, IReadOnlySet<string>> PlatformKeys = new Dictionary<string, IReadOnlySet<string>>
    {
        ["sensor"] = Keys("state_topic", "value_template", "device_class", "expire_after", "force_update", "last_reset_value_template", "name",
            "options", "suggested_display_precision", "state_class", "unit_of_measurement"),
        ["binary_sensor"] = Keys("state_topic", "value_template", "device_class", "expire_after", "force_update", "name", "off_delay",
            "payload_on", "payload_off"),
        ["switch"] = Keys("command_topic", "optimistic", "retain", "state_topic", "command_template", "name", "payload_on", "payload_off",
            "state_on", "state_off", "value_template", "device_class"),
        ["select"] = Keys("command_topic", "optimistic", "retain", "state_topic", "command_template", "name", "options", "value_template"),
        ["button"] = Keys("command_topic", "command_template", "device_class", "name", "payload_press", "retain"),
        ["event"] = Keys("state_topic", "value_template", "event_types", "device_class", "name"),
    };

    /// <summary>
    /// Required keys per platform (config.py MQTT_RO_SCHEMA state_topic, MQTT_RW_SCHEMA command_topic, select.py options,
    /// button.py command_topic, event.py state_topic and event_types), plus schemas.py check_unique_id for a device's components.
    /// </summary>
    public static readonly IReadOnlyDictionary<string, IReadOnlyList<string>> Required = new Dictionary<string, IReadOnlyList<string>>
    {
        ["sensor"] = ["platform", "unique_id", "state_topic"],
        ["binary_sensor"] = ["platform", "unique_id", "state_topic"],
        ["switch"] = ["platform", "unique_id", "command_topic"],
        ["select"] = ["platform", "unique_id", "command_topic", "options"],
        ["button"] = ["platform", "unique_id", "command_topic"],
        ["event"] = ["platform", "unique_id", "state_topic", "event_types"],
    };

    /// <summary>const ENTITY_CATEGORIES_SCHEMA; sensor/__init__.py and binary_sensor/__init__.py refuse `config`.</summary>
    public static readonly IReadOnlySet<string> EntityCategories = new HashSet<string> { "config", "diagnostic" };

    public static readonly IReadOnlySet<string> NoConfigCategory = new HashSet<string> { "sensor", "binary_sensor" };

    /// <summary>sensor/const.py SensorDeviceClass.</summary>
    public static readonly IReadOnlySet<string> SensorDeviceClasses = new HashSet<string>
    {
        "date", "enum", "timestamp", "apparent_power", "aqi", "area", "atmospheric_pressure", "battery", "blood_glucose_concentration",
        "carbon_monoxide", "carbon_dioxide", "conductivity", "current", "data_rate", "data_size", "distance", "duration", "energy",
        "energy_distance", "energy_storage", "frequency", "gas", "humidity", "illuminance", "irradiance", "moisture", "monetary",
        "nitrogen_dioxide", "nitrogen_monoxide", "nitrous_oxide", "ozone", "ph", "pm1", "pm10", "pm25", "power_factor", "power",
        "precipitation", "precipitation_intensity", "pressure", "reactive_power", "signal_strength", "sound_pressure", "speed",
        "sulphur_dioxide", "temperature", "temperature_delta", "volatile_organic_compounds", "volatile_organic_compounds_parts",
        "voltage", "volume", "volume_storage", "volume_flow_rate", "water", "weight", "wind_direction", "wind_speed",
    };

    /// <summary>sensor/const.py NON_NUMERIC_DEVICE_CLASSES.</summary>
    public static readonly IReadOnlySet<string> NonNumericSensorClasses = new HashSet<string> { "date", "enum", "timestamp" };

    /// <summary>sensor/const.py SensorStateClass.</summary>
    public static readonly IReadOnlySet<string> StateClasses = new HashSet<string> { "measurement", "total", "total_increasing" };

    /// <summary>
    /// sensor/const.py DEVICE_CLASS_UNITS for the classes Presence uses (BATTERY: {PERCENTAGE}; DATA_SIZE: UnitOfInformation from
    /// homeassistant/const.py). A sensor of another numeric class fails the test until its units are read.
    /// </summary>
    public static readonly IReadOnlyDictionary<string, IReadOnlySet<string>> DeviceClassUnits = new Dictionary<string, IReadOnlySet<string>>
    {
        ["battery"] = new HashSet<string> { "%" },
        ["data_size"] = new HashSet<string>
        {
            "bit", "kbit", "Mbit", "Gbit", "B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB",
        },
    };

    /// <summary>binary_sensor/__init__.py BinarySensorDeviceClass.</summary>
    public static readonly IReadOnlySet<string> BinarySensorDeviceClasses = new HashSet<string>
    {
        "battery", "battery_charging", "carbon_monoxide", "cold", "connectivity", "door", "garage_door", "gas", "heat", "light", "lock",
        "moisture", "motion", "moving", "occupancy", "opening", "plug", "power", "presence", "problem", "running", "safety", "smoke",
        "sound", "tamper", "update", "vibration", "window",
    };

    /// <summary>sensor.py / const.py PAYLOAD_NONE: a sensor given it shows `unknown`; select.py clears its state on any payload whose lower case is "none".</summary>
    public const string PayloadNone = "None";

    /// <summary>binary_sensor.py and switch.py defaults.</summary>
    public const string DefaultOn = "ON";
    public const string DefaultOff = "OFF";

    /// <summary>homeassistant/const.py MAX_LENGTH_STATE_STATE: a longer state is refused.</summary>
    public const int MaxStateLength = 255;

    private static IReadOnlySet<string> Keys(params string[] own) => new HashSet<string>(Common.Concat(own));
}
