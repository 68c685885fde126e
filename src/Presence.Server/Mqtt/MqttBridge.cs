using Microsoft.Extensions.Options;
using NodaTime;
using Presence.Contracts.Agents;
using Presence.Contracts.Mqtt;
using Presence.Contracts.Requests;
using Presence.Contracts.Signals;
using Presence.Contracts.Wire;
using Presence.Server.Configuration;
using Presence.Server.Hosting;
using Presence.Server.Telemetry;
using Wolverine;

namespace Presence.Server.Mqtt;

/// <summary>
/// The incoming half of the bridge. Each message is validated against the contract, then handed to Wolverine
/// inline; it is acknowledged to the broker only after the handler's transaction committed (or the message was
/// rejected), so a crash in between means a redelivery, never a lost signal. Messages are handled one at a time,
/// which keeps each user's inputs in order.
/// </summary>
public sealed class MqttBridge(
    IOptions<MqttOptions> options,
    IServiceScopeFactory scopes,
    Rejections rejections,
    IClock clock,
    IHostApplicationLifetime lifetime,
    ServerSecret secret,
    Presence.Server.HomeAssistant.Statestream.StatestreamInbound statestream,
    ILogger<MqttBridge> logger) : BackgroundService
{
    private readonly MqttConnection connection = ServerSession.Connection("in", options.Value, secret, logger);
    private readonly Topics topics = new(options.Value.TopicRoot);
    private readonly Duration maxSkew = DurationText.Parse(options.Value.MaxSkew, "Mqtt:MaxSkew");

    /// <summary>Completes once the bridge has connected and subscribed (after the start, so after SignalWarmup): it takes signals.</summary>
    public Task Connected => connection.Connected;

    /// <summary>Whether the connection to the broker is up now, for /health.</summary>
    public bool IsConnected => connection.IsConnected;

    /// <summary>
    /// Up and subscribed, after every handler was loaded and the signal path warmed: the next signal is handled at
    /// once. False while the server is still starting (the connection opens only after that), and while it is down.
    /// </summary>
    public bool IsListening => connection.Connected.IsCompletedSuccessfully && connection.IsConnected;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (ServerSession.PlainBeyondLoopback(options.Value))
        {
            logger.LogWarning(
                "MQTT: the external broker {Host}:{Port} is beyond this computer and Mqtt:Tls:Enabled=false: the server's password, every signal and every command cross the network unencrypted. " +
                "Give the broker a TLS listener and remove Mqtt:Tls:Enabled=false (trust it with Mqtt:Tls:CaFile or Mqtt:Tls:Fingerprint)",
                options.Value.Host, options.Value.Port);
        }

        else if (ServerSession.ExternalTls(options.Value))
        {
            var tls = options.Value.Tls;
            logger.LogInformation(
                "MQTT: reaching the external broker {Host}:{Port} over TLS (Mqtt:Tls:Port), trusting {Trust}{Client}",
                options.Value.Host, tls.Port,
                !string.IsNullOrWhiteSpace(tls.Fingerprint) ? "only the certificate pinned by Mqtt:Tls:Fingerprint"
                    : !string.IsNullOrWhiteSpace(tls.CaFile) ? $"the CA in {tls.CaFile}" : "this computer's CAs",
                string.IsNullOrWhiteSpace(tls.ClientCertificate) ? "" : $", showing the client certificate {tls.ClientCertificate}");
        }

        // Wolverine and Marten must be up before the first message is handed over, and the handlers loaded and the
        // signal path warmed (SignalWarmup, a hosted service that finishes before the host reports started).
        await lifetime.WaitForStartAsync(stoppingToken);
        connection.OnMessage((topic, payload) => HandleAsync(topic, payload, stoppingToken));
        connection.Subscribe([.. topics.ServerSubscriptions, .. statestream.Subscriptions]);
        await connection.RunAsync(stoppingToken);
    }

    /// <summary>Returns true when the message is done with (stored, duplicate or rejected) and may be acknowledged.</summary>
    public async Task<bool> HandleAsync(string topic, byte[] payload, CancellationToken ct)
    {
        // The root of the message's trace: Wolverine's handler span and Marten's commit nest inside it.
        using var activity = PresenceTelemetry.Source.StartActivity("presence.mqtt.receive", System.Diagnostics.ActivityKind.Consumer);
        activity?.SetTag("messaging.system", "mqtt").SetTag("messaging.destination.name", topic);
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var (outcome, kind) = ("failed", "unknown");
        try
        {
            var (handled, stored, k) = await HandleCoreAsync(topic, payload, ct);
            (outcome, kind) = (stored ? "stored" : handled ? "refused" : "not_acknowledged", k);
            return handled;
        }
        finally
        {
            activity?.SetTag("presence.kind", kind).SetTag("presence.outcome", outcome);
            var tags = new System.Diagnostics.TagList { { "presence.kind", kind }, { "presence.outcome", outcome } };
            PresenceTelemetry.Received.Add(1, tags);
            PresenceTelemetry.HandleTime.Record(System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds, tags);
        }
    }

    /// <summary>
    /// Handled: may be acknowledged; Stored: handed to Wolverine and committed (or found already stored); Kind: what the
    /// contract made of it, "unknown" when it could not be read.
    /// </summary>
    private async Task<(bool Handled, bool Stored, string Kind)> HandleCoreAsync(string topic, byte[] payload, CancellationToken ct)
    {
        var id = InboundId.Read(payload);
        System.Diagnostics.Activity.Current?.SetTag("presence.message_id", id);
        if (payload.Length > InboundId.MaxPayloadBytes)
        {
            await rejections.RejectAsync(topic, $"payload is {payload.Length} bytes; at most {InboundId.MaxPayloadBytes} are accepted", id, ct);
            return (true, false, "unknown");
        }

        if (statestream.Owns(topic))
        {
            // Home Assistant's plain-string states are not the contract's JSON: read (and reported) on their own.
            return await statestream.ReadAsync(topic, payload, ct) is { } state
                ? await InvokeAsync(topic, state, "statestream", id, ct)
                : (true, false, "statestream");
        }

        Inbound inbound;
        try
        {
            inbound = InboundParser.Parse(topics, topic, payload, clock.GetCurrentInstant(), maxSkew);
        }
        catch (ContractException e)
        {
            await rejections.RejectAsync(topic, e.Message, id, ct);
            return (true, false, "unknown");
        }

        if (inbound.Message is AgentEvent answer)
        {
            PresenceTelemetry.AnswerReceived(answer.CommandId);
        }

        var (message, kind) = inbound.Message switch
        {
            Signal s => ((object)new SignalArrived(topic, s, inbound.At), "signal"),
            UserRequest r => (new UserRequestArrived(topic, r, inbound.At), "request"),
            MaintenanceRequest m => (new MaintenanceArrived(topic, m, inbound.At), "maintenance"),
            AgentStatus s => (new AgentStatusArrived(topic, s, inbound.At), "agent_status"),
            AgentInventory i => (new AgentInventoryArrived(topic, i, inbound.At), "agent_inventory"),
            AgentEvent a => (new AgentEventArrived(topic, a, inbound.At), "agent_event"),
            var other => throw new InvalidOperationException($"no handler for {other.GetType().Name}"),
        };
        return await InvokeAsync(topic, message, kind, id, ct);
    }

    private async Task<(bool Handled, bool Stored, string Kind)> InvokeAsync(string topic, object message, string kind, string? id, CancellationToken ct)
    {
        try
        {
            // Concurrent writers and a database that is away are retried by Wolverine (StoreRetries), inside this
            // call: when it returns, the message is stored.
            await using var scope = scopes.CreateAsyncScope();
            await scope.ServiceProvider.GetRequiredService<IMessageBus>().InvokeAsync(message, ct);
            return (true, true, kind);
        }
        catch (MessageRejected e)
        {
            await rejections.RejectAsync(topic, e.Message, id, ct);
            return (true, false, kind);
        }
        catch (Exception) when (ct.IsCancellationRequested)
        {
            // The server is stopping: whatever failed (Marten wraps a cancelled schema update in its own exception) is
            // no verdict on the message. Not acknowledged, the broker redelivers it to the next run.
            return (false, false, kind);
        }
        catch (Exception e)
        {
            logger.LogError(e, "Handling {Topic} failed for good", topic);
            await rejections.RejectAsync(topic, $"internal error while handling this message: {e.Message}", id, ct);
            return (true, false, kind);
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        await connection.DisposeAsync();
    }
}
