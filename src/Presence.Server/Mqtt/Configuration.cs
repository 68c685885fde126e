using Microsoft.Extensions.Options;
using Presence.Server.Configuration;
using Marten;
using Presence.Server.Hosting;
using Wolverine;
using Wolverine.ErrorHandling;

namespace Presence.Server.Mqtt;

/// <summary>
/// The MQTT bridge: the embedded broker, the inbound half (validated messages handed to Wolverine, de-duplicated by
/// the contract's id) and the outbound half (one durable, ordered queue that publishes after the transaction committed).
/// </summary>
public static class Configuration
{
    /// <summary>Start order matters: the broker before the clients that connect to it.</summary>
    public static IServiceCollection AddMqtt(this IServiceCollection services)
    {
        // One secret per process: the server's own clients prove who they are to its own broker.
        services.AddSingleton(sp => new ServerSecret(sp.GetRequiredService<IOptions<MqttOptions>>().Value.ServerIdentity));
        services.AddHostedService<EmbeddedBroker>();
        services.AddSingleton<MqttOutbound>();
        services.AddHostedService(sp => sp.GetRequiredService<MqttOutbound>());
        services.AddSingleton<Rejections>();
        services.AddSingleton<MqttBridge>();
        services.AddHostedService(sp => sp.GetRequiredService<MqttBridge>());
        return services;
    }

    /// <summary>
    /// Register after Wolverine (hosted services start in order): it loads Wolverine's handlers and warms the signal
    /// path before the host reports started and the bridge subscribes.
    /// </summary>
    public static IServiceCollection AddSignalWarmup(this IServiceCollection services) => services.AddHostedService<SignalWarmup>();

    public static StoreOptions ConfigureMqtt(this StoreOptions opts)
    {
        opts.Schema.For<SeenMessage>();
        return opts;
    }

    public static WolverineOptions ConfigureMqtt(this WolverineOptions opts)
    {
        opts.LocalQueue(MqttOutbound.Queue).UseDurableInbox().Sequential();
        opts.OnException<MqttNotConnectedException>()
            .RetryWithCooldown(TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2))
            .Then.ScheduleRetryIndefinitely(TimeSpan.FromSeconds(5));
        return opts;
    }
}
