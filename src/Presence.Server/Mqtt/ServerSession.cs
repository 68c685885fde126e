using MQTTnet;
using Presence.Contracts.Mqtt;
using Presence.Server.Configuration;

namespace Presence.Server.Mqtt;

/// <summary>
/// The server's MQTT connections (one per role, "in" and "out"): a persistent session, so QoS 1 messages that
/// arrive while the server restarts wait for it at the broker. On the embedded broker they prove the server's
/// identity with this process's own secret; on an external one with Mqtt:Username and Mqtt:Password.
/// </summary>
public static class ServerSession
{
    /// <summary>Checked every second; after a failure retried at 200 ms, doubling up to 10 s.</summary>
    private static readonly MqttReconnect Reconnect = new(TimeSpan.FromSeconds(1), TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(10));

    public static MqttConnection Connection(string role, MqttOptions mqtt, ServerSecret secret, ILogger logger)
    {
        var options = new MqttClientOptionsBuilder()
            .WithTcpServer(Address(mqtt), mqtt.Port)
            .WithClientId($"{Admission.ServerClientPrefix}{mqtt.NodeName}-{role}")
            .WithProtocolVersion(MQTTnet.Formatter.MqttProtocolVersion.V500)
            .WithCleanStart(false)
            .WithSessionExpiryInterval((uint)TimeSpan.FromDays(7).TotalSeconds)
            .WithKeepAlivePeriod(TimeSpan.FromSeconds(15));
        if (mqtt.Broker == BrokerKind.Embedded)
        {
            options = options.WithCredentials(secret.UserName, secret.Password);
        }
        else if (mqtt.Username is { Length: > 0 } user)
        {
            options = options.WithCredentials(user, mqtt.Password);
        }

        return new MqttConnection($"server {role}", options.Build(), Reconnect, logger);
    }

    /// <summary>
    /// Where the server's clients find the broker. The embedded one is in this process: with TLS on, its plain
    /// port is on loopback only, and a loopback hop needs no encryption.
    /// </summary>
    private static string Address(MqttOptions mqtt) =>
        mqtt.Broker == BrokerKind.Embedded && (mqtt.Host == "0.0.0.0" || mqtt.Tls.IsOn(EmbeddedBroker.IsLoopbackOnly(mqtt.Host)))
            ? "127.0.0.1"
            : mqtt.Host;
}
