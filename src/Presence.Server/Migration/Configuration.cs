using Presence.Server.Mqtt;
using Wolverine;

namespace Presence.Server.Migration;

/// <summary>Moves are carried out by agent commands, which leave through the MQTT bridge's outbound queue.</summary>
public static class Configuration
{
    public static WolverineOptions ConfigureMigration(this WolverineOptions opts)
    {
        opts.PublishMessage<SendAgentCommand>().ToLocalQueue(MqttOutbound.Queue);
        return opts;
    }
}
