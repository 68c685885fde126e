using Marten;
using Presence.Domain.House;
using Presence.Domain.Users;
using Presence.Server.Mqtt;
using Wolverine;

namespace Presence.Server.Placement;

/// <summary>Where each user's session is, as the retained state topic and `/api/users` tell it.</summary>
public static class Configuration
{
    public static WolverineOptions ConfigurePlacement(this WolverineOptions opts)
    {
        opts.PublishMessage<PublishUserState>().ToLocalQueue(MqttOutbound.Queue);
        return opts;
    }

    /// <summary>Register after the MQTT bridge: it queues every user's state once the server has started.</summary>
    public static IServiceCollection AddPlacement(this IServiceCollection services) =>
        services.AddHostedService<StatePublisherOnStart>();

    public static WebApplication MapPlacement(this WebApplication app)
    {
        app.MapGet("/api/users", async (IQuerySession session, HousePolicy policy, CancellationToken ct) =>
        {
            var sagas = (await session.LoadManyAsync<UserSaga>(ct, policy.Users.Select(u => u.Name))).ToDictionary(s => s.Id);
            return policy.Users.Select(u => PublishUserStateHandler.ToPayload(
                sagas.GetValueOrDefault(u.Name) ?? UserSaga.Start(u.Name, u.Vm), u));
        });
        return app;
    }
}
