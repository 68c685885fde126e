using Marten;
using NodaTime;
using Presence.Domain.House;
using Presence.Server.Hosting;
using Presence.Server.Mqtt;
using Presence.Server.Signals;
using Presence.Server.Users;
using Wolverine;

namespace Presence.Server.HomeAssistant.Statestream;

/// <summary>
/// A Home Assistant entity's new state becomes evidence in the same streams a computer's own signal would reach
/// (<see cref="SignalHandler.ObserveAsync"/>): a person's in theirs, a laptop's power or Wi-Fi in the host's and its
/// users'. Only a change of state is news (<see cref="StatestreamState"/>).
/// </summary>
public static class StatestreamHandler
{
    public static async Task<OutgoingMessages> Handle(
        StatestreamArrived arrived, IDocumentSession session, HousePolicy policy, IClock clock, ServerNode node, StatestreamMap map, CancellationToken ct)
    {
        var entity = map.Entity(arrived.Topic) ?? throw new MessageRejected($"{arrived.Entity} is not mapped in HomeAssistant:Statestream:Entities");
        if (await session.LoadAsync<StatestreamState>(entity.Entity, ct) is { } last && last.State == arrived.State)
        {
            return [];
        }

        session.Store(new StatestreamState(entity.Entity, arrived.State, arrived.At));
        if (StatestreamEvidence.Read(entity, arrived.State, policy, map.Rooms) is not StatestreamReading.Observed observed)
        {
            return [];
        }

        var evidence = StatestreamEvidence.ToEvidence(observed, entity, "ha-" + Guid.NewGuid().ToString("N")[..12], arrived.At);
        return await SignalHandler.ObserveAsync(session, policy, clock, node, evidence, arrived.At, ct);
    }
}
