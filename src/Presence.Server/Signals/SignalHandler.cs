using System.Globalization;
using Marten;
using NodaTime;
using Presence.Contracts.Signals;
using Presence.Domain.House;
using Presence.Domain.Hosts;
using Presence.Domain.Signals;
using Presence.Domain.Users;
using Presence.Server.Hosting;
using Presence.Server.Mqtt;
using Presence.Server.Users;
using Wolverine;

namespace Presence.Server.Signals;

public static class SignalHandler
{
    public static async Task<OutgoingMessages> Handle(
        SignalArrived arrived, IDocumentSession session, HousePolicy policy, IClock clock, CancellationToken ct)
    {
        var signal = arrived.Signal;
        if (policy.Host(signal.Host) is null)
        {
            throw new MessageRejected($"host '{signal.Host}' is not in the house (House:Hosts)");
        }

        if (signal.User is { } user && policy.User(user) is null)
        {
            throw new MessageRejected($"user '{user}' is not in the house (House:Users)");
        }

        if (signal.User is { } named && !policy.MayUse(named, signal.Host))
        {
            throw new MessageRejected($"user '{named}' may not use host '{signal.Host}' (not in House:Users AllowedHosts)");
        }

        if (await SeenMessage.IsDuplicateAsync(session, arrived.Topic, signal.Id, arrived.At, ct))
        {
            return [];
        }

        var evidence = SignalEvidence.ToEvidence(signal, arrived.At);
        if (signal.User is not { } about)
        {
            // Lid, Wi-Fi and power are about the computer: its stream keeps them, and so does the stream of every
            // user sitting at it or running a VM on it, whose decisions they may change (leaving with the laptop).
            session.Events.Append(HostState.StreamId(signal.Host), new HostSignalRecorded(signal.Host, evidence, arrived.At));
            var house = await UserSagaRunner.HouseAsync(session, policy, ct);
            var outgoing = new OutgoingMessages();
            foreach (var concerned in await UserSagaRunner.AffectedAsync(session, policy, house, signal.Host, ct))
            {
                outgoing.AddRange(await UserSagaRunner.RunAsync(session, policy,
                    new ObserveEvidence { User = concerned, Evidence = evidence, House = house, Seed = Guid.NewGuid() },
                    clock.GetCurrentInstant(), ct));
            }

            return outgoing;
        }

        var input = new ObserveEvidence
        {
            User = about,
            Evidence = evidence,
            House = await UserSagaRunner.HouseAsync(session, policy, ct),
            Seed = Guid.NewGuid(),
        };
        return await UserSagaRunner.RunAsync(session, policy, input, clock.GetCurrentInstant(), ct);
    }
}
