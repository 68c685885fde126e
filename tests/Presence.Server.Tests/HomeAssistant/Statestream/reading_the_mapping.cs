using Presence.Server.Hosting;
using Presence.Server.Tests.Infrastructure;

namespace Presence.Server.Tests.HomeAssistant.Statestream;

/// <summary>A HomeAssistant:Statestream section that cannot work stops the server at start, naming the key.</summary>
public sealed class reading_the_mapping
{
    private static async Task<string> StartFailsAsync(string json)
    {
        var directory = PostgresCluster.NewScratchDirectory("statestream-house");
        Directory.CreateDirectory(directory);
        var file = Path.Combine(directory, "house.json");
        await File.WriteAllTextAsync(file, json);
        return Assert.Throws<StartupException>(() => PresenceApp.ReadSettings(PresenceApp.CreateBuilder(["--config", file]).Configuration)).Message;
    }

    private static string With(string find, string replace)
    {
        Assert.Contains(find, StatestreamHouse.Mapping);
        return StatestreamHouse.Json(mapping: StatestreamHouse.Mapping.Replace(find, replace, StringComparison.Ordinal));
    }

    [Fact]
    public async Task the_example_mapping_is_read()
    {
        var directory = PostgresCluster.NewScratchDirectory("statestream-house");
        Directory.CreateDirectory(directory);
        var file = Path.Combine(directory, "house.json");
        await File.WriteAllTextAsync(file, StatestreamHouse.Json());

        var (policy, _, _, _) = PresenceApp.ReadSettings(PresenceApp.CreateBuilder(["--config", file]).Configuration);
        Assert.Equal(3, policy.Hosts.Count);
    }

    [Theory]
    [InlineData("\"User\": \"alice\" }", "\"User\": \"zed\" }", "HomeAssistant:Statestream:Entities:0:User 'zed' is not one of House:Users")]
    [InlineData("\"Host\": \"imac\", \"User\": \"alice\"", "\"Host\": \"kitchen\", \"User\": \"alice\"", "HomeAssistant:Statestream:Entities:2:Host 'kitchen' is not one of House:Hosts")]
    [InlineData("\"Entity\": \"person.alice\"", "\"Entity\": \"Person Alice\"", "HomeAssistant:Statestream:Entities:0:Entity 'Person Alice' is not a Home Assistant entity id")]
    [InlineData("\"Entity\": \"person.alice\"", "\"Entity\": \"sensor.alice\"", "HomeAssistant:Statestream:Entities:0:Entity 'sensor.alice' cannot be a Person signal: expected an entity of person or device_tracker")]
    [InlineData("\"office\": \"imac\"", "\"office\": \"attic\"", "HomeAssistant:Statestream:Rooms:office 'attic' is not one of House:Hosts")]
    [InlineData("\"Entities\": [", "\"BaseTopic\": \"homeassistant\", \"Entities\": [", "HomeAssistant:Statestream:BaseTopic 'homeassistant' is Home Assistant's discovery prefix")]
    [InlineData("\"Entities\": [", "\"Identity\": \"hass\", \"Entities\": [", "HomeAssistant:Statestream:Identity 'hass' is not one of Mqtt:Controllers")]
    [InlineData("\"Host\": \"laptop\" }", "\"Host\": \"laptop\", \"User\": \"alice\" }", "HomeAssistant:Statestream:Entities:3:User must not be set")]
    public async Task a_bad_key_is_named(string find, string replace, string message)
    {
        Assert.Contains(message, await StartFailsAsync(With(find, replace)));
    }

    [Fact]
    public async Task an_unknown_signal_is_named()
    {
        var error = await StartFailsAsync(With("\"Signal\": \"Room\"", "\"Signal\": \"Kitchen\""));

        Assert.Contains("HomeAssistant:Statestream:Entities:1:Signal", error);
    }

    [Fact]
    public async Task a_session_on_a_computer_the_user_may_not_use_is_refused()
    {
        var error = await StartFailsAsync(With("\"Host\": \"imac\", \"User\": \"alice\"", "\"Host\": \"imac\", \"User\": \"bob\""));

        Assert.Contains("HomeAssistant:Statestream:Entities:2:Host 'imac' is not among bob's House:Users AllowedHosts", error);
    }
}
