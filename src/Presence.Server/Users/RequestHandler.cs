using Marten;
using NodaTime;
using Presence.Contracts.Wire;
using Presence.Domain.House;
using Presence.Domain.Hosts;
using Presence.Domain.Signals;
using Presence.Domain.Users;
using Presence.Server.Hosting;
using Presence.Server.Mqtt;
using Wolverine;

namespace Presence.Server.Users;

/// <summary>
/// Requests from people and Home Assistant enter the user's stream as evidence, so history shows who asked for
/// what; maintenance switches go to the host's stream. Idempotent for redeliveries: a delivery whose `id` this topic
/// already brought changes nothing (<see cref="SeenMessage"/>); switching maintenance to the state it is in decides
/// nothing new.
/// </summary>
public static class RequestHandler
{
    public static async Task<OutgoingMessages> Handle(
        UserRequestArrived arrived, IDocumentSession session, HousePolicy policy, IClock clock, ServerNode node, CancellationToken ct)
    {
        var request = arrived.Request;
        var user = policy.RequireUser(request.User);
        if (request.Target is { } target && !user.AllowedHosts.Contains(target))
        {
            throw new MessageRejected($"target '{target}' is not among {user.Name}'s allowed hosts ({string.Join(", ", user.AllowedHosts)})");
        }

        // What is asked is answered with a line in the user's timeline (done, refused, held...).
        await new DecisionReads([(arrived.Topic, request.Id)], [user.Name]).ReadAsync(session, policy, ct);
        if (await SeenMessage.IsDuplicateAsync(session, arrived.Topic, request.Id, arrived.At, ct))
        {
            return [];
        }

        var details = new Dictionary<string, string> { ["action"] = ContractJson.WireName(request.Action) };
        if (request.Target is not null)
        {
            details["target"] = request.Target;
        }

        if (request.DecisionId is not null)
        {
            details["decision_id"] = request.DecisionId;
        }

        if (request.Level is { } level)
        {
            details["level"] = ContractJson.WireName(level);
        }

        if (arrived.By is not null)
        {
            details["by"] = arrived.By;
        }

        var evidence = new Evidence(
            request.Id ?? "r-" + Guid.NewGuid().ToString("N")[..12], EvidenceKind.Request,
            request.Target ?? user.HomeHost, user.Name, details, arrived.At);
        return await UserSagaRunner.ForUserAsync(session, policy, clock, node, user.Name,
            (name, house, seed) => new ObserveEvidence { User = name, House = house, Seed = seed, Evidence = evidence }, ct);
    }

    public static async Task<OutgoingMessages> Handle(
        MaintenanceArrived arrived, IDocumentSession session, HousePolicy policy, IClock clock, ServerNode node, CancellationToken ct)
    {
        var request = arrived.Request;
        policy.RequireHost(request.Host);
        if (await SeenMessage.IsDuplicateAsync(session, arrived.Topic, request.Id, arrived.At, ct))
        {
            return [];
        }

        var switched = new MaintenanceSwitched(
            request.Host, request.State == Presence.Contracts.Requests.MaintenanceRequest.Switch.On, request.Reason, arrived.At);
        var before = await session.LoadAsync<HostState>(HostState.StreamId(request.Host), ct);
        session.Events.Append(HostState.StreamId(request.Host), switched);
        return await UserSagaRunner.HostChangedAsync(session, policy, clock, node, HostState.Evolve(before, switched), ct);
    }
}
