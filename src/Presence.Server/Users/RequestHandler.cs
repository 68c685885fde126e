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
/// what; maintenance switches go to the host's stream.
/// </summary>
public static class RequestHandler
{
    public static async Task<OutgoingMessages> Handle(
        UserRequestArrived arrived, IDocumentSession session, HousePolicy policy, IClock clock, CancellationToken ct)
    {
        var request = arrived.Request;
        var user = policy.User(request.User) ?? throw new MessageRejected($"user '{request.User}' is not in the house (House:Users)");
        if (request.Target is { } target && !user.AllowedHosts.Contains(target))
        {
            throw new MessageRejected($"target '{target}' is not among {user.Name}'s allowed hosts ({string.Join(", ", user.AllowedHosts)})");
        }

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

        var evidence = new Evidence(
            request.Id ?? "r-" + Guid.NewGuid().ToString("N")[..12], EvidenceKind.Request,
            request.Target ?? user.HomeHost, user.Name, details, arrived.At);
        var input = new ObserveEvidence
        {
            User = user.Name,
            Evidence = evidence,
            House = await UserSagaRunner.HouseAsync(session, policy, ct),
            Seed = Guid.NewGuid(),
        };
        return await UserSagaRunner.RunAsync(session, policy, input, clock.GetCurrentInstant(), ct);
    }

    public static async Task<OutgoingMessages> Handle(
        MaintenanceArrived arrived, IDocumentSession session, HousePolicy policy, IClock clock, CancellationToken ct)
    {
        var request = arrived.Request;
        if (policy.Host(request.Host) is null)
        {
            throw new MessageRejected($"host '{request.Host}' is not in the house (House:Hosts)");
        }

        if (await SeenMessage.IsDuplicateAsync(session, arrived.Topic, request.Id, arrived.At, ct))
        {
            return [];
        }

        var switched = new MaintenanceSwitched(
            request.Host, request.State == Presence.Contracts.Requests.MaintenanceRequest.Switch.On, request.Reason, arrived.At);
        var before = await session.LoadAsync<HostState>(HostState.StreamId(request.Host), ct);
        session.Events.Append(HostState.StreamId(request.Host), switched);
        return await UserSagaRunner.HostChangedAsync(session, policy, HostState.Evolve(before, switched), clock.GetCurrentInstant(), ct);
    }
}
