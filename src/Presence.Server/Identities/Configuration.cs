using Marten;

namespace Presence.Server.Identities;

/// <summary>Identities with secrets: the enrolments the broker checks, their audit stream, and the guard on an exposed HTTP port.</summary>
public static class Configuration
{
    /// <summary>Registered first: a server that would be exposed stops before anything listens.</summary>
    public static IServiceCollection AddIdentities(this IServiceCollection services)
    {
        services.AddHostedService<HttpExposure>();
        services.AddSingleton<Enrolments>();
        services.AddSingleton<ControlAccess>();
        return services;
    }

    public static StoreOptions ConfigureIdentities(this StoreOptions opts)
    {
        opts.Schema.For<Enrolment>();
        // Known to every process, not only to the `enroll` that appended them, so a reader of all events can load them.
        opts.Events.AddEventType<IdentityEnrolled>();
        opts.Events.AddEventType<IdentityRevoked>();
        return opts;
    }
}
