using System.Text.RegularExpressions;
using Presence.Server.Tests.Infrastructure;
using YamlDotNet.RepresentationModel;

namespace Presence.Server.Tests.HomeAssistant;

/// <summary>
/// The blueprints in integrations/homeassistant/blueprints are what Home Assistant accepts (BlueprintRules, from its
/// source): a blueprint block with a name and a domain, inputs with known selectors, an automation body with triggers
/// and actions, and every `!input` naming a declared input. The README there explains each one.
/// </summary>
public sealed class the_shipped_blueprints
{
    private static readonly string Folder = Repository.PathOf("integrations", "homeassistant", "blueprints", "automation", "presence");

    private static IEnumerable<string> Files() => Directory.GetFiles(Folder, "*.yaml").Select(f => Path.GetFileName(f)).Order(StringComparer.Ordinal);

    public static TheoryData<string> Blueprints() => new(Files());

    [Fact]
    public void there_is_one_for_each_job_the_issue_names()
    {
        Assert.Equal(
            ["approve_on_my_phone.yaml", "bring_desktop_to_my_room.yaml", "hold_while_busy.yaml", "maintenance_on_a_schedule.yaml", "maintenance_while_updating.yaml"],
            Files());
    }

    [Theory]
    [MemberData(nameof(Blueprints))]
    public void a_blueprint_is_what_home_assistant_accepts(string file)
    {
        var problems = Check(File.ReadAllText(Path.Combine(Folder, file)));
        Assert.True(problems.Count == 0, $"{file}:\n" + string.Join("\n", problems));
    }

    [Theory]
    [MemberData(nameof(Blueprints))]
    public void the_readme_explains_it(string file)
    {
        var readme = File.ReadAllText(Repository.PathOf("integrations", "homeassistant", "README.md"));
        Assert.Contains(file, readme);
    }

    /// <summary>The checks reject what Home Assistant would: each rule on a blueprint that breaks it.</summary>
    [Theory]
    [InlineData("blueprint:\n  domain: automation\ntriggers: []\nactions: []\n", "blueprint.name is required")]
    [InlineData("blueprint:\n  name: x\n  domain: light\ntriggers: []\nactions: []\n", "blueprint.domain 'light'")]
    [InlineData("blueprint:\n  name: x\n  domain: automation\n  colour: red\ntriggers: []\nactions: []\n", "blueprint.colour is not a key")]
    [InlineData("blueprint:\n  name: x\n  domain: automation\n  homeassistant:\n    min_version: \"2024.11\"\ntriggers: []\nactions: []\n", "min_version '2024.11'")]
    [InlineData("blueprint:\n  name: x\n  domain: automation\n  input:\n    a:\n      selector:\n        wheel: {}\ntriggers: []\nactions: []\n", "unknown selector type 'wheel'")]
    [InlineData("blueprint:\n  name: x\n  domain: automation\n  input:\n    a:\n      selector:\n        entity:\n          colour: red\ntriggers: []\nactions: []\n", "entity selector has no key 'colour'")]
    [InlineData("blueprint:\n  name: x\n  domain: automation\n  input:\n    a:\n      selector:\n        entity: {}\n        device: {}\ntriggers: []\nactions: []\n", "exactly one selector type")]
    [InlineData("blueprint:\n  name: x\n  domain: automation\nactions: []\n", "triggers are required")]
    [InlineData("blueprint:\n  name: x\n  domain: automation\ntriggers: []\n", "actions are required")]
    [InlineData("blueprint:\n  name: x\n  domain: automation\ntriggers: []\nactions: []\nmode: sometimes\n", "mode 'sometimes'")]
    [InlineData("blueprint:\n  name: x\n  domain: automation\ntriggers: []\nactions: []\nwhen: now\n", "'when' is not a key of an automation")]
    [InlineData("blueprint:\n  name: x\n  domain: automation\ntriggers:\n  - trigger: state\n    entity_id: !input nowhere\nactions: []\n", "!input nowhere is not declared")]
    [InlineData("blueprint:\n  name: x\n  domain: automation\n  input:\n    unused:\n      selector:\n        entity: {}\ntriggers: []\nactions: []\n", "input 'unused' is never used")]
    public void a_broken_blueprint_is_named(string yaml, string problem)
    {
        Assert.Contains(Check(yaml), p => p.Contains(problem, StringComparison.Ordinal));
    }

    private static List<string> Check(string yaml)
    {
        var problems = new List<string>();
        var stream = new YamlStream();
        stream.Load(new StringReader(yaml));
        if (stream.Documents.Single().RootNode is not YamlMappingNode root)
        {
            return ["the document is not a mapping"];
        }

        if (Child(root, "blueprint") is not YamlMappingNode blueprint)
        {
            return ["there is no blueprint block"];
        }

        foreach (var key in Keys(blueprint).Where(k => !BlueprintRules.BlueprintKeys.Contains(k)))
        {
            problems.Add($"blueprint.{key} is not a key of a blueprint");
        }

        foreach (var key in BlueprintRules.RequiredBlueprintKeys.Where(k => Child(blueprint, k) is not YamlScalarNode))
        {
            problems.Add($"blueprint.{key} is required");
        }

        var domain = (Child(blueprint, "domain") as YamlScalarNode)?.Value;
        if (domain is not null && !BlueprintRules.Domains.Contains(domain))
        {
            problems.Add($"blueprint.domain '{domain}' is not one of {string.Join(", ", BlueprintRules.Domains)}");
        }

        if (Child(blueprint, "homeassistant") is YamlMappingNode ha && Child(ha, "min_version") is YamlScalarNode { Value: var min }
            && !Regex.IsMatch(min ?? "", BlueprintRules.MinVersionPattern))
        {
            problems.Add($"homeassistant.min_version '{min}' is not X.Y.Z");
        }

        var declared = new HashSet<string>();
        if (Child(blueprint, "input") is YamlMappingNode inputs)
        {
            foreach (var (name, input) in inputs.Children.Select(p => (((YamlScalarNode)p.Key).Value!, p.Value)))
            {
                declared.Add(name);
                CheckInput(name, input, problems);
            }
        }

        // The body beside the blueprint block is an automation (domain automation).
        foreach (var key in Keys(root).Where(k => k != "blueprint" && !BlueprintRules.AutomationKeys.Contains(k)))
        {
            problems.Add($"'{key}' is not a key of an automation");
        }

        if (Child(root, "triggers") is null && Child(root, "trigger") is null)
        {
            problems.Add("triggers are required");
        }

        if (Child(root, "actions") is null && Child(root, "action") is null)
        {
            problems.Add("actions are required");
        }

        if (Child(root, "mode") is YamlScalarNode { Value: var mode } && !BlueprintRules.Modes.Contains(mode!))
        {
            problems.Add($"mode '{mode}' is not one of {string.Join(", ", BlueprintRules.Modes)}");
        }

        var used = new HashSet<string>();
        foreach (var node in root.AllNodes.Where(n => !n.Tag.IsEmpty && !n.Tag.IsNonSpecific && n.Tag.Value == "!input"))
        {
            var name = (node as YamlScalarNode)?.Value ?? "";
            used.Add(name);
            if (!declared.Contains(name))
            {
                problems.Add($"!input {name} is not declared under blueprint.input");
            }
        }

        problems.AddRange(declared.Where(d => !used.Contains(d)).Select(d => $"input '{d}' is never used"));
        return problems;
    }

    private static void CheckInput(string name, YamlNode input, List<string> problems)
    {
        if (input is YamlScalarNode { Value: null or "" or "~" or "null" })
        {
            return;
        }

        if (input is not YamlMappingNode map)
        {
            problems.Add($"input '{name}' is neither empty nor a mapping");
            return;
        }

        foreach (var key in Keys(map).Where(k => !BlueprintRules.InputKeys.Contains(k)))
        {
            problems.Add($"input '{name}' has no key '{key}'");
        }

        if (Child(map, "selector") is not YamlMappingNode selector)
        {
            return;
        }

        if (selector.Children.Count != 1)
        {
            problems.Add($"input '{name}': exactly one selector type, found {string.Join(", ", Keys(selector))}");
            return;
        }

        var (type, config) = selector.Children.Select(p => (((YamlScalarNode)p.Key).Value!, p.Value)).Single();
        if (!BlueprintRules.Selectors.TryGetValue(type, out var allowed))
        {
            problems.Add($"input '{name}': unknown selector type '{type}'");
            return;
        }

        if (allowed is null || config is not YamlMappingNode options)
        {
            return;
        }

        foreach (var key in Keys(options).Where(k => !allowed.Contains(k)))
        {
            problems.Add($"input '{name}': the {type} selector has no key '{key}'");
        }

        if (Child(options, "filter") is YamlSequenceNode filters)
        {
            var filterKeys = type == "device" ? BlueprintRules.DeviceFilterKeys : BlueprintRules.EntityFilterKeys;
            foreach (var key in filters.OfType<YamlMappingNode>().SelectMany(Keys).Where(k => !filterKeys.Contains(k)))
            {
                problems.Add($"input '{name}': a {type} filter has no key '{key}'");
            }
        }

        if (type == "select" && Child(options, "options") is YamlSequenceNode choices)
        {
            foreach (var key in choices.OfType<YamlMappingNode>().SelectMany(Keys).Where(k => !BlueprintRules.SelectOptionKeys.Contains(k)))
            {
                problems.Add($"input '{name}': a select option has no key '{key}'");
            }
        }
    }

    private static YamlNode? Child(YamlMappingNode map, string key) =>
        map.Children.TryGetValue(new YamlScalarNode(key), out var value) ? value : null;

    private static IEnumerable<string> Keys(YamlMappingNode map) => map.Children.Keys.OfType<YamlScalarNode>().Select(k => k.Value!);
}
