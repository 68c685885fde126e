using System.Text.Json.Serialization;
using NodaTime;
using Presence.Contracts.Agents;
using Presence.Contracts.Requests;
using Presence.Contracts.Signals;
using Presence.Contracts.Wire;
using Presence.Domain.Seating;
using Presence.Domain.Signals;
using Presence.Server.Signals;

namespace Presence.Server.Mqtt;

/// <summary>
/// An inbound MQTT message on its way to its handler: where it came from (for presence/errors), its contract id,
/// and the lane it is handled in (<see cref="Lanes"/>).
/// </summary>
public interface IArrived
{
    string Topic { get; }

    string? Id { get; }

    string Lane { get; }

    /// <summary>
    /// Its row in <see cref="StoredInputs"/> when the bridge stored it for Wolverine; null when handled at once.
    /// </summary>
    Guid? StoredAs { get; }

    /// <summary>The same input, to be stored for Wolverine as <paramref name="id"/>.</summary>
    IArrived Storing(Guid id);
}

/// <summary>
/// The Wolverine group ids of inbound messages. Messages of one lane are handled one at a time in the order the
/// broker delivered them; different lanes run in parallel (Wolverine's partitioned local queues, Configuration).
/// </summary>
/// <remarks>
/// Why these keys. What a user's saga decides depends on the order of that user's inputs, so a user's signals and
/// requests are always in the same lane: those are most of the traffic (idle, session), and users run in parallel.
/// Users share <see cref="UserLanes"/> lanes, a user's by a hash of the name, so the signals of several users from one
/// burst can be decided in one transaction (<see cref="SignalsArrived"/>): the fewer lanes, the longer each lane's runs
/// in a stored burst and the fewer, larger transactions. Everything else (what agents say: status, inventory, answers
/// to commands; signals about a computer alone: lid, Wi-Fi, power; maintenance) is in one house lane, in the order the
/// broker delivered it: a decision reads the whole house, and an agent's answer, its inventory and another agent's
/// status must not overtake each other (a drill caught a VM's new home, reported by one agent, missed by the decision
/// taken on the other agent coming back, when each host had a lane of its own). A house-lane message that reaches a user's saga
/// runs beside that user's own lane; there FetchForWriting's optimistic concurrency and StoreRetries settle it (the
/// loser decides again on the stream as it now is), as they already did for timeouts and for other server nodes.
/// Inputs from different publishers were never ordered by MQTT itself.
/// </remarks>
public static class Lanes
{
    /// <summary>
    /// The lanes users share. Fewer than the input queues have slots on purpose: a lane per slot (twenty) split a burst
    /// into twenty short runs, each its own transaction, with twenty transactions at once on two cores; with eight,
    /// 8,000 idle signals from a 50-computer house were stored at 2,056–2,193/s against 1,386–1,791 (four:
    /// 2,132–2,343, twelve: 1,437), and a 300-seat office's at 1,311–1,335/s against 1,144 (four: 1,194), in the same
    /// half hour (docs/benchmarks.md). A user waits behind at most the others of their lane, one transaction each.
    /// </summary>
    public const int UserLanes = 8;

    public static string User(string user) => "users:" + (Fnv(user) % UserLanes).ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The one lane of what agents say and what is about a computer alone.</summary>
    public const string House = "house";

    /// <summary>FNV-1a: the same lane for a user in every process (string.GetHashCode differs from one run to the next).</summary>
    private static uint Fnv(string text)
    {
        var hash = 2166136261u;
        foreach (var c in text)
        {
            hash = (hash ^ c) * 16777619u;
        }

        return hash;
    }
}

/// <summary>
/// An inbound message as the broker delivered it (topic and payload) and as the bridge read it. Only the raw form is
/// stored in Wolverine's inbox: the contract types keep their topic-derived fields (host, user) out of their JSON, so
/// a message recovered from the inbox after a crash is read again from its own bytes, with the `at` that counted on
/// arrival (no skew check the second time: it passed once).
/// </summary>
public abstract record Arrived(string Root, string Topic, byte[] Payload, Instant At) : IArrived
{
    private object? message;

    /// <summary>What the bridge read; left out of the stored JSON and read again from <see cref="Payload"/> when absent.</summary>
    [JsonIgnore]
    public object Message
    {
        get => message ??= InboundParser.Parse(new Topics(Root), Topic, Payload, At, Duration.Zero).Message;
        init => message = value;
    }

    [JsonIgnore] public abstract string? Id { get; }

    [JsonIgnore] public abstract string Lane { get; }

    public Guid? StoredAs { get; init; }

    public IArrived Storing(Guid id) => this with { StoredAs = id };

    /// <summary>What the bridge hands to Wolverine for a message it read: one message type per kind of inbound topic.</summary>
    public static Arrived From(Inbound inbound, string root, byte[] payload) => inbound.Message switch
    {
        Signal => new SignalArrived(root, inbound.Topic, payload, inbound.At) { Message = inbound.Message },
        UserRequest => new UserRequestArrived(root, inbound.Topic, payload, inbound.At) { Message = inbound.Message },
        MaintenanceRequest => new MaintenanceArrived(root, inbound.Topic, payload, inbound.At) { Message = inbound.Message },
        AgentStatus => new AgentStatusArrived(root, inbound.Topic, payload, inbound.At) { Message = inbound.Message },
        AgentInventory => new AgentInventoryArrived(root, inbound.Topic, payload, inbound.At) { Message = inbound.Message },
        AgentEvent => new AgentEventArrived(root, inbound.Topic, payload, inbound.At) { Message = inbound.Message },
        var other => throw new InvalidOperationException($"no handler for {other.GetType().Name}"),
    };
}

public sealed record SignalArrived(string Root, string Topic, byte[] Payload, Instant At) : Arrived(Root, Topic, Payload, At)
{
    private Evidence? evidence;

    [JsonIgnore] public Signal Signal => (Signal)Message;

    /// <summary>
    /// The signal in the stream's words, made once: the bridge's gathering, the read-ahead and the record each made it
    /// anew (three dictionaries of details a signal), and a signal sent without an id got a different one each time.
    /// </summary>
    [JsonIgnore] public Evidence Evidence => evidence ??= SignalEvidence.ToEvidence(Signal, At);

    [JsonIgnore] public override string? Id => Signal.Id;

    [JsonIgnore] public override string Lane => Signal.User is { } user ? Lanes.User(user) : Lanes.House;
}

/// <summary>
/// Signals of one lane's users that arrived in one burst (the bridge stores a burst in one transaction), handled in the
/// order they came in one transaction: each user's saga read once (all of them in one round trip), each signal decided
/// on the saga the ones before it left, and one commit stores them all. A busy house sends each user's idle, Wi-Fi and
/// battery reports in bursts; one at a time each cost its own envelope, saga read and commit (issue 11 §6). Never a
/// console login: sitting down decides for whoever loses the screen too (HostNews.SeatNews), from their stored sagas,
/// so it keeps a transaction of its own.
/// </summary>
/// <remarks>
/// One transaction for several users means one failure for all of them: a signal the house refuses is reported and
/// skipped, a conflict or an outage retries the whole batch, and a fault in the decider (a bug) sends the whole batch
/// to Wolverine's dead letters, whence it can be replayed once mended.
/// </remarks>
public sealed record SignalsArrived(string Lane, IReadOnlyList<SignalArrived> Signals) : IArrived
{
    /// <summary>Where a refusal of the whole batch would be reported: each signal's own refusal names its own topic.</summary>
    [JsonIgnore] public string Topic => Signals[0].Topic;

    [JsonIgnore] public string? Id => null;

    public Guid? StoredAs { get; init; }

    public IArrived Storing(Guid id) => this with { StoredAs = id };

    /// <summary>
    /// What the bridge hands to Wolverine for a burst, in its order: each run of two or more signals that do not sit
    /// down, in one lane with no other input of that lane between them, gathered into one batch in the place of the
    /// first; the rest as they came. Each lane's inputs keep their order, and lanes do not wait for each other, so
    /// nothing is reordered that was ordered.
    /// </summary>
    public static IReadOnlyList<(IArrived Message, int First)> Gather(IReadOnlyList<IArrived> burst)
    {
        var gathered = new List<(IArrived Message, int First)>(burst.Count);
        var open = new Dictionary<string, (int At, List<SignalArrived> Signals)>();

        void Close(string lane)
        {
            if (open.Remove(lane, out var run) && run.Signals.Count > 1)
            {
                gathered[run.At] = (new SignalsArrived(lane, run.Signals), gathered[run.At].First);
            }
        }

        for (var i = 0; i < burst.Count; i++)
        {
            var message = burst[i];
            if (message.Lane != Lanes.House && message is SignalArrived signal && !SitsDown(signal))
            {
                if (open.TryGetValue(message.Lane, out var run))
                {
                    run.Signals.Add(signal);
                    continue;
                }

                open[message.Lane] = (gathered.Count, [signal]);
            }
            else
            {
                Close(message.Lane);
            }

            gathered.Add((message, i));
        }

        foreach (var lane in open.Keys.ToList())
        {
            Close(lane);
        }

        return gathered;
    }

    private static bool SitsDown(SignalArrived s) => SeatInference.SitsDown(s.Evidence);
}

/// <param name="Topic">Where the request came from, and where a refusal is reported: the contract's request topic, or
/// the Home Assistant command topic it was made from.</param>
public sealed record UserRequestArrived(string Root, string Topic, byte[] Payload, Instant At) : Arrived(Root, Topic, Payload, At)
{
    [JsonIgnore] public UserRequest Request => (UserRequest)Message;

    /// <summary>The controller that asked, when the way it came tells (Home Assistant's command topics, the dashboard); recorded with the request.</summary>
    public string? By { get; init; }

    /// <summary>
    /// A request made elsewhere than on its MQTT topic (a Home Assistant command, a dashboard button), handed to its
    /// handler inline (IMessageBus.InvokeAsync), never through the inbox: <see cref="Arrived.Message"/> is the request
    /// itself, and the payload its contract JSON for the record.
    /// </summary>
    public static UserRequestArrived Asked(string root, string topic, UserRequest request, Instant at, string by) =>
        new(root, topic, ContractJson.Serialize(request), at) { Message = request, By = by };

    [JsonIgnore] public override string? Id => Request.Id;

    [JsonIgnore] public override string Lane => Lanes.User(Request.User);
}

public sealed record MaintenanceArrived(string Root, string Topic, byte[] Payload, Instant At) : Arrived(Root, Topic, Payload, At)
{
    [JsonIgnore] public MaintenanceRequest Request => (MaintenanceRequest)Message;

    /// <summary>As <see cref="UserRequestArrived.Asked"/>: a switch made in Home Assistant or on the dashboard.</summary>
    public static MaintenanceArrived Asked(string root, string topic, MaintenanceRequest request, Instant at) =>
        new(root, topic, ContractJson.Serialize(request), at) { Message = request };

    [JsonIgnore] public override string? Id => Request.Id;

    [JsonIgnore] public override string Lane => Lanes.House;
}

public sealed record AgentStatusArrived(string Root, string Topic, byte[] Payload, Instant At) : Arrived(Root, Topic, Payload, At)
{
    [JsonIgnore] public AgentStatus Status => (AgentStatus)Message;

    [JsonIgnore] public override string? Id => Status.Id;

    [JsonIgnore] public override string Lane => Lanes.House;
}

public sealed record AgentInventoryArrived(string Root, string Topic, byte[] Payload, Instant At) : Arrived(Root, Topic, Payload, At)
{
    [JsonIgnore] public AgentInventory Inventory => (AgentInventory)Message;

    [JsonIgnore] public override string? Id => Inventory.Id;

    [JsonIgnore] public override string Lane => Lanes.House;
}

public sealed record AgentEventArrived(string Root, string Topic, byte[] Payload, Instant At) : Arrived(Root, Topic, Payload, At)
{
    [JsonIgnore] public AgentEvent Event => (AgentEvent)Message;

    [JsonIgnore] public override string? Id => Event.Id;

    [JsonIgnore] public override string Lane => Lanes.House;
}
