using System.Collections.Concurrent;
using System.Net;
using NodaTime;
using Microsoft.Extensions.Options;
using MQTTnet.Protocol;
using MQTTnet.Server;
using Presence.Contracts.Wire;
using Presence.Domain.House;
using Presence.Server.Configuration;
using Presence.Server.Hosting;
using Presence.Server.Identities;
using Presence.Server.Telemetry;

namespace Presence.Server.Mqtt;

/// <summary>
/// With no external broker configured the server is the broker (MQTTnet.Server), so `dotnet run` needs nothing
/// else. Retained messages live in memory: the server re-publishes user state on start. It checks who connects
/// (<see cref="Admission"/>) and enforces CONTRACT.md §5 itself (<see cref="PublishRules"/>); a refused publish is
/// reported on presence/errors. What the bridge takes is handed to it in process (<see cref="BridgeHandOff"/>).
/// Enrolments are polled, so a `revoke` in another process ends the identity's live
/// sessions within <see cref="EnrolmentPoll"/>.
/// </summary>
public sealed class EmbeddedBroker(
    IOptions<MqttOptions> options,
    HousePolicy policy,
    Rejections rejections,
    ServerSecret serverSecret,
    Enrolments enrolments,
    IOptions<DatabaseOptions> database,
    IClock clock,
    Presence.Server.HomeAssistant.Statestream.StatestreamMap statestream,
    BridgeHandOff handOff,
    ILogger<EmbeddedBroker> logger) : IHostedService, IAsyncDisposable
{
    public static readonly TimeSpan EnrolmentPoll = TimeSpan.FromSeconds(2);

    private readonly PublishRules rules = new(new Topics(options.Value.TopicRoot), options.Value.Controllers,
        statestream.Enabled ? statestream.BaseTopic : null, statestream.Identity);
    private readonly ConcurrentDictionary<string, Admitted> sessions = new();
    private readonly CancellationTokenSource stopping = new();
    private Admission? admission;
    private MqttServer? server;
    private Task polling = Task.CompletedTask;

    /// <summary>Whether the embedded broker at <paramref name="host"/> would be reachable from this computer alone.</summary>
    public static bool IsLoopbackOnly(string host) => IPAddress.TryParse(host, out var ip) && IPAddress.IsLoopback(ip);

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var mqtt = options.Value;
        if (mqtt.Broker != BrokerKind.Embedded)
        {
            return;
        }

        if (mqtt.MaxQueuedMessages < 1)
        {
            throw new StartupException($"Mqtt:MaxQueuedMessages is {mqtt.MaxQueuedMessages}; it must be at least 1 (default 100000)");
        }

        var loopbackOnly = IsLoopbackOnly(mqtt.Host);
        await enrolments.RefreshAsync(cancellationToken);
        var hosts = policy.Hosts.Select(h => h.Name).ToHashSet();
        if (!loopbackOnly)
        {
            var missing = hosts.Concat(mqtt.Controllers).Where(name => enrolments.Find(name) is null).Distinct().ToList();
            if (missing.Count > 0)
            {
                throw new StartupException(
                    $"the embedded MQTT broker would listen on {mqtt.Host}, beyond this computer, but {string.Join(", ", missing)} {(missing.Count == 1 ? "has" : "have")} no secret; " +
                    "enrol each: `dotnet run --project src/Presence.Server -- enroll <host>` (controllers: `-- enroll <name> --controller`), or set Mqtt:Host=127.0.0.1");
            }
        }

        admission = new Admission(hosts, mqtt.Controllers.ToHashSet(), serverSecret, enrolments, loopbackOnly, mqtt.AllowAnonymous);
        var address = IPAddress.TryParse(mqtt.Host, out var ip) ? ip : IPAddress.Any;
        // MQTTnet also listens on [::] unless told otherwise, which would put a broker configured for 127.0.0.1
        // on every interface; IPAddress.None turns a listener off.
        var (v4, v6) = address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6
            ? (IPAddress.None, address)
            : (address, address.Equals(IPAddress.Any) ? IPAddress.IPv6Any : IPAddress.None);
        var tls = mqtt.Tls.IsOn(loopbackOnly);
        var builder = new MqttServerOptionsBuilder()
            .WithDefaultEndpoint()
            .WithDefaultEndpointPort(mqtt.Port)
            .WithPersistentSessions()
            // MQTTnet keeps this many per client and drops the oldest beyond it. It re-queues every unacknowledged
            // message when a session resumes, so it must hold the server's whole backlog, not just what is in flight.
            .WithMaxPendingMessagesPerClient(mqtt.MaxQueuedMessages);
        string? fingerprint = null;
        if (tls)
        {
            // With TLS the plain port stays on loopback, for the server's own in-process clients and tools on
            // this computer; every other computer must come through TLS.
            var (certificate, created) = BrokerCertificate.LoadOrCreate(BrokerCertificate.EffectiveFile(mqtt, database.Value), mqtt, clock.GetCurrentInstant());
            fingerprint = BrokerCertificate.Fingerprint(certificate);
            builder = builder
                .WithDefaultEndpointBoundIPAddress(IPAddress.Loopback)
                .WithDefaultEndpointBoundIPV6Address(IPAddress.IPv6Loopback)
                .WithEncryptedEndpoint()
                .WithEncryptedEndpointBoundIPAddress(v4)
                .WithEncryptedEndpointBoundIPV6Address(v6)
                .WithEncryptedEndpointPort(mqtt.Tls.Port)
                .WithEncryptionCertificate(certificate)
                .WithEncryptionSslProtocol(System.Security.Authentication.SslProtocols.Tls12 | System.Security.Authentication.SslProtocols.Tls13);
            if (created)
            {
                logger.LogInformation("Made the embedded MQTT broker's TLS certificate {Path} (readable by this user only)", BrokerCertificate.EffectiveFile(mqtt, database.Value));
            }
        }
        else
        {
            builder = builder.WithDefaultEndpointBoundIPAddress(v4).WithDefaultEndpointBoundIPV6Address(v6);
            if (!loopbackOnly)
            {
                logger.LogWarning("The embedded MQTT broker listens on {Address}:{Port} without TLS (Mqtt:Tls:Enabled=false): passwords and commands cross the network readable by anyone on it", address, mqtt.Port);
            }
        }

        var serverOptions = builder.Build();
        server = new MqttServerFactory().CreateMqttServer(serverOptions);
        server.ValidatingConnectionAsync += ValidateConnection;
        server.ClientDisconnectedAsync += Forget;
        server.InterceptingPublishAsync += InterceptPublish;
        server.InterceptingSubscriptionAsync += InterceptSubscription;
        handOff.Watch(server);
        server.QueuedApplicationMessageOverwrittenAsync += Dropped;
        try
        {
            await server.StartAsync();
        }
        catch (System.Net.Sockets.SocketException e)
        {
            // A settings problem like any other (exit 2, one line), not a crash: most often a mosquitto already on 1883.
            throw new StartupException(
                $"the embedded MQTT broker cannot listen on {address}:{mqtt.Port}{(tls ? $" and TLS port {mqtt.Tls.Port}" : "")} ({e.Message}); set Mqtt:Port{(tls ? " and Mqtt:Tls:Port" : "")} to a free port, or Mqtt:Broker=external to use a running broker");
        }

        polling = Task.Run(() => PollEnrolmentsAsync(stopping.Token), CancellationToken.None);
        logger.LogInformation("Embedded MQTT broker listening on {Address}:{Port}{Loopback}", tls ? IPAddress.Loopback : address, mqtt.Port,
            loopbackOnly ? " (loopback only: hosts and controllers that were never enrolled may connect without a password)" : "");
        if (fingerprint is not null)
        {
            logger.LogInformation(
                "Embedded MQTT broker TLS on {Address}:{TlsPort}, certificate SHA-256 {Fingerprint}; agents pin it: --Agent:Mqtt:Tls:Enabled=true --Agent:Mqtt:Tls:Fingerprint={Fingerprint} (and Agent:Mqtt:Port={TlsPort})",
                address, mqtt.Tls.Port, fingerprint, fingerprint, mqtt.Tls.Port);
        }
    }

    private async Task ValidateConnection(ValidatingConnectionEventArgs e)
    {
        if (string.IsNullOrEmpty(e.ClientId))
        {
            // MQTT 5 lets the broker name a client that brings no id (mosquitto_pub -V 5 does this).
            e.AssignedClientIdentifier = "anonymous-" + Guid.NewGuid().ToString("N")[..12];
        }

        var clientId = string.IsNullOrEmpty(e.ClientId) ? e.AssignedClientIdentifier : e.ClientId;
        var (admitted, refused) = await admission!.AdmitAsync(e.UserName, e.Password, clientId);
        if (refused is not null)
        {
            logger.LogWarning("Refused MQTT client {ClientId} (username {User}): {Why}", clientId, e.UserName ?? "none", refused.Why);
            e.ReasonCode = refused.Code;
            return;
        }

        // The last admission of a client id wins: MQTTnet hands the session to the new connection and drops the old.
        sessions[clientId] = admitted!;
    }

    private Task Forget(ClientDisconnectedEventArgs e)
    {
        if (e.DisconnectType != MqttClientDisconnectType.Takeover)
        {
            sessions.TryRemove(e.ClientId, out _);
        }

        return Task.CompletedTask;
    }

    /// <summary>Who sent it: the identity admitted for this client id and username, else nobody in particular.</summary>
    private Identity Who(string clientId, string? userName) =>
        sessions.TryGetValue(clientId, out var admitted) && admitted.UserName == (string.IsNullOrEmpty(userName) ? null : userName)
            ? admitted.Who
            : new Identity(IdentityKind.Anonymous, clientId);

    private async Task InterceptPublish(InterceptingPublishEventArgs e)
    {
        var refusal = rules.Check(Who(e.ClientId, e.UserName), e.ApplicationMessage.Topic);
        if (refusal is null && handOff.For(e.ApplicationMessage.Topic) is { } take)
        {
            await HandOverAsync(e, take);
        }
        else if (refusal is not null)
        {
            e.ProcessPublish = false;
            // An MQTT 5 client learns it at once from its PUBACK, as mosquitto's ACL tells it.
            e.Response.ReasonCode = MqttPubAckReasonCode.NotAuthorized;
            e.Response.ReasonString = refusal;
            var topic = e.ApplicationMessage.Topic;
            var id = InboundId.Read(System.Buffers.BuffersExtensions.ToArray(e.ApplicationMessage.Payload));
            // Not awaited: the error is published through this same broker, from inside its publish pipeline.
            _ = Task.Run(() => rejections.RejectAsync(topic, refusal, id, CancellationToken.None));
        }
    }

    /// <summary>
    /// Hands an input to the bridge and answers the publisher once it is in line; in the order this publisher sent, as
    /// MQTTnet reads a client's packets one at a time. The broker dispatches it only when it must keep it (retained) or
    /// another client subscribed to it.
    /// </summary>
    private async Task HandOverAsync(InterceptingPublishEventArgs e, BridgeHandOff.Take take)
    {
        var message = e.ApplicationMessage;
        e.ProcessPublish = message.Retain || handOff.OthersMayWant(message.Topic);
        if (e.ProcessPublish)
        {
            handOff.Dispatching(message);
        }

        try
        {
            var taken = await take(message.Topic, System.Buffers.BuffersExtensions.ToArray(message.Payload));
            if (taken.IsCompletedSuccessfully && !taken.Result)
            {
                // The bridge is stopping and did not take it: an MQTT 5 publisher learns so, and sends it again.
                e.Response.ReasonCode = MqttPubAckReasonCode.ImplementationSpecificError;
                e.Response.ReasonString = "the server is stopping; not taken";
            }
        }
        catch (BridgeFullException full)
        {
            e.ProcessPublish = false;
            e.Response.ReasonCode = MqttPubAckReasonCode.QuotaExceeded;
            e.Response.ReasonString = full.Message;
            var total = Interlocked.Increment(ref refusedFull);
            if (WorthALine(total))
            {
                logger.LogError(
                    "Refused {Topic} from MQTT client {ClientId} (QuotaExceeded): {Why}; {Total} refused since start. Raise Mqtt:MaxQueuedMessages or find what holds the server up",
                    message.Topic, e.ClientId, full.Message, total);
            }
        }
        catch (Exception error)
        {
            e.ProcessPublish = false;
            logger.LogError(error, "Handing {Topic} from MQTT client {ClientId} to the bridge failed", message.Topic, e.ClientId);
            e.Response.ReasonCode = MqttPubAckReasonCode.ImplementationSpecificError;
            e.Response.ReasonString = "the server could not take it";
        }
    }

    private Task InterceptSubscription(InterceptingSubscriptionEventArgs e)
    {
        var refusal = rules.CheckSubscription(Who(e.ClientId, e.UserName), e.TopicFilter.Topic);
        if (refusal is not null)
        {
            logger.LogWarning("Refused a subscription of MQTT client {ClientId}: {Why}", e.ClientId, refusal);
            e.ProcessSubscription = false;
            e.Response.ReasonCode = MqttSubscribeReasonCode.NotAuthorized;
            e.ReasonString = refusal;
        }

        return Task.CompletedTask;
    }

    /// <summary>
    /// Drops of QoS 1 messages from a client's full queue (Mqtt:MaxQueuedMessages) since start. MQTTnet keeps a dropped
    /// message among the unacknowledged ones, so a session that resumes again may queue and drop it once more.
    /// </summary>
    public long DroppedMessages => Interlocked.Read(ref dropped);

    private long dropped;

    /// <summary>
    /// Inputs refused as the bridge held Mqtt:MaxQueuedMessages not yet stored (<see cref="BridgeFullException"/>).
    /// </summary>
    public long RefusedFull => Interlocked.Read(ref refusedFull);

    private long refusedFull;

    /// <summary>
    /// A message MQTTnet dropped from a full queue is lost for that client: never silently. The first one and every
    /// thousandth after it are an error in the log (a flood of lines would hide the cause), each one is counted.
    /// </summary>
    private Task Dropped(QueueMessageOverwrittenEventArgs e)
    {
        var total = Interlocked.Increment(ref dropped);
        PresenceTelemetry.BrokerDropped.Add(1);
        if (WorthALine(total))
        {
            logger.LogError(
                "The embedded MQTT broker dropped a queued message for {ClientId} ({Topic}): its queue was full at Mqtt:MaxQueuedMessages={Limit}; {Total} dropped since start. " +
                "The client is too far behind; raise Mqtt:MaxQueuedMessages or find what holds it up",
                e.ReceiverClientId, (e.Packet as MQTTnet.Packets.MqttPublishPacket)?.Topic ?? "?", options.Value.MaxQueuedMessages, total);
        }

        return Task.CompletedTask;
    }

    /// <summary>
    /// The first of a kind of loss, and every thousandth after it: a flood of lines would hide the cause.
    /// </summary>
    private static bool WorthALine(long total) => total == 1 || total % 1000 == 0;

    /// <summary>`enroll` and `revoke` run in another process: the store is the only way to hear of them.</summary>
    private async Task PollEnrolmentsAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(EnrolmentPoll, ct);
                await enrolments.RefreshAsync(ct);
                await DropStaleSessionsAsync();
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                logger.LogWarning("Could not read the enrolled identities ({Reason}); keeping the last known", e.Message);
            }
        }
    }

    /// <summary>A session admitted under a secret that is no longer the stored one (revoked, replaced, newly required) ends now.</summary>
    private async Task DropStaleSessionsAsync()
    {
        var stale = sessions
            .Where(s => s.Value.Who.Kind is IdentityKind.Host or IdentityKind.Controller)
            .Where(s => !SameHash(s.Value.Hash, enrolments.Find(s.Value.Who.Name)?.Hash))
            .ToList();
        if (stale.Count == 0 || server is null)
        {
            return;
        }

        var clients = (await server.GetClientsAsync()).ToDictionary(c => c.Id);
        foreach (var (clientId, admitted) in stale)
        {
            sessions.TryRemove(new KeyValuePair<string, Admitted>(clientId, admitted));
            if (clients.TryGetValue(clientId, out var client))
            {
                logger.LogWarning("Disconnecting MQTT client {ClientId}: the secret of {Who} was revoked or replaced", clientId, admitted.Who);
                await client.DisconnectAsync(new MqttServerClientDisconnectOptions
                {
                    ReasonCode = MqttDisconnectReasonCode.NotAuthorized,
                    ReasonString = $"the secret of {admitted.Who} was revoked or replaced",
                });
            }
        }
    }

    /// <summary>What a new subscriber would be handed: for checks that nothing secret is kept at the broker.</summary>
    public async Task<IReadOnlyList<(string Topic, byte[] Payload)>> RetainedAsync() =>
        server is null ? [] : (await server.GetRetainedMessagesAsync()).Select(m => (m.Topic, System.Buffers.BuffersExtensions.ToArray(m.Payload))).ToList();

    private static bool SameHash(byte[]? a, byte[]? b) => a is null ? b is null : b is not null && a.AsSpan().SequenceEqual(b);

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await stopping.CancelAsync();
        await polling;
        if (server is not null)
        {
            await server.StopAsync();
        }
    }

    public ValueTask DisposeAsync()
    {
        server?.Dispose();
        server = null;
        stopping.Dispose();
        return ValueTask.CompletedTask;
    }
}
