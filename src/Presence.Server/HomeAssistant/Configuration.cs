using JasperFx.Events.Documents;
using Microsoft.Extensions.Options;
using Presence.Contracts.Wire;
using Presence.Server.Configuration;
using Presence.Server.Hosting;

namespace Presence.Server.HomeAssistant;

/// <summary>
/// Home Assistant sees Presence through MQTT discovery (issue 12): a device for the server, each person and each
/// computer, their states kept retained, re-announced when HA comes back. Nothing to install in HA.
/// </summary>
public static class Configuration
{
    /// <summary>Register after the MQTT bridge; validates HomeAssistant:* now, so a bad prefix stops the start with its key named.</summary>
    public static IServiceCollection AddHomeAssistant(this IServiceCollection services, IConfiguration configuration)
    {
        var options = PresenceApp.Bind<HomeAssistantOptions>(configuration, HomeAssistantOptions.Section);
        if (HomeAssistantOptions.Check(options) is { } why)
        {
            throw new StartupException("invalid settings:\n  " + why);
        }

        services.AddSingleton(options);
        if (!options.Enabled)
        {
            return services;
        }

        services.AddSingleton(sp => new HaTopics(
            new Topics(sp.GetRequiredService<IOptions<MqttOptions>>().Value.TopicRoot), options.DiscoveryPrefix));
        services.AddSingleton<HaCommands>();
        services.AddSingleton<HouseChanges>();
        // AddMarten puts every IDocumentCommitListener of the container on the store.
        services.AddSingleton<IDocumentCommitListener>(sp => sp.GetRequiredService<HouseChanges>());
        services.AddHostedService<HomeAssistantPublisher>();
        return services;
    }
}
