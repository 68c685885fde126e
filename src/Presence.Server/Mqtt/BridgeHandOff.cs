using System.Runtime.CompilerServices;
using Microsoft.Extensions.Options;
using MQTTnet;
using MQTTnet.Server;
using Presence.Contracts.Wire;
using Presence.Server.Configuration;
using Presence.Server.HomeAssistant.Statestream;

namespace Presence.Server.Mqtt;

/// <summary>
/// With the embedded broker, what a client publishes on a topic the bridge takes is handed to the bridge in this
/// process, from the broker's publish interceptor, rather than through MQTTnet's dispatch and the bridge's own client.
/// MQTTnet's dispatch checks every session that has a subscription for every message, and each agent subscribes to
/// its command topic: a 500-seat office's server spent a quarter to a third of its CPU there (docs/benchmarks.md).
/// </summary>
/// <remarks>
/// The publisher's PUBACK goes once the bridge has the input in line (<see cref="MqttBridge.TakeAsync"/>), as it went
/// once the broker had queued it for the bridge's session: both are this process's memory, so what a publisher is
/// told means what it meant. Holding the PUBACK until the input's commit was measured too: MQTTnet reads a client's
/// packets one at a time, so each computer then had one signal in flight and a burst from 50 computers was stored at
/// less than half the rate. The broker still dispatches what it must keep (a retained message) and what another
/// client subscribed to, but never to the bridge's own session, so that each input reaches the bridge once. Only with
/// one server node: nodes sharing the work take their inputs through the broker's shared subscriptions.
/// </remarks>
public sealed class BridgeHandOff
{
    /// <summary>Takes an input: completes once it is in line, with whether it may be acknowledged.</summary>
    public delegate ValueTask<Task<bool>> Take(string topic, byte[] payload);

    private readonly string[] filters;
    private readonly Dictionary<string, HashSet<string>> others = [];
    private readonly ConditionalWeakTable<MqttApplicationMessage, object> handed = [];
    private volatile string[] othersFilters = [];
    private volatile Take? take;

    public BridgeHandOff(IReadOnlyList<string> filters, string bridgeClientId, bool enabled)
    {
        this.filters = [.. filters];
        BridgeClientId = bridgeClientId;
        Enabled = enabled;
    }

    /// <summary>
    /// This server's: the bridge's subscriptions and client id; on only with the embedded broker and one node.
    /// </summary>
    public static BridgeHandOff Of(IServiceProvider services)
    {
        var mqtt = services.GetRequiredService<IOptions<MqttOptions>>().Value;
        return new BridgeHandOff([.. mqtt.BridgeSubscriptions(new Topics(mqtt.TopicRoot)), .. services.GetRequiredService<StatestreamInbound>().Subscriptions],
            ServerSession.ClientId(mqtt, "in"), mqtt.Broker == BrokerKind.Embedded && string.IsNullOrEmpty(mqtt.SharedGroup));
    }

    /// <summary>The topic filters the bridge takes: what it subscribes to, and what is handed to it.</summary>
    public IReadOnlyList<string> Filters => filters;

    /// <summary>The client id of the bridge's own MQTT session.</summary>
    public string BridgeClientId { get; }

    /// <summary>Whether inputs are handed over at all: the embedded broker, one server node.</summary>
    public bool Enabled { get; }

    /// <summary>From now on the broker hands the bridge's inputs to <paramref name="taker"/>.</summary>
    public void Open(Take taker)
    {
        if (Enabled)
        {
            take = taker;
        }
    }

    /// <summary>The bridge is stopping: what is published from now on goes through the broker again.</summary>
    public void Close() => take = null;

    /// <summary>
    /// Who takes a message published on <paramref name="topic"/> in process; null for the broker's dispatch.
    /// </summary>
    public Take? For(string topic)
    {
        if (take is not { } taker)
        {
            return null;
        }

        foreach (var filter in filters)
        {
            if (MqttTopicFilterComparer.Compare(topic, filter) == MqttTopicFilterCompareResult.IsMatch)
            {
                return taker;
            }
        }

        return null;
    }

    /// <summary>
    /// Whether a client other than the bridge subscribed to a filter <paramref name="topic"/> matches.
    /// </summary>
    public bool OthersMayWant(string topic)
    {
        foreach (var filter in othersFilters)
        {
            if (MqttTopicFilterComparer.Compare(topic, filter) == MqttTopicFilterCompareResult.IsMatch)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// The broker goes on to dispatch <paramref name="message"/>, already handed over: not to the bridge's session.
    /// </summary>
    public void Dispatching(MqttApplicationMessage message) => handed.AddOrUpdate(message, handed);

    /// <summary>
    /// Follows <paramref name="server"/>'s subscriptions (whom else an input concerns), and keeps what it dispatches
    /// after handing over out of the bridge's own session.
    /// </summary>
    public void Watch(MqttServer server)
    {
        server.ClientSubscribedTopicAsync += e =>
        {
            Subscribed(e.ClientId, e.TopicFilter.Topic);
            return Task.CompletedTask;
        };
        server.ClientUnsubscribedTopicAsync += e =>
        {
            Unsubscribed(e.ClientId, e.TopicFilter);
            return Task.CompletedTask;
        };
        server.SessionDeletedAsync += e =>
        {
            SessionGone(e.Id);
            return Task.CompletedTask;
        };
        server.InterceptingClientEnqueueAsync += e =>
        {
            if (e.ReceiverClientId == BridgeClientId && handed.TryGetValue(e.ApplicationMessage, out _))
            {
                e.AcceptEnqueue = false;
            }

            return Task.CompletedTask;
        };
    }

    /// <summary>
    /// A client's subscription: kept when it may match what the bridge takes (the agents' own command topics never
    /// do), so that those messages are dispatched to it too.
    /// </summary>
    public void Subscribed(string clientId, string filter)
    {
        if (clientId == BridgeClientId || !filters.Any(f => Overlap(Unshared(filter), f)))
        {
            return;
        }

        lock (others)
        {
            if (!others.TryGetValue(clientId, out var kept))
            {
                others[clientId] = kept = [];
            }

            kept.Add(Unshared(filter));
            Remember();
        }
    }

    public void Unsubscribed(string clientId, string filter)
    {
        lock (others)
        {
            if (others.TryGetValue(clientId, out var kept) && kept.Remove(Unshared(filter)))
            {
                Remember();
            }
        }
    }

    /// <summary>The broker forgot the client's session, and its subscriptions with it.</summary>
    public void SessionGone(string clientId)
    {
        lock (others)
        {
            if (others.Remove(clientId))
            {
                Remember();
            }
        }
    }

    /// <summary>Under the lock: the filters every publish reads, made anew from what each client keeps.</summary>
    private void Remember() => othersFilters = [.. others.Values.SelectMany(f => f).Distinct()];

    /// <summary>A shared subscription ($share/group/filter) receives what its filter matches.</summary>
    private static string Unshared(string filter)
    {
        if (!filter.StartsWith("$share/", StringComparison.Ordinal))
        {
            return filter;
        }

        var slash = filter.IndexOf('/', "$share/".Length);
        return slash < 0 ? filter : filter[(slash + 1)..];
    }

    /// <summary>
    /// Whether some topic matches both filters (MQTT 5 §4.7: '+' one level, '#' this level and all below).
    /// </summary>
    public static bool Overlap(string a, string b)
    {
        var x = a.Split('/');
        var y = b.Split('/');
        for (var i = 0; ; i++)
        {
            if (i == x.Length || i == y.Length)
            {
                // "a/#" matches "a" itself too.
                return x.Length == y.Length || (i == x.Length ? y[i] : x[i]) == "#";
            }

            if (x[i] == "#" || y[i] == "#")
            {
                return true;
            }

            if (x[i] != "+" && y[i] != "+" && x[i] != y[i])
            {
                return false;
            }
        }
    }
}

/// <summary>
/// The bridge holds Mqtt:MaxQueuedMessages handed-over inputs it has not stored yet (the database away, or far behind):
/// the publisher is answered QuotaExceeded and keeps the input, rather than have one it was told was taken dropped.
/// </summary>
public sealed class BridgeFullException(int limit)
    : Exception($"the server holds Mqtt:MaxQueuedMessages={limit} inputs it has not stored yet; publish it again later");
