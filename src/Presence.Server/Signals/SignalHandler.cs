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

        var evidence = ToEvidence(signal, arrived.At);
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

    /// <summary>The payload in the stream's own words: what was observed, by whom, where, and when.</summary>
    public static Evidence ToEvidence(Signal signal, Instant at)
    {
        var details = new Dictionary<string, string>();
        void Add(string key, object? value)
        {
            details[key] = value switch
            {
                null => null!,
                Enum e => System.Text.Json.JsonNamingPolicy.SnakeCaseLower.ConvertName(e.ToString()),
                bool b => b ? "true" : "false",
                _ => Convert.ToString(value, CultureInfo.InvariantCulture)!,
            };
            if (value is null)
            {
                details.Remove(key);
            }
        }

        EvidenceKind kind;
        switch (signal)
        {
            case SessionSignal s:
                kind = EvidenceKind.Session;
                Add("state", s.State);
                Add("seat", s.Seat);
                break;
            case IdleSignal i:
                kind = EvidenceKind.Idle;
                Add("idle_seconds", i.IdleSeconds);
                break;
            case LidSignal l:
                kind = EvidenceKind.Lid;
                Add("state", l.State);
                break;
            case WifiSignal w:
                kind = EvidenceKind.Wifi;
                Add("state", w.State);
                Add("ssid", w.Ssid);
                Add("bssid", w.Bssid);
                Add("rssi", w.Rssi);
                break;
            case PowerSignal p:
                kind = EvidenceKind.Power;
                Add("ac", p.Ac);
                Add("battery_percent", p.BatteryPercent);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(signal), signal.GetType().Name, "unknown signal");
        }

        // Evidence needs an id to be cited by decisions; senders that give none get one made here.
        var id = signal.Id ?? "s-" + Guid.NewGuid().ToString("N")[..12];
        return new Evidence(id, kind, signal.Host, signal.User, details, at);
    }
}
