using MQTTnet;
using Presence.Contracts.Mqtt;
using Presence.Server.Configuration;

namespace Presence.Server.Mqtt;

/// <summary>
/// The server's MQTT connections (one per role: "in", "out", and "ha" for Home Assistant): a persistent session (but
/// "ha"'s), so QoS 1 messages that arrive while the server restarts wait for it at the broker. On the embedded broker they prove the server's
/// identity with this process's own secret; on an external one with Mqtt:Username and Mqtt:Password, over TLS
/// (Mqtt:Tls) unless the broker is on this computer, trusting it the way an agent does (<see cref="MqttTls"/>).
/// </summary>
public static class ServerSession
{
    /// <summary>Checked every second; after a failure retried at 200 ms, doubling up to 10 s.</summary>
    private static readonly MqttReconnect Reconnect = new(TimeSpan.FromSeconds(1), TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(10));

    /// <param name="will">What the broker publishes (retained) when this connection dies without saying goodbye.</param>
    /// <param name="persistent">False for a connection whose subscriptions must not queue messages while the server is away.</param>
    public static MqttConnection Connection(string role, MqttOptions mqtt, ServerSecret secret, ILogger logger, (string Topic, byte[] Payload)? will = null,
        bool persistent = true)
    {
        var tls = ExternalTls(mqtt);
        var options = new MqttClientOptionsBuilder()
            .WithTcpServer(Address(mqtt), tls ? mqtt.Tls.Port : mqtt.Port)
            .WithClientId(ClientId(mqtt, role))
            .WithProtocolVersion(MQTTnet.Formatter.MqttProtocolVersion.V500)
            .WithCleanStart(!persistent)
            .WithSessionExpiryInterval(persistent ? (uint)TimeSpan.FromDays(7).TotalSeconds : 0)
            .WithKeepAlivePeriod(TimeSpan.FromSeconds(15));
        if (will is var (willTopic, willPayload))
        {
            options = options.WithWillTopic(willTopic).WithWillPayload(willPayload).WithWillRetain(true)
                .WithWillQualityOfServiceLevel(MQTTnet.Protocol.MqttQualityOfServiceLevel.AtLeastOnce);
        }

        if (mqtt.Broker == BrokerKind.Embedded)
        {
            options = options.WithCredentials(secret.UserName, secret.Password);
        }
        else if (mqtt.Username is { Length: > 0 } user)
        {
            options = options.WithCredentials(user, mqtt.Password);
        }

        if (tls)
        {
            var t = mqtt.Tls;
            options = options.WithTrust(mqtt.Host, new MqttTrust(
                string.IsNullOrWhiteSpace(t.Fingerprint) ? null : t.Fingerprint, t.CaFile, t.ClientCertificate, t.ClientCertificatePassword, t.ClientKey), logger);
        }

        return new MqttConnection($"server {role}", options.Build(), Reconnect, logger);
    }

    /// <summary>The client id of this node's connection in <paramref name="role"/>.</summary>
    public static string ClientId(MqttOptions mqtt, string role) => $"{Admission.ServerClientPrefix}{mqtt.NodeName}-{role}";

    /// <summary>Whether the server's connections go to an external broker with TLS.</summary>
    public static bool ExternalTls(MqttOptions mqtt) =>
        mqtt.Broker == BrokerKind.External && mqtt.Tls.IsOnForExternal(IsOnThisComputer(mqtt.Host));

    /// <summary>
    /// An external broker that is reached without TLS although it is on another computer (Mqtt:Tls:Enabled=false
    /// said so): the server's password, the signals and the signed commands cross the network readable by anyone on it.
    /// </summary>
    public static bool PlainBeyondLoopback(MqttOptions mqtt) =>
        mqtt.Broker == BrokerKind.External && !ExternalTls(mqtt) && !IsOnThisComputer(mqtt.Host);

    /// <summary>A loopback address or the name localhost: traffic to it never leaves this computer.</summary>
    public static bool IsOnThisComputer(string host) =>
        string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase) || EmbeddedBroker.IsLoopbackOnly(host);

    /// <summary>
    /// Where the server's clients find the broker. The embedded one is in this process: with TLS on, its plain
    /// port is on loopback only, and a loopback hop needs no encryption.
    /// </summary>
    private static string Address(MqttOptions mqtt) =>
        mqtt.Broker == BrokerKind.Embedded && (mqtt.Host == "0.0.0.0" || mqtt.Tls.IsOn(EmbeddedBroker.IsLoopbackOnly(mqtt.Host)))
            ? "127.0.0.1"
            : mqtt.Host;
}
