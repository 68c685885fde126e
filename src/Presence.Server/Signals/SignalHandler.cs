using Marten;
using NodaTime;
using Presence.Contracts.Signals;
using Presence.Domain.House;
using Presence.Domain.Hosts;
using Presence.Domain.Seating;
using Presence.Domain.Signals;
using Presence.Domain.Users;
using Presence.Server.Hosting;
using Presence.Server.Mqtt;
using Presence.Server.Users;
using Wolverine;

namespace Presence.Server.Signals;

/// <summary>
/// A computer's signal becomes evidence: in the stream of the user it names, or, for lid, Wi-Fi and power (about the
/// computer itself), in the host's stream and in the stream of every user it concerns (leaving with the laptop). A
/// person sitting down at a console is also evidence for whoever's desktop that screen shows: it goes into their
/// stream too, so each saga decides on what its own stream holds and replay stays deterministic.
/// Idempotent for redeliveries: a delivery whose `id` this topic already brought changes nothing (<see cref="SeenMessage"/>);
/// one without an id is new evidence each time.
/// </summary>
public static class SignalHandler
{
    public static async Task<OutgoingMessages> Handle(
        SignalArrived arrived, IDocumentSession session, HousePolicy policy, IClock clock, ServerNode node, CancellationToken ct)
    {
        Admit(arrived.Signal, policy);
        await ReadAheadAsync(session, policy, [arrived], ct);
        return await RecordAsync(arrived, session, policy, clock, node, ct);
    }

    /// <summary>
    /// A lane's signals from one burst, in order, in one transaction (<see cref="SignalsArrived"/>), all read first in
    /// one round trip. A signal the house refuses is reported and skipped, as it would be alone; anything else fails
    /// the batch, whose retry starts again from what is stored.
    /// </summary>
    public static async Task<OutgoingMessages> Handle(
        SignalsArrived batch, IDocumentSession session, HousePolicy policy, IClock clock, ServerNode node, Rejections rejections, CancellationToken ct)
    {
        await ReadAheadAsync(session, policy, batch.Signals, ct);
        var outgoing = new OutgoingMessages();
        foreach (var signal in batch.Signals)
        {
            try
            {
                Admit(signal.Signal, policy);
                outgoing.AddRange(await RecordAsync(signal, session, policy, clock, node, ct));
            }
            catch (MessageRejected e)
            {
                // Refused before it touched the session.
                await rejections.RejectAsync(signal.Topic, e.Message, signal.Id, ct);
            }
        }

        return outgoing;
    }

    /// <exception cref="MessageRejected">
    /// The house does not know the host or the user, or the user may not use the host.
    /// </exception>
    private static void Admit(Signal signal, HousePolicy policy)
    {
        policy.RequireHost(signal.Host);
        if (signal.User is { } user)
        {
            policy.RequireUser(user);
            if (!policy.MayUse(user, signal.Host))
            {
                throw new MessageRejected($"user '{user}' may not use host '{signal.Host}' (not in House:Users AllowedHosts)");
            }
        }
    }

    /// <summary>
    /// What the signals' decisions read, in one round trip (<see cref="DecisionReads"/>).
    /// </summary>
    private static Task ReadAheadAsync(IDocumentSession session, HousePolicy policy, IReadOnlyList<SignalArrived> signals, CancellationToken ct) =>
        new DecisionReads(
            signals.Select(s => (s.Topic, s.Id)),
            signals.Select(s => s.Signal.User).OfType<string>(),
            signals.Select(s => HostNews.SeatSharedBy(s.Evidence)).OfType<string>())
        .ReadAsync(session, policy, ct);

    private static async Task<OutgoingMessages> RecordAsync(
        SignalArrived arrived, IDocumentSession session, HousePolicy policy, IClock clock, ServerNode node, CancellationToken ct) =>
        await SeenMessage.IsDuplicateAsync(session, arrived.Topic, arrived.Signal.Id, arrived.At, ct)
            ? []
            : await ObserveAsync(session, policy, clock, node, arrived.Evidence, arrived.At, ct);

    /// <summary>
    /// Evidence into the streams it concerns: the person's it names (sitting down at a console first for whoever
    /// loses that screen), or, about the computer itself, the host's and every user's it concerns. Home Assistant's
    /// relayed evidence takes the same path (HomeAssistant/Statestream).
    /// </summary>
    public static async Task<OutgoingMessages> ObserveAsync(
        IDocumentSession session, HousePolicy policy, IClock clock, ServerNode node, Evidence evidence, Instant at, CancellationToken ct)
    {
        InputFor observe = (about, house, seed) => new ObserveEvidence { User = about, House = house, Seed = seed, Evidence = evidence };
        if (evidence.User is { } named)
        {
            // Sitting down at a console may take a screen from someone else: their sagas decide first, so their
            // desktop's detach_display leaves before this person's attach_display (HostNews.SeatNews).
            return SeatInference.SitsDown(evidence)
                ? await UserSagaRunner.ForSeatAsync(session, policy, clock, node, evidence, observe, ct)
                : await UserSagaRunner.ForUserAsync(session, policy, clock, node, named, observe, ct);
        }

        session.Events.Append(HostState.StreamId(evidence.Host), new HostSignalRecorded(evidence.Host, evidence, at));
        return await UserSagaRunner.ForHostAsync(session, policy, clock, node, evidence.Host, observe, ct);
    }
}
