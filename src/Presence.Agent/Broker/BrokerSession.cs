using MQTTnet;
using Microsoft.Extensions.Logging;
using MQTTnet.Protocol;
using Presence.Contracts.Mqtt;
using Presence.Agent.Configuration;

namespace Presence.Agent.Broker;

/// <summary>The agent's MQTT session: its identity, a last will saying "offline", and a session that outlives a restart.</summary>
internal static class BrokerSession
{
    public static MqttClientOptions Options(AgentOptions options, string statusTopic, byte[] offlineStatus, ILogger logger)
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

        var tls = options.Mqtt.Tls;
        if (tls.IsOn)
        {
            builder.WithTrust(options.Mqtt.Host, new MqttTrust(
                string.IsNullOrWhiteSpace(tls.Fingerprint) ? null : tls.Fingerprint, tls.CaFile, tls.ClientCertificate, tls.ClientCertificatePassword, tls.ClientKey), logger);
        }

        return builder.Build();
    }
}
