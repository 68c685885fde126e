using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using Marten;
using Microsoft.Extensions.Options;
using Presence.Contracts.Mqtt;
using Presence.Contracts.Wire;
using Presence.Domain.Hosts;
using Presence.Domain.House;
using Presence.Domain.Users;
using Presence.Server.Configuration;
using Presence.Server.Dashboard;
using Presence.Server.Hosting;
using Presence.Server.Mqtt;

namespace Presence.Server.HomeAssistant;

/// <summary>
/// Announces Presence to Home Assistant and keeps what HA shows current: the discovery configs, every state topic
/// they name (retained) and the persons' decision events (not retained).
/// It has an MQTT connection of its own (a third one, beside the bridge's "in" and "out"): it subscribes to topics
/// outside Presence's contract (HA's birth message, the retained device configs under the discovery prefix), which
/// the inbound connection would hand to the contract parser and reject, HA's command topics (<see cref="HaCommands"/>),
/// and which must not queue up in a persistent
/// session while the server is away (so this session is a clean one); and the durable outbound queue is for
/// messages decided in a transaction, whereas everything here is recomputed from the projections and re-sent whole
/// after a reconnect.
/// </summary>
public sealed class HomeAssistantPublisher(
    IOptions<MqttOptions> mqtt,
    HaTopics t,
    HaCommands commands,
    HousePolicy policy,
    IDocumentStore store,
    HouseChanges changes,
    MqttOutbound outbound,
    ServerSecret secret,
    IHostApplicationLifetime lifetime,
    ILogger<HomeAssistantPublisher> logger) : BackgroundService
{
    /// <summary>After connecting, how long no retained config may arrive before the ones seen are taken as all there are.</summary>
    private static readonly TimeSpan Quiet = TimeSpan.FromSeconds(1);

    /// <summary>The longest wait for retained configs after connecting (Zigbee2MQTT waits 5 s, homeassistant.ts discoverWait).</summary>
    private static readonly TimeSpan ScanAtMost = TimeSpan.FromSeconds(5);

    /// <summary>
    /// At most ten recomputations a second: under a burst of signals each commit pokes, and what HA shows needs no
    /// more than that, while every recomputation reads the house (one round trip; only documents written since).
    /// </summary>
    private static readonly TimeSpan Between = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// From the commit that woke it to the read: the commit's commands and states leave first. Read at once, the whole
    /// house was read on the two cores the commands needed, on every login's way to its seat (issue 11, the warm path);
    /// HA showing a change 50 ms later is not seen by anyone.
    /// </summary>
    private static readonly TimeSpan Settle = TimeSpan.FromMilliseconds(50);

    private readonly MqttConnection connection = ServerSession.Connection("ha", mqtt.Value, secret, logger, persistent: false);

    /// <summary>What the broker took last, per topic; only the loop touches it. Cleared to send everything again.</summary>
    private readonly Dictionary<string, string> published = new(StringComparer.Ordinal);

    /// <summary>Presence's device configs as the broker holds them (true: a config, false: removed), from the subscription.</summary>
    private readonly ConcurrentDictionary<string, bool> onBroker = new(StringComparer.Ordinal);

    /// <summary>
    /// Each config's topic and text: they follow from the house file alone, so they are written once, not on every
    /// recomputation (writing them was half of the publisher's CPU under a burst of signals). Only the text is kept,
    /// not the JSON tree it was written from: in a 500-seat office that tree held every seat list of every person, a
    /// million nodes (~100 MB) the garbage collector walked at each full collection for the life of the process.
    /// </summary>
    private IReadOnlyList<KeyValuePair<string, string>>? configTexts;

    /// <summary>The devices of <see cref="configTexts"/>: a device on the broker but not here left the house.</summary>
    private IReadOnlySet<string>? devices;
    private readonly HouseViews.Kept kept = new();

    /// <summary>The states as last computed; only the loop touches it, refilled at each look.</summary>
    private readonly Dictionary<string, string> states = new(StringComparer.Ordinal);
    private volatile bool sendAll = true;
    private volatile bool scan;
    private volatile bool reassert;
    private long connectedAt;
    private long lastConfigAt;
    private int birthPending;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!await lifetime.WaitForStartAsync(stoppingToken))
        {
            return;
        }

        var configs = Discovery.For(policy, t);
        configTexts = configs.Select(c => KeyValuePair.Create(c.Topic, c.Payload.ToJsonString())).ToList();
        devices = configs.Select(c => c.DeviceId).ToHashSet(StringComparer.Ordinal);
        connection.Subscribe([t.Birth, t.DeviceConfigs, t.Contract.ServerStatus, .. commands.Subscriptions]);
        connection.OnMessage((topic, payload) => ReceiveAsync(topic, payload, stoppingToken));
        connection.OnConnected(() =>
        {
            // A new connection (the first, or after the broker was away): whatever the broker kept may be gone, and
            // what it has kept from before is read again to find configs of people and computers that left the house.
            Interlocked.Exchange(ref connectedAt, Stopwatch.GetTimestamp());
            scan = true;
            sendAll = true;
            changes.Poke();
            return Task.CompletedTask;
        });
        await Task.WhenAll(connection.RunAsync(stoppingToken), LoopAsync(stoppingToken));
    }

    private async Task<bool> ReceiveAsync(string topic, byte[] payload, CancellationToken ct)
    {
        if (commands.IsCommand(topic))
        {
            return await commands.HandleAsync(topic, payload, ct);
        }

        if (topic == t.Contract.ServerStatus)
        {
            // Another server node's last will (or its clean stop) says offline while this one runs: every HA entity
            // would go unavailable. Said again by the loop, not from inside this handler.
            if (SaysOffline(payload) && outbound.IsConnected)
            {
                reassert = true;
                changes.Poke();
            }

            return true;
        }

        if (topic == t.Birth)
        {
            // HA publishes "online" once its MQTT integration is up again (client.py, after a 5 s discovery cooldown).
            if (Encoding.UTF8.GetString(payload) == "online" && Interlocked.Exchange(ref birthPending, 1) == 0)
            {
                _ = RepublishLaterAsync(ct);
            }

            return true;
        }

        if (t.DeviceIdOf(topic) is { } id && t.IsOurs(id))
        {
            onBroker[id] = payload.Length > 0;
            Interlocked.Exchange(ref lastConfigAt, Stopwatch.GetTimestamp());
        }

        return true;
    }

    /// <summary>
    /// HA's docs advise a random delay before answering its birth, so that every integration does not publish at
    /// the same instant; several births in that time are answered once.
    /// </summary>
    private async Task RepublishLaterAsync(CancellationToken ct)
    {
        var delay = TimeSpan.FromMilliseconds(Random.Shared.Next(500, 2500));
        logger.LogInformation("Home Assistant came online: re-publishing its discovery configs and states in {Delay:0.0} s", delay.TotalSeconds);
        try
        {
            await Task.Delay(delay, ct);
        }
        catch (OperationCanceledException)
        {
            return;
        }

        Interlocked.Exchange(ref birthPending, 0);
        sendAll = true;
        changes.Poke();
    }

    private async Task LoopAsync(CancellationToken ct)
    {
        var retry = false;
        var failing = false;
        while (!ct.IsCancellationRequested)
        {
            try
            {
                // Commits poke; the timeout only retries what the broker did not take.
                var poked = await changes.WaitAsync(retry ? TimeSpan.FromSeconds(2) : TimeSpan.FromSeconds(30), ct);
                if (!connection.IsConnected)
                {
                    continue;
                }

                if (poked)
                {
                    await Task.Delay(Settle, ct);
                }

                if (scan)
                {
                    await WaitForRetainedConfigsAsync(ct);
                }

                retry = !await PublishAsync(ct);
                failing = false;
                await Task.Delay(Between, ct);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                // The store away (an outage drill) fails every attempt: once in the log per outage is enough.
                logger.Log(failing ? LogLevel.Debug : LogLevel.Warning, e, "Home Assistant: reading the house to publish its states failed; trying again");
                failing = true;
                retry = true;
            }
        }
    }

    /// <summary>
    /// Retained messages come right after subscribing, but MQTT says nothing of when the last one has come: wait
    /// until none has for <see cref="Quiet"/>, as Zigbee2MQTT does with a fixed wait.
    /// </summary>
    private async Task WaitForRetainedConfigsAsync(CancellationToken ct)
    {
        var since = Interlocked.Read(ref connectedAt);
        while (Stopwatch.GetElapsedTime(since) < ScanAtMost
               && (Stopwatch.GetElapsedTime(since) < Quiet || Stopwatch.GetElapsedTime(Math.Max(since, Interlocked.Read(ref lastConfigAt))) < Quiet))
        {
            await Task.Delay(TimeSpan.FromMilliseconds(100), ct);
        }
    }

    /// <summary>Publishes what changed (or everything); true when the broker took all of it.</summary>
    private async Task<bool> PublishAsync(CancellationToken ct)
    {
        var all = sendAll;
        sendAll = false;
        if (all)
        {
            published.Clear();
        }

        var ok = true;
        if (reassert)
        {
            reassert = false;
            if (await TryPublishAsync(t.Contract.ServerStatus, ServerStatus.Payload(online: true), retain: true, ct))
            {
                logger.LogInformation("Presence: {Topic} said offline while this server runs (another node stopped); said online again", t.Contract.ServerStatus);
            }
            else
            {
                reassert = true;
                ok = false;
            }
        }

        if (scan)
        {
            scan = false;
            foreach (var stale in onBroker.Where(c => c.Value && !devices!.Contains(c.Key)).Select(c => c.Key).ToList())
            {
                if (await TryPublishAsync(t.DeviceConfig(stale), [], retain: true, ct))
                {
                    onBroker[stale] = false;
                    logger.LogInformation("Home Assistant: removed device {Device}: it is no longer in the house file", stale);
                }
                else
                {
                    ok = false;
                    scan = true;
                }
            }
        }

        var events = await ReadAsync(ct);
        var desired = configTexts!.Concat(states);
        var sent = 0;
        foreach (var (topic, payload) in desired)
        {
            if (published.TryGetValue(topic, out var before) && before == payload)
            {
                continue;
            }

            if (await TryPublishAsync(topic, Encoding.UTF8.GetBytes(payload), retain: true, ct))
            {
                published[topic] = payload;
                sent++;
            }
            else
            {
                ok = false;
            }
        }

        foreach (var (topic, payload) in events)
        {
            // An event is news once; a failed one is not sent again later, out of order.
            await TryPublishAsync(topic, payload, retain: false, ct);
        }

        if (all && ok)
        {
            logger.LogInformation("Home Assistant: announced {Devices} devices under {Prefix}/device and published {Sent} retained messages",
                devices!.Count, t.Prefix, sent);
        }

        if (!ok)
        {
            sendAll |= all;
        }

        return ok;
    }

    /// <summary>The states from the projections (into <see cref="states"/>), and the decision events since the last look (none the first time).</summary>
    private async Task<List<(string Topic, byte[] Payload)>> ReadAsync(CancellationToken ct)
    {
        await using var session = store.QuerySession();
        var (sagas, heads, hosts, gained) = await kept.ReadAsync(session, policy, ct);
        var house = HouseViews.Build(policy, sagas, heads, hosts);
        var reported = hosts.Values.Where(h => h.MemoryMb > 0).Select(h => h.Name).ToHashSet();
        HaStates.Fill(states, policy, house, reported, t);

        // The lines written since the last look: none the first time, whose read only learns where each timeline is.
        var events = new List<(string, byte[])>();
        foreach (var line in gained)
        {
            if (HaEvents.Payload(line.Entry, line.Id) is { } payload)
            {
                events.Add((t.Person(line.UserName, Discovery.PersonKeys.Events), payload));
            }
        }

        return events;
    }

    private async Task<bool> TryPublishAsync(string topic, byte[] payload, bool retain, CancellationToken ct)
    {
        try
        {
            if (await connection.PublishAsync(topic, payload, retain, ct) is { Taken: false, Why: var why })
            {
                logger.LogDebug("Home Assistant: {Topic} not published: {Why}", topic, why);
                return false;
            }

            return true;
        }
        catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            logger.LogDebug("Home Assistant: publishing {Topic} failed: {Reason}", topic, e.Message);
            return false;
        }
    }

    private static bool SaysOffline(byte[] payload)
    {
        try
        {
            using var status = System.Text.Json.JsonDocument.Parse(payload);
            return status.RootElement.ValueKind == System.Text.Json.JsonValueKind.Object
                && status.RootElement.TryGetProperty("state", out var state) && state.ValueKind == System.Text.Json.JsonValueKind.String
                && state.GetString() == "offline";
        }
        catch (System.Text.Json.JsonException)
        {
            return false;
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        await connection.DisposeAsync();
    }
}
