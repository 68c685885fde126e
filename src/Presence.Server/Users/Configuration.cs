using JasperFx.Events.Projections;
using Marten;
using Wolverine;

namespace Presence.Server.Users;

/// <summary>The users' sagas: their stream's projection and the scheduled waits and timeouts that drive them.</summary>
public static class Configuration
{
    public static StoreOptions ConfigureUsers(this StoreOptions opts)
    {
        opts.Projections.Add<UserSagaProjection>(ProjectionLifecycle.Inline);
        return opts;
    }

    public static WolverineOptions ConfigureUsers(this WolverineOptions opts)
    {
        // Settling waits are scheduled messages; Wolverine's default 5 s poll would stretch a 3 s hold-down to 8 s.
        opts.Durability.ScheduledJobPollingTime = TimeSpan.FromSeconds(1);
        return opts;
    }
}
