namespace Presence.Server.Tests.HomeAssistant;

/// <summary>
/// What Home Assistant accepts in an automation blueprint, as its own source states it (read with the search tool;
/// Home Assistant itself cannot be installed here). Each table names the file it comes from.
/// </summary>
public static class BlueprintRules
{
    /// <summary>homeassistant/components/blueprint/schemas.py, BLUEPRINT_SCHEMA's `blueprint:` block.</summary>
    public static readonly IReadOnlySet<string> BlueprintKeys = new HashSet<string>
    {
        "name", "domain", "description", "source_url", "author", "homeassistant", "input", "discovery",
    };

    /// <summary>schemas.py: `name` and `domain` are vol.Required.</summary>
    public static readonly IReadOnlyList<string> RequiredBlueprintKeys = ["name", "domain"];

    /// <summary>schemas.py: the domains a blueprint may be for (the domain then validates the body).</summary>
    public static readonly IReadOnlySet<string> Domains = new HashSet<string> { "automation", "script" };

    /// <summary>schemas.py BLUEPRINT_INPUT_SCHEMA: an input is null or has these keys.</summary>
    public static readonly IReadOnlySet<string> InputKeys = new HashSet<string> { "name", "description", "default", "selector" };

    /// <summary>schemas.py: `homeassistant: {min_version}`, a version of three integer parts.</summary>
    public const string MinVersionPattern = @"^\d+\.\d+\.\d+$";

    /// <summary>
    /// homeassistant/components/automation/config.py PLATFORM_SCHEMA (after _backward_compat_schema renames
    /// trigger/condition/action to their plurals) plus script.make_script_schema's mode keys.
    /// </summary>
    public static readonly IReadOnlySet<string> AutomationKeys = new HashSet<string>
    {
        "id", "alias", "description", "trace", "initial_state", "hide_entity",
        "triggers", "trigger", "conditions", "condition", "variables", "trigger_variables", "actions", "action",
        "mode", "max", "max_exceeded",
    };

    /// <summary>helpers/script.py SCRIPT_MODE_CHOICES.</summary>
    public static readonly IReadOnlySet<string> Modes = new HashSet<string> { "single", "restart", "queued", "parallel" };

    /// <summary>
    /// homeassistant/helpers/selector.py: every `@SELECTORS.register(...)` type (an unknown one is "Unknown selector
    /// type"), with the config keys each accepts for the selectors these blueprints use (make_selector_config_schema
    /// adds `read_only` to all). Null: a type these blueprints do not use, so its keys are not listed here.
    /// </summary>
    public static readonly IReadOnlyDictionary<string, IReadOnlySet<string>?> Selectors = new Dictionary<string, IReadOnlySet<string>?>
    {
        ["action"] = null, ["addon"] = null, ["area"] = null, ["assist_pipeline"] = null, ["attribute"] = null,
        ["backup_location"] = null, ["boolean"] = null, ["color_rgb"] = null, ["color_temp"] = null, ["condition"] = null,
        ["config_entry"] = null, ["constant"] = null, ["conversation_agent"] = null, ["country"] = null, ["date"] = null,
        ["datetime"] = null, ["file"] = null, ["floor"] = null, ["icon"] = null, ["label"] = null, ["language"] = null,
        ["location"] = null, ["media"] = null, ["number"] = null, ["qr_code"] = null, ["state"] = null,
        ["statistic"] = null, ["target"] = null, ["template"] = null, ["text"] = null, ["theme"] = null,
        ["device"] = new HashSet<string> { "read_only", "integration", "manufacturer", "model", "entity", "multiple", "filter" },
        ["duration"] = new HashSet<string> { "read_only", "enable_day", "enable_millisecond", "allow_negative" },
        ["entity"] = new HashSet<string>
        {
            "read_only", "integration", "domain", "device_class", "exclude_entities", "include_entities", "multiple", "reorder", "filter",
        },
        ["object"] = new HashSet<string> { "read_only", "fields", "multiple", "label_field", "description_field", "translation_key" },
        ["select"] = new HashSet<string> { "read_only", "options", "multiple", "custom_value", "mode", "translation_key", "sort" },
        ["time"] = new HashSet<string> { "read_only" },
    };

    /// <summary>selector.py ENTITY_FILTER_SELECTOR_CONFIG_SCHEMA / DEVICE_FILTER_SELECTOR_CONFIG_SCHEMA: a `filter` entry's keys.</summary>
    public static readonly IReadOnlySet<string> EntityFilterKeys = new HashSet<string> { "integration", "domain", "device_class", "supported_features" };

    public static readonly IReadOnlySet<string> DeviceFilterKeys = new HashSet<string> { "integration", "manufacturer", "model", "model_id" };

    /// <summary>selector.py select_option: an option is a string or `{value, label}`.</summary>
    public static readonly IReadOnlySet<string> SelectOptionKeys = new HashSet<string> { "value", "label" };
}
