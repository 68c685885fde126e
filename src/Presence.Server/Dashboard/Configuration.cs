using JasperFx.Events.Projections;
using Marten;

namespace Presence.Server.Dashboard;

/// <summary>The dashboard: each user's timeline as a projection, its backfill for older stores, and its page, API and controls.</summary>
public static class Configuration
{
    public static StoreOptions ConfigureDashboard(this StoreOptions opts)
    {
        opts.Storage.ExtendedSchemaObjects.Add(TimelineRow.Define(opts.DatabaseSchemaName));
        opts.Projections.Add(new TimelineProjection(), ProjectionLifecycle.Inline);
        return opts;
    }

    /// <summary>Register before the MQTT bridge, so no signal's events race the timelines' rebuild.</summary>
    public static IServiceCollection AddDashboard(this IServiceCollection services) =>
        services.AddHostedService<TimelineBackfill>();

    public static WebApplication MapDashboard(this WebApplication app)
    {
        DashboardEndpoints.Map(app);
        DashboardControls.Map(app);
        return app;
    }
}
