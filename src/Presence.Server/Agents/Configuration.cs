using JasperFx.Events.Projections;
using Marten;

namespace Presence.Server.Agents;

/// <summary>The hosts as their agents describe them: one stream per host, projected so a decision reads the house in one query.</summary>
public static class Configuration
{
    public static IServiceCollection AddAgents(this IServiceCollection services)
    {
        services.AddSingleton<HostAddresses>();
        return services;
    }

    public static StoreOptions ConfigureAgents(this StoreOptions opts)
    {
        opts.Projections.Add<HostProjection>(ProjectionLifecycle.Inline);
        return opts;
    }
}
