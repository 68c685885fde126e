using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using NodaTime;
using Presence.Domain.House;
using Presence.Domain.Users;

namespace Presence.Server.Telemetry;

/// <summary>
/// Presence's own stages, beside what Wolverine ("Wolverine" spans, "Wolverine:*" meters) and Marten ("Marten")
/// record: a message in from the broker, the decision, a message out to the broker. One trace per inbound message
/// holds them all with Wolverine's handler span and Marten's connection span (the commit) in between, so a slow
/// move shows which stage took the time. Without a listener (Telemetry:OtlpEndpoint unset) StartActivity returns
/// null and the instruments record nothing: the cost is a null check.
/// </summary>
public static class PresenceTelemetry
{
    public const string Name = "Presence";

    public static readonly ActivitySource Source = new(Name);

    private static readonly Meter Meter = new(Name);

    /// <summary>Inbound messages taken from the broker, by kind (signal, request, agent_event, …) and outcome.</summary>
    public static readonly Counter<long> Received = Meter.CreateCounter<long>("presence.mqtt.received", description: "inbound MQTT messages, by kind and outcome");

    /// <summary>QoS 1 messages the embedded broker dropped from a client's full queue (Mqtt:MaxQueuedMessages): lost for that client.</summary>
    public static readonly Counter<long> BrokerDropped = Meter.CreateCounter<long>("presence.mqtt.broker.dropped", description: "messages the embedded broker dropped from a full client queue");

    /// <summary>How long one call of the decider took, per user.</summary>
    public static readonly Histogram<double> DecideTime = Meter.CreateHistogram<double>("presence.decide.duration", "ms", "time in the decider for one user's input");

    /// <summary>From an inbound message off the wire to it being stored (or refused): broker in, decide and commit.</summary>
    public static readonly Histogram<double> HandleTime = Meter.CreateHistogram<double>("presence.mqtt.handle.duration", "ms", "an inbound message from receipt to stored or refused");

    /// <summary>Messages published to the broker, by kind (command type, state, error).</summary>
    public static readonly Counter<long> Published = Meter.CreateCounter<long>("presence.mqtt.published", description: "outbound MQTT messages, by kind");

    /// <summary>From a command leaving for an agent to that agent's first answer to it, by command type.</summary>
    public static readonly Histogram<double> AgentAnswerTime = Meter.CreateHistogram<double>("presence.agent.answer.duration", "ms", "a command published to an agent until its first answer");

    /// <summary>The decider, inside a `presence.decide` span (user, input, what it decided) and timed; with the saga its events leave.</summary>
    public static (IReadOnlyList<object> Events, UserSaga? After) Decide(UserSaga? saga, UserInput input, Instant now, HousePolicy policy)
    {
        using var activity = Source.StartActivity("presence.decide");
        var started = Stopwatch.GetTimestamp();
        var (events, after) = UserDecider.DecideAndFold(saga, input, now, policy);
        var elapsed = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        DecideTime.Record(elapsed, new KeyValuePair<string, object?>("presence.input", input.GetType().Name));
        if (activity is not null)
        {
            activity.SetTag("presence.user", input.User);
            activity.SetTag("presence.input", input.GetType().Name);
            activity.SetTag("presence.decided", string.Join(",", events.Select(e => e.GetType().Name)));
        }

        return (events, after);
    }

    private static readonly ConcurrentDictionary<string, (long At, string Type)> Pending = new();

    /// <summary>A command left for an agent: its first answer is timed (on this node; another node's answer goes untimed).</summary>
    public static void CommandSent(string commandId, string type)
    {
        Published.Add(1, new KeyValuePair<string, object?>("presence.kind", type));
        if (Pending.Count > 10_000)
        {
            // Commands no agent ever answered (it was away, the answer went to another node): forget the oldest.
            var old = Stopwatch.GetTimestamp() - Stopwatch.Frequency * 600;
            foreach (var stale in Pending.Where(p => p.Value.At < old).Select(p => p.Key).ToList())
            {
                Pending.TryRemove(stale, out _);
            }
        }

        Pending[commandId] = (Stopwatch.GetTimestamp(), type);
    }

    /// <summary>An agent answered a command: the first answer to one sent from here is recorded.</summary>
    public static void AnswerReceived(string? commandId)
    {
        if (commandId is not null && Pending.TryRemove(commandId, out var sent))
        {
            AgentAnswerTime.Record(Stopwatch.GetElapsedTime(sent.At).TotalMilliseconds, new KeyValuePair<string, object?>("presence.command", sent.Type));
            Activity.Current?.AddEvent(new ActivityEvent("presence.agent.answered", tags: new ActivityTagsCollection { ["presence.command_id"] = commandId }));
        }
    }
}
