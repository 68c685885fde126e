using Marten;

namespace Presence.Server.HomeAssistant.Statestream;

/// <summary>Home Assistant as a signal source: its mqtt_statestream states of the mapped entities become evidence.</summary>
public static class Configuration
{
    public static IServiceCollection AddStatestream(this IServiceCollection services)
    {
        services.AddOptions<StatestreamOptions>().BindConfiguration(StatestreamOptions.Section);
        services.AddSingleton<StatestreamMap>();
        services.AddSingleton<StatestreamInbound>();
        return services;
    }

    public static StoreOptions ConfigureStatestream(this StoreOptions opts)
    {
        opts.Schema.For<StatestreamState>();
        return opts;
    }
}
