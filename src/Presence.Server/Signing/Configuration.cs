using Marten;

namespace Presence.Server.Signing;

/// <summary>Commands to agents are signed with the house's key (CONTRACT.md §5), kept in the house's database.</summary>
public static class Configuration
{
    public static IServiceCollection AddSigning(this IServiceCollection services)
    {
        services.AddOptions<SigningOptions>().BindConfiguration(SigningOptions.Section);
        services.AddSingleton<HouseKeys>();
        services.AddHostedService<HouseKeysOnStart>();
        return services;
    }

    public static StoreOptions ConfigureSigning(this StoreOptions opts)
    {
        opts.Schema.For<HouseSigningKey>();
        return opts;
    }
}
