using Presence.Contracts.Wire;
using Presence.Server.HomeAssistant;
using Presence.Server.Hosting;
using Presence.Server.Tests.Infrastructure;
using YamlDotNet.RepresentationModel;

namespace Presence.Server.Tests.HomeAssistant;

/// <summary>
/// integrations/homeassistant/dashboard-card.yaml names only entities Presence's discovery gives the default house
/// (appsettings.json, the demo's), by the entity ids HA registers them under first: a renamed entity key or a typo
/// would leave a card of "entity not available" rows.
/// </summary>
public sealed class the_shipped_dashboard_card
{
    [Fact]
    public void every_entity_it_shows_is_one_presence_announces()
    {
        var (policy, _, _, _) = PresenceApp.ReadSettings(PresenceApp.CreateBuilder([]).Configuration);
        var announced = Discovery.For(policy, new HaTopics(new Topics("presence"), "homeassistant"))
            .SelectMany(d => d.Payload["components"]!.AsObject().Select(c => (string?)c.Value!["default_entity_id"]))
            .OfType<string>()
            .ToHashSet();

        var stream = new YamlStream();
        stream.Load(new StringReader(File.ReadAllText(Repository.PathOf("integrations", "homeassistant", "dashboard-card.yaml"))));
        var shown = EntityIds(stream.Documents.Single().RootNode).ToList();

        Assert.True(shown.Count >= 20, $"the card shows only {shown.Count} entities");
        var unknown = shown.Where(e => !announced.Contains(e)).ToList();
        Assert.True(unknown.Count == 0, $"not announced by Presence: {string.Join(", ", unknown)}; announced: {string.Join(", ", announced.Order())}");
    }

    /// <summary>Entity ids wherever a card names one: a plain list item or an `entity:` key.</summary>
    private static IEnumerable<string> EntityIds(YamlNode node) => node switch
    {
        YamlMappingNode map => map.Children.SelectMany(p =>
            ((YamlScalarNode)p.Key).Value == "entity" && p.Value is YamlScalarNode { Value: { } id } ? [id]
            : ((YamlScalarNode)p.Key).Value == "entities" && p.Value is YamlSequenceNode list
                ? list.SelectMany(i => i is YamlScalarNode { Value: { } plain } ? [plain] : EntityIds(i))
                : EntityIds(p.Value)),
        YamlSequenceNode seq => seq.SelectMany(EntityIds),
        _ => [],
    };
}
