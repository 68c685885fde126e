using System.Net;
using Microsoft.Extensions.Options;
using MQTTnet.Protocol;
using MQTTnet.Server;
using Presence.Contracts.Wire;
using Presence.Domain.House;
using Presence.Server.Configuration;

namespace Presence.Server.Mqtt;

/// <summary>
/// With no external broker configured the server is the broker (MQTTnet.Server), so `dotnet run` needs nothing
/// else. Retained messages live in memory: the server re-publishes user state on start. It enforces
/// CONTRACT.md §5 itself (<see cref="PublishRules"/>); a refused publish is reported on presence/errors.
/// </summary>
public sealed class EmbeddedBroker(
    IOptions<MqttOptions> options,
    HousePolicy policy,
    Rejections rejections,
    ILogger<EmbeddedBroker> logger) : IHostedService, IAsyncDisposable
{
    private MqttServer? server;
    private readonly PublishRules rules = new(
        new Topics(options.Value.TopicRoot),
        policy.Hosts.Select(h => h.Name).ToHashSet(),
        options.Value.Controllers,
        string.IsNullOrEmpty(options.Value.Username) ? null : options.Value.Username);

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var mqtt = options.Value;
        if (mqtt.Broker != BrokerKind.Embedded)
        {
            return;
        }

        var address = IPAddress.TryParse(mqtt.Host, out var ip) ? ip : IPAddress.Any;
        // MQTTnet also listens on [::] unless told otherwise, which would put a broker configured for 127.0.0.1
        // on every interface; IPAddress.None turns a listener off.
        var (v4, v6) = address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6
            ? (IPAddress.None, address)
            : (address, address.Equals(IPAddress.Any) ? IPAddress.IPv6Any : IPAddress.None);
        var serverOptions = new MqttServerOptionsBuilder()
            .WithDefaultEndpoint()
            .WithDefaultEndpointBoundIPAddress(v4)
            .WithDefaultEndpointBoundIPV6Address(v6)
            .WithDefaultEndpointPort(mqtt.Port)
            .WithPersistentSessions()
            .Build();
        server = new MqttServerFactory().CreateMqttServer(serverOptions);
        server.ValidatingConnectionAsync += ValidateConnection;
        server.InterceptingPublishAsync += InterceptPublish;
        try
        {
            await server.StartAsync();
        }
        catch (System.Net.Sockets.SocketException e)
        {
            throw new InvalidOperationException(
                $"the embedded MQTT broker cannot listen on {address}:{mqtt.Port} ({e.Message}); set Mqtt:Port to a free port, or Mqtt:Broker=external to use a running broker",
                e);
        }

        logger.LogInformation("Embedded MQTT broker listening on {Address}:{Port}", address, mqtt.Port);
    }

    private Task ValidateConnection(ValidatingConnectionEventArgs e)
    {
        var mqtt = options.Value;
        if (string.IsNullOrEmpty(e.ClientId))
        {
            // MQTT 5 lets the broker name a client that brings no id (mosquitto_pub -V 5 does this).
            e.AssignedClientIdentifier = "anonymous-" + Guid.NewGuid().ToString("N")[..12];
        }

        if (!string.IsNullOrEmpty(e.UserName) && mqtt.Passwords.TryGetValue(e.UserName, out var password) && password != e.Password)
        {
            logger.LogWarning("MQTT client {ClientId} gave a wrong password for {User}", e.ClientId, e.UserName);
            e.ReasonCode = MqttConnectReasonCode.BadUserNameOrPassword;
            return Task.CompletedTask;
        }

        var who = rules.Identify(e.UserName, e.ClientId ?? e.AssignedClientIdentifier ?? "");
        if (who.Kind == IdentityKind.Anonymous && !mqtt.AllowAnonymous)
        {
            logger.LogWarning("Refused anonymous MQTT client {ClientId} (Mqtt:AllowAnonymous is false)", e.ClientId);
            e.ReasonCode = MqttConnectReasonCode.NotAuthorized;
        }

        return Task.CompletedTask;
    }

    private Task InterceptPublish(InterceptingPublishEventArgs e)
    {
        var who = rules.Identify(e.UserName, e.ClientId);
        var refusal = rules.Check(who, e.ApplicationMessage.Topic, options.Value.AllowAnonymous);
        if (refusal is not null)
        {
            e.ProcessPublish = false;
            var topic = e.ApplicationMessage.Topic;
            // Not awaited: the error is published through this same broker, from inside its publish pipeline.
            _ = Task.Run(() => rejections.RejectAsync(topic, refusal, CancellationToken.None));
        }

        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (server is not null)
        {
            await server.StopAsync();
        }
    }

    public ValueTask DisposeAsync()
    {
        server?.Dispose();
        server = null;
        return ValueTask.CompletedTask;
    }
}
