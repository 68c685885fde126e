using Marten;
using NodaTime;
using Presence.Contracts.Agents;
using Presence.Domain.House;
using Presence.Domain.Hosts;
using Presence.Domain.Migration;
using Presence.Domain.Users;
using Presence.Server.Hosting;
using Presence.Server.Mqtt;
using Presence.Server.Users;
using Wolverine;

namespace Presence.Server.Agents;

/// <summary>
/// Agents' status and inventory become events in the host's stream; their answers go to the VM owner's saga.
/// Idempotent for redeliveries: a delivery whose `id` this topic already brought changes nothing (<see cref="SeenMessage"/>);
/// a repeated answer to a command is one the saga has already taken in, and it does nothing.
/// </summary>
public static class AgentMessageHandler
{
    public static async Task<OutgoingMessages> Handle(
        AgentStatusArrived arrived, IDocumentSession session, HousePolicy policy, IClock clock, ServerNode node, CancellationToken ct)
    {
        var status = arrived.Status;
        policy.RequireHost(status.Host);
        if (await SeenMessage.IsDuplicateAsync(session, arrived.Topic, status.Id, arrived.At, ct))
        {
            return [];
        }

        var reported = new AgentStatusReported(
            status.Host, status.State == AgentState.Online, status.AgentVersion,
            status.Hypervisor is { } h ? Presence.Contracts.Wire.ContractJson.WireName(h) : null, arrived.At);
        var before = await session.LoadAsync<HostState>(HostState.StreamId(status.Host), ct);
        session.Events.Append(HostState.StreamId(status.Host), reported);

        // An agent coming up may be what a frozen VM waits for; one going away matters to VMs on it. One saying it is
        // online while we believed it was (restarted faster than its last will, or reconnected) may have missed a
        // command: the users waiting on it get the pending command again, with the same id.
        var changed = HostState.Evolve(before, reported);
        if (before?.AgentOnline != reported.Online)
        {
            return await UserSagaRunner.HostChangedAsync(session, policy, clock, node, changed, ct);
        }

        return reported.Online ? await UserSagaRunner.HostChangedAsync(session, policy, clock, node, changed, ct, onlyWaitingOnIt: true) : [];
    }

    public static async Task<OutgoingMessages> Handle(
        AgentInventoryArrived arrived, IDocumentSession session, HousePolicy policy, IClock clock, ServerNode node, CancellationToken ct)
    {
        var inventory = arrived.Inventory;
        policy.RequireHost(inventory.Host);
        if (await SeenMessage.IsDuplicateAsync(session, arrived.Topic, inventory.Id, arrived.At, ct))
        {
            return [];
        }

        var vms = inventory.Vms
            .Select(v => new VmFact(v.Name, v.State.ToDomain(), v.MemoryMb, v.DisplayUri))
            .ToList();
        var reported = new InventoryReported(
            inventory.Host, inventory.Cpus, inventory.MemoryMb, inventory.MemoryFreeMb, inventory.LinkMbps,
            inventory.OnBattery, inventory.BatteryPercent, vms, arrived.At);
        var before = await session.LoadAsync<HostState>(HostState.StreamId(inventory.Host), ct);
        session.Events.Append(HostState.StreamId(inventory.Host), reported);

        // A VM that landed on a seat showing it from elsewhere: the seat switches to its own display (show first, then move).
        return await UserSagaRunner.InventoryChangedAsync(session, policy, clock, node, HostState.Evolve(before, reported), ct);
    }

    public static async Task<OutgoingMessages> Handle(
        AgentEventArrived arrived, IDocumentSession session, HousePolicy policy, HostAddresses addresses, IClock clock, ServerNode node, CancellationToken ct)
    {
        var e = arrived.Event;
        policy.RequireHost(e.Host);
        var owner = policy.OwnerOfVm(e.Vm)
            ?? throw new MessageRejected($"vm '{e.Vm}' is not in the house (House:Vms)");

        await new DecisionReads([(arrived.Topic, e.Id)], [owner.Name]).ReadAsync(session, policy, ct);
        if (await SeenMessage.IsDuplicateAsync(session, arrived.Topic, e.Id, arrived.At, ct))
        {
            return [];
        }

        // A target that offers to receive a VM somewhere the house does not know it to be is taken at its word as
        // having failed: the move is compensated, and no migrate to that address is ever signed.
        if (e.State == AgentEventState.Ready && addresses.Refusal(e.Host, e.IncomingUri) is { } misdirected)
        {
            e = e with { State = AgentEventState.Failed, IncomingUri = null, Error = $"refused by the server: {misdirected}" };
        }

        var report = new AgentReport(
            e.Host, e.CommandId, e.Vm, e.State.ToDomain(), arrived.At, e.IncomingUri,
            e.Progress?.TotalBytes, e.Progress?.TransferredBytes, e.Progress?.RemainingBytes,
            e.Progress?.DirtyPagesRate, e.Progress?.Mbps, e.DowntimeMs, e.TotalTimeMs, e.Error);
        return await UserSagaRunner.ForUserAsync(session, policy, clock, node, owner.Name,
            (user, house, seed) => new ObserveAgentReport { User = user, House = house, Seed = seed, Report = report }, ct);
    }
}
