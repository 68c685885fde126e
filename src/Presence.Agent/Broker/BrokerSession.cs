using MQTTnet;
using MQTTnet.Protocol;
using Presence.Agent.Configuration;

namespace Presence.Agent.Broker;

/// <summary>The agent's MQTT session: its identity, a last will saying "offline", and a session that outlives a restart.</summary>
internal static class BrokerSession
{
    public static MqttClientOptions Options(AgentOptions options, string statusTopic, byte[] offlineStatus)
    {
        var builder = new MqttClientOptionsBuilder()
            .WithTcpServer(options.Mqtt.Host, options.Mqtt.Port)
            .WithClientId(options.EffectiveClientId)
            .WithTimeout(TimeSpan.FromSeconds(10))
            .WithWillTopic(statusTopic)
            .WithWillPayload(offlineStatus)
            .WithWillRetain(true)
            .WithWillQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce)
            // A persistent session keeps commands sent while the agent restarts; the journal answers redeliveries.
            .WithCleanStart(options.Mqtt.SessionExpiry == TimeSpan.Zero)
            .WithSessionExpiryInterval((uint)options.Mqtt.SessionExpiry.TotalSeconds);
        if (!string.IsNullOrEmpty(options.Mqtt.Username))
        {
            builder.WithCredentials(options.Mqtt.Username, options.Mqtt.Password);
        }

        return builder.Build();
    }
}
