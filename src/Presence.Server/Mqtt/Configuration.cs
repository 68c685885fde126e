using JasperFx;
using JasperFx.CodeGeneration;
using Marten;
using Microsoft.Extensions.Options;
using Presence.Server.Configuration;
using Presence.Server.Hosting;
using Wolverine;
using Wolverine.Configuration;
using Wolverine.ErrorHandling;
using Wolverine.Runtime.Handlers;
using Wolverine.Runtime.Partitioning;

namespace Presence.Server.Mqtt;

/// <summary>
/// The MQTT bridge: the embedded broker, the inbound half (validated messages handed to Wolverine, de-duplicated by
/// the contract's id) and the outbound half (one durable queue, ordered per agent and per user, that publishes after
/// the transaction committed).
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
        services.AddSingleton<InboundLanes>();
        services.AddSingleton(BridgeHandOff.Of);
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
        opts.Storage.ExtendedSchemaObjects.Add(StoredInputs.Define(opts.DatabaseSchemaName));
        return opts;
    }

    /// <summary>The partitioned local queues of inbound messages: inputs1 … inputs{count}.</summary>
    public const string InputQueues = "inputs";

    public const int InputQueueCount = 4;

    /// <summary>The lanes handled at once in each input queue.</summary>
    public const PartitionSlots InputQueueSlots = PartitionSlots.Five;

    public static WolverineOptions ConfigureMqtt(this WolverineOptions opts)
    {
        // Each lane's messages one at a time in the order they were sent, lanes in parallel (IPublished). A lane hashes
        // to one slot, so lanes that share a slot wait for each other: nine, the most Wolverine offers.
        opts.MessagePartitioning.ByMessage<IPublished>(p => p.Lane);
        opts.LocalQueue(MqttOutbound.Queue).UseDurableInbox().PartitionProcessingByGroupId(PartitionSlots.Nine);

        // Inbound messages are handled in lanes (Lanes): Wolverine's partitioned local queues, each lane's messages
        // one at a time in the order the bridge stored them, different lanes in parallel. A lane always hashes to the
        // same queue and, inside it, to the same slot, so unrelated lanes that share a slot wait for each other; more
        // queues make that rarer, each costs a listener. Durable: the bridge acknowledges a message once its inbox
        // row is committed, and a crash before it is handled leaves the row for Wolverine's recovery.
        // A stored input counts against its lane until handled (InboundLanes: a lone input of an idle lane is handled
        // at once).
        opts.Policies.AddMiddleware(typeof(InputHandled), chain => chain.MessageType.IsAssignableTo(typeof(IArrived)));
        // A stored input waits for those of its lane stored before it (StoredInputs: a node that takes a dead one's
        // inbox over gets them in no order). Scheduled again rather than retried in place: the earlier one may be
        // behind it in the same lane, or not yet taken over.
        opts.Policies.AddMiddleware(typeof(InTurn), chain => chain.MessageType.IsAssignableTo(typeof(IArrived)));
        opts.Policies.OnException<EarlierInputWaiting>().ScheduleRetryIndefinitely(TimeSpan.FromMilliseconds(250));
        // ... or moved to the dead letters (DeadLetteredInputHandler). Only the input itself travels in the fault: no
        // exception text, which may quote what the input carried.
        opts.PublishFaultEvents(includeDiscarded: false, includeExceptionMessage: false, includeStackTrace: false);

        opts.MessagePartitioning.ByMessage<IArrived>(a => a.Lane)
            .PublishToPartitionedLocalMessaging(InputQueues, InputQueueCount, t =>
            {
                t.MessagesImplementing<IArrived>();
                t.MaxDegreeOfParallelism = InputQueueSlots;
                t.ConfigureQueues(q => q.UseDurableInbox());
            });

        // Those rows belong to the node that stored them; another node (or the same server started again: a new node
        // id) takes them over only once Wolverine's health checks call the dead node stale. With Wolverine's defaults
        // (a check every 10 s, stale after 1 min, ejected at the second stale check) a server killed mid-burst had its
        // stored signals handled 76 s after the kill (Drills/server_killed_mid_burst). A heartbeat every 2 s is one
        // small update; a node is stale after 10 s without one (five missed), then ejected on the next check.
        opts.Durability.HealthCheckPollingTime = TimeSpan.FromSeconds(2);
        opts.Durability.FirstHealthCheckExecution = TimeSpan.FromSeconds(1);
        opts.Durability.StaleNodeTimeout = TimeSpan.FromSeconds(10);

        // A message the house refuses (unknown user, a host the user may not use...) is refused in its handler, after
        // the bridge acknowledged it: the emitter still learns why on presence/errors, and nothing is stored or retried.
        opts.Policies.OnException<MessageRejected>().Discard()
            .And(async (runtime, lifecycle, e) =>
            {
                if (lifecycle.Envelope?.Message is IArrived arrived)
                {
                    await StoredInputs.RemoveAsync(runtime.Services.GetRequiredService<IDocumentStore>(), arrived, runtime.Cancellation);
                    runtime.Services.GetRequiredService<InboundLanes>().Handled(arrived.Lane);
                    await runtime.Services.GetRequiredService<Rejections>().RejectAsync(arrived.Topic, e.Message, arrived.Id, runtime.Cancellation);
                }
            }, "say why on presence/errors");
        // A publication waits for a broker that is away (MqttOutbound.WaitForBrokerAsync) rather than fail and be
        // retried: Wolverine's execution timeout (60 s by default) would end that wait and log it as a failure.
        opts.Policies.Add(new WaitingForTheBroker());
        // What still fails (the connection broke mid-publish, the broker refused, the server stopped while waiting):
        opts.OnException<MqttNotConnectedException>()
            .RetryWithCooldown(TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2))
            .Then.ScheduleRetryIndefinitely(TimeSpan.FromSeconds(5));
        return opts;
    }
}

/// <summary>
/// The outbound queue's handlers may wait as long as the broker is away. The wait still ends when the server stops;
/// a publish that hangs while connected ends at MQTTnet's own timeout for the broker's answer.
/// </summary>
internal sealed class WaitingForTheBroker : IHandlerPolicy
{
    private static readonly int OneDay = (int)TimeSpan.FromDays(1).TotalSeconds;

    public void Apply(IReadOnlyList<HandlerChain> chains, GenerationRules rules, IServiceContainer container)
    {
        foreach (var chain in chains.Where(c => c.MessageType.IsAssignableTo(typeof(IPublished))))
        {
            chain.ExecutionTimeoutInSeconds = OneDay;
        }
    }
}
