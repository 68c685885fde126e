using System.Globalization;
using CsCheck;
using static Presence.Domain.Tests.Support.TheHouse;

namespace Presence.Domain.Tests.Properties;

/// <summary>The random histories the invariants are checked over, and how one is played through the decider.</summary>
public partial class decider_invariants
{
    private static readonly string[] Seats = [Basement, Imac, Laptop, KidsPc, "garage"];

    public sealed record Config(
        PreferredMode Prefers, AutomationLevel Automation, bool HoldDowns, bool LatencySensitive, double MinimumBenefit, string? FrozenFor,
        bool Timeouts = false);

    public abstract record Op;

    public sealed record Session(string Host, string State, bool Remote) : Op;

    /// <summary>Kind: 0 power (Value even: unplugged), 1 lid (even: closed), 2 Wi-Fi (0 home, 1 away, 2 gone), 3 idle.</summary>
    public sealed record Device(string Host, int Kind, int Value) : Op;

    /// <summary>Pick: for approve/decline, 0–6 the decision that waits (if any), else a made-up one.</summary>
    public sealed record Request(string Action, string Target, int Pick) : Op;

    /// <summary>Minutes pass, then a settling wait runs out. Which: 0 the one the saga holds, 1 an earlier one, 2 made up.</summary>
    public sealed record Wait(int Which, int Minutes) : Op;

    /// <summary>
    /// Which: 0–1 the migration's current command (prepare or migrate), 2 display, 3 freeze/wake (the ones the saga
    /// waits for), 4 one sent earlier, 5 made up.
    /// </summary>
    public sealed record Report(int Which, bool RightHost, string OtherHost, ReportState State, int Percent) : Op;

    /// <summary>
    /// Kind: 0 an agent comes or goes, 1 free memory changes, 2 the VM shows up somewhere, 3 inventories catch up,
    /// 4 maintenance on or off (Value 0–2: on the host the VM runs on, or was evacuated from), 5 a battery changes.
    /// The saga hears of it as a host change.
    /// </summary>
    public sealed record HouseChanges(string Host, int Kind, int Value) : Op;

    private static readonly Gen<Op> SessionOp =
        Gen.Select(
                Gen.OneOf(Seats),
                Gen.OneOf(EvidenceDetails.Session.Login, EvidenceDetails.Session.Unlock, EvidenceDetails.Session.Active, EvidenceDetails.Session.Logout, EvidenceDetails.Session.Lock),
                Gen.Int[0, 9])
            .Select(t => (Op)new Session(t.Item1, t.Item2, t.Item3 == 0));

    private static readonly Gen<Op> DeviceOp =
        Gen.Select(Gen.OneOf(Laptop, Laptop, Laptop, Imac, Basement), Gen.Int[0, 3], Gen.Int[0, 3])
            .Select(t => (Op)new Device(t.Item1, t.Item2, t.Item3));

    private static readonly Gen<Op> RequestOp =
        Gen.Select(
                Gen.OneOf(
                    EvidenceDetails.Request.Move, EvidenceDetails.Request.Move, EvidenceDetails.Request.Home, EvidenceDetails.Request.Hold, EvidenceDetails.Request.Release,
                    EvidenceDetails.Request.Follow, EvidenceDetails.Request.Approve, EvidenceDetails.Request.Approve, EvidenceDetails.Request.Decline, "dance"),
                Gen.OneOf(Seats),
                Gen.Int[0, 9])
            .Select(t => (Op)new Request(t.Item1, t.Item2, t.Item3));

    private static readonly Gen<Op> WaitOp =
        Gen.Select(Gen.OneOf(0, 0, 0, 1, 2), Gen.OneOf(0, 0, 1, 1, 10, 60, 180))
            .Select(t => (Op)new Wait(t.Item1, t.Item2));

    /// <summary>Ready, progress and completed more often than the rest, so moves also get to their end.</summary>
    private static readonly ReportState[] States =
    [
        ReportState.Accepted, ReportState.Ready, ReportState.Ready, ReportState.Progress, ReportState.Progress,
        ReportState.Completed, ReportState.Completed, ReportState.Completed, ReportState.Failed, ReportState.Cancelled,
    ];

    private static readonly Gen<Op> ReportOp =
        Gen.Select(Gen.OneOf(0, 0, 0, 1, 1, 1, 1, 2, 3, 3, 4, 5), Gen.Int[0, 9], Gen.OneOf(Seats), Gen.OneOf(States), Gen.Int[0, 100])
            .Select(t => (Op)new Report(t.Item1, t.Item2 > 0, t.Item3, t.Item4, t.Item5));

    /// <summary>A phase's timeout runs out: the one the saga waits on, an old one, or a made-up one.</summary>
    public sealed record Timeout(int Which, int Seconds) : Op;

    private static readonly Gen<Op> TimeoutOp =
        Gen.Select(Gen.OneOf(0, 0, 0, 1, 2), Gen.OneOf(0, 5, 30, 600)).Select(t => (Op)new Timeout(t.Item1, t.Item2));

    private static readonly Gen<Op> HouseOp =
        Gen.Select(Gen.OneOf(Seats), Gen.OneOf(0, 1, 2, 3, 4, 4, 4, 5), Gen.Int[0, 4])
            .Select(t => (Op)new HouseChanges(t.Item1, t.Item2, t.Item3));

    private static readonly Gen<Config> Configs =
        Gen.Select(
                Gen.OneOf(PreferredMode.Local, PreferredMode.ThinClient),
                Gen.OneOf(AutomationLevel.Automatic, AutomationLevel.Automatic, AutomationLevel.Recommend, AutomationLevel.Recommend, AutomationLevel.Manual),
                Gen.Bool,
                Gen.Int[0, 3],
                Gen.OneOf(0.0, 0.0, 1.0, 3.0),
                Gen.OneOf<string?>(null, null, null, null, null, null, null, null, Laptop, Imac),
                Gen.Int[0, 3])
            .Select(t => new Config(t.Item1, t.Item2, t.Item3, t.Item4 == 0, t.Item5, t.Item6, t.Item7 > 0));

    private static readonly Gen<(Config, Op[])> Histories =
        Gen.Select(Configs, Gen.Frequency((3, SessionOp), (2, DeviceOp), (2, RequestOp), (2, WaitOp), (10, ReportOp), (2, HouseOp), (2, TimeoutOp)).Array[1, 50]);

    private sealed record Step(HousePolicy Policy, UserSaga? StateGiven, UserInput Input, Instant Now, IReadOnlyList<object> Events)
    {
        public UserSaga Before => StateGiven ?? UserSaga.Start(AliceName, Vm);
    }

    private static HousePolicy PolicyFor(Config config)
    {
        var policy = Policy().Prefers(config.Prefers).Automation(config.Automation).Settings(p => p with
        {
            TimeZone = Berlin,
            HoldDown = config.HoldDowns
                ? new HoldDowns(Duration.FromSeconds(3), Duration.FromSeconds(30), Duration.FromMinutes(1))
                : HoldDowns.None,
            Cooldown = Duration.FromMinutes(10),
            QuietHours = new QuietHours(new LocalTime(22, 0), new LocalTime(7, 0)),
            LaptopMinBatteryPercent = 20,
            IdleAway = Duration.FromMinutes(10),
            HomeSsid = HomeWifi,
            LeaveWindow = Duration.FromMinutes(5),
            MinimumBenefit = config.MinimumBenefit,
            PrepareTimeout = config.Timeouts ? Duration.FromSeconds(30) : Duration.Zero,
            MigrationTimeout = config.Timeouts ? Duration.FromSeconds(60) : Duration.Zero,
            SuspendTimeout = config.Timeouts ? Duration.FromMinutes(2) : Duration.Zero,
            ResumeTimeout = config.Timeouts ? Duration.FromMinutes(2) : Duration.Zero,
            DisplayTimeout = config.Timeouts ? Duration.FromSeconds(20) : Duration.Zero,
            ProgressInterval = config.Timeouts ? Duration.FromSeconds(5) : Duration.Zero,
        });
        return config.LatencySensitive ? policy.LatencySensitive() : policy;
    }

    /// <summary>Plays one history through the decider, folding its events, and hands each step to <paramref name="check"/>.</summary>
    private static void Walk(Config config, Op[] ops, Action<Step> check)
    {
        var policy = PolicyFor(config);
        var house = Facts();
        UserSaga? state = null;
        var now = Scenario.Start;
        var sent = new List<string>();
        var waits = new List<string>();
        var timeouts = new List<PhaseTimeoutScheduled>();
        var n = 0;

        if (config.FrozenFor is { } wakeOn)
        {
            // Being frozen on the basement to wake on another host, which is away and in maintenance at first.
            house = house.Offline(wakeOn).InMaintenance(wakeOn);
            state = new object[]
            {
                new UserEnrolled(AliceName, Vm, Basement, policy.Version, now),
                new HouseObserved(AliceName, house.Normalised().Hosts, now),
                new SuspendRequested(AliceName, "o-0", "d-0", Vm, Basement, "/srv/alice.state", wakeOn, "c-suspend-0", now),
            }.Aggregate(UserSaga.Start(AliceName, Vm), UserDecider.Evolve);
            sent.Add("c-suspend-0");
        }

        foreach (var generated in ops)
        {
            var op = generated;
            n++;
            now += Duration.FromSeconds(1);
            var seed = new Guid(n, 0, 0, new byte[8]);
            if (op is HouseChanges change)
            {
                if (change is { Kind: 4, Value: < 3 } && (state?.EvacuatedFrom ?? state?.VmHost) is { } vmHost)
                {
                    change = change with { Host = vmHost };
                }

                // Only a laptop's battery counts, and one host in five made the laptop_battery rule so rare that a run
                // of 5,000 histories missed it about once in 150 (seen in CI): one low level always hits the laptop.
                if (change is { Kind: 5, Value: 1 })
                {
                    change = change with { Host = Laptop };
                }

                house = Change(house, change, state);
                op = change;
            }

            if (op is Wait wait)
            {
                now += Duration.FromMinutes(wait.Minutes);
            }

            if (op is Timeout late)
            {
                now += Duration.FromSeconds(late.Seconds);
            }

            Evidence Evidence(EvidenceKind kind, string host, params (string Key, string Value)[] details) =>
                new($"ev-{n}", kind, host, AliceName, details.ToDictionary(d => d.Key, d => d.Value), now);

            UserInput input = op switch
            {
                Session s => new ObserveEvidence
                {
                    User = AliceName, House = house, Seed = seed,
                    Evidence = Evidence(EvidenceKind.Session, s.Host, (EvidenceDetails.Session.State, s.State), (EvidenceDetails.Session.Seat, s.Remote ? EvidenceDetails.Session.Remote : EvidenceDetails.Session.Console)),
                },
                Device d => new ObserveEvidence
                {
                    User = AliceName, House = house, Seed = seed,
                    Evidence = d.Kind switch
                    {
                        0 => Evidence(EvidenceKind.Power, d.Host, (EvidenceDetails.Power.Ac, d.Value % 2 == 0 ? EvidenceDetails.Power.False : EvidenceDetails.Power.True)),
                        1 => Evidence(EvidenceKind.Lid, d.Host, (EvidenceDetails.Lid.State, d.Value % 2 == 0 ? EvidenceDetails.Lid.Closed : EvidenceDetails.Lid.Open)),
                        2 => d.Value switch
                        {
                            0 => Evidence(EvidenceKind.Wifi, d.Host, (EvidenceDetails.Wifi.State, EvidenceDetails.Wifi.Connected), (EvidenceDetails.Wifi.Ssid, HomeWifi)),
                            1 => Evidence(EvidenceKind.Wifi, d.Host, (EvidenceDetails.Wifi.State, EvidenceDetails.Wifi.Connected), (EvidenceDetails.Wifi.Ssid, "library")),
                            _ => Evidence(EvidenceKind.Wifi, d.Host, (EvidenceDetails.Wifi.State, EvidenceDetails.Wifi.Disconnected)),
                        },
                        _ => Evidence(EvidenceKind.Idle, d.Host,
                            (EvidenceDetails.Idle.Seconds, new[] { 0, 300, 600, 3600 }[d.Value].ToString(CultureInfo.InvariantCulture))),
                    },
                },
                Request r => new ObserveEvidence
                {
                    User = AliceName, House = house, Seed = seed,
                    Evidence = RequestEvidence(r, state, $"ev-{n}", now),
                },
                Wait w => new Settle
                {
                    User = AliceName, House = house, Seed = seed,
                    SettleId = w.Which switch
                    {
                        0 when state?.Settling is { } settling => settling.SettleId,
                        1 when waits.Count > 0 => waits[n % waits.Count],
                        _ => "w-made-up",
                    },
                },
                Report r => new ObserveAgentReport { User = AliceName, House = house, Seed = seed, Report = ReportFor(r, state, sent, now) },
                HouseChanges h => new ObserveHostChange { User = AliceName, House = house, Seed = seed, Host = h.Host },
                Timeout t => (t.Which, state?.Timeout) switch
                {
                    (0, { } due) => new CheckTimeout { User = AliceName, House = house, Seed = seed, MoveId = due.MoveId, Phase = due.Phase },
                    (1, _) when timeouts.Count > 0 => new CheckTimeout
                    {
                        User = AliceName, House = house, Seed = seed,
                        MoveId = timeouts[n % timeouts.Count].MoveId, Phase = timeouts[n % timeouts.Count].Phase,
                    },
                    _ => new CheckTimeout { User = AliceName, House = house, Seed = seed, MoveId = "m-made-up", Phase = Phases.Migrating },
                },
                _ => throw new InvalidOperationException(op.ToString()),
            };

            var events = UserDecider.Decide(state, input, now, policy);
            check(new Step(policy, state, input, now, events));

            foreach (var e in events)
            {
                state = UserDecider.Evolve(state ?? UserSaga.Start(AliceName, Vm), e);
                sent.AddRange(AgentCommands.For(e).Select(c => c.CommandId));
                if (e is SettlingStarted started)
                {
                    waits.Add(started.SettleId);
                }

                if (e is PhaseTimeoutScheduled scheduled)
                {
                    timeouts.Add(scheduled);
                }
            }
        }
    }

    /// <summary>As the server records a request: on its target, else on alice's home host.</summary>
    private static Evidence RequestEvidence(Request r, UserSaga? state, string id, Instant now)
    {
        var details = new Dictionary<string, string> { [EvidenceDetails.Request.Action] = r.Action };
        var host = Basement;
        switch (r.Action)
        {
            case EvidenceDetails.Request.Move:
                details[EvidenceDetails.Request.Target] = r.Target;
                host = r.Target;
                break;
            case EvidenceDetails.Request.Approve or EvidenceDetails.Request.Decline:
                details[EvidenceDetails.Request.DecisionId] = r.Pick < 7 && state?.Proposal is { } waiting ? waiting.DecisionId : "d-made-up";
                break;
        }

        return new Evidence(id, EvidenceKind.Request, host, AliceName, details, now);
    }

    private static AgentReport ReportFor(Report r, UserSaga? state, List<string> sent, Instant now)
    {
        var m = state?.Migration;
        var display = state?.PendingDisplay;
        var op = state?.Operation;
        (string? Host, string? Command) wanted = r.Which switch
        {
            0 or 1 when m is { Phase: Phases.Preparing } => (m.Target, m.PrepareCommandId),
            0 or 1 => (m?.Source, m?.MigrateCommandId),
            2 => (display?.Host, display?.CommandId),
            3 => (op?.Host, op?.CommandId),
            4 when sent.Count > 0 => (r.OtherHost, sent[r.Percent % sent.Count]),
            _ => (null, null),
        };

        var host = r.RightHost && wanted.Host is { } right ? right : r.OtherHost;
        var command = wanted.Command ?? $"made-up-{r.Percent}";
        // A preparing target says ready, not done.
        var reported = r.Which < 2 && m is { Phase: Phases.Preparing } && r.State == ReportState.Completed ? ReportState.Ready : r.State;
        return new AgentReport(host, command, Vm, reported, now,
            IncomingUri: reported == ReportState.Ready ? $"tcp:{host}:49152" : null,
            TotalBytes: 100, RemainingBytes: 100 - r.Percent, TransferredBytes: r.Percent,
            TotalTimeMs: r.State == ReportState.Completed ? 1000L * (r.Percent + 1) : null,
            Error: r.State == ReportState.Failed ? "boom" : null);
    }

    private static HouseSnapshot Change(HouseSnapshot house, HouseChanges change, UserSaga? state) => change.Kind switch
    {
        0 => house.Change(change.Host, h => h with { AgentOnline = !h.AgentOnline }),
        1 => house.FreeMemory(change.Host, new[] { 2, 8, 12, 16, 40 }[change.Value] * Gib),
        2 => change.Value switch
        {
            0 => house.VmRunsOn(),
            1 => house.VmRunsOn(Basement, change.Host),
            _ => house.VmRunsOn(change.Host),
        },
        3 => state?.VmHost is { } where ? house.VmRunsOn(where) : house,
        4 => house.Change(change.Host, h => h with { InMaintenance = !h.InMaintenance }),
        _ => change.Value switch
        {
            0 => house.OnMains(change.Host),
            _ => house.OnBattery(change.Host, new[] { 0, 10, 19, 50, 90 }[change.Value]),
        },
    };
}
