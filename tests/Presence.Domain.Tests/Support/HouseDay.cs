using System.Text;
using NodaTime.Text;

namespace Presence.Domain.Tests.Support;

/// <summary>
/// Plays a script against every user's stream of <see cref="TheFamily"/>, as the server would: signals and requests
/// go to the user they name, host changes to everyone, agents answer what each saga waits for and their
/// inventories follow. Every event is written to <see cref="Trace"/> as one line: the time on the house's clock,
/// the user, the event, the rule and the reason. Seeds and times come from the script, so it is deterministic.
/// </summary>
public sealed class HouseDay
{
    private static readonly LocalDateTimePattern Clock = LocalDateTimePattern.CreateWithInvariantCulture("ddd HH:mm:ss");

    private readonly Dictionary<string, List<object>> streams = [];
    private readonly Dictionary<string, IReadOnlyList<HostFacts>> seen = [];
    private readonly StringBuilder trace = new();
    private readonly List<CommandToAgent> sent = [];
    private readonly DateTimeZone zone;
    private int seeds;
    private int evidence;

    public HouseDay(LocalDate day, HousePolicy? policy = null)
    {
        Policy = policy ?? TheFamily.Policy();
        zone = DateTimeZoneProviders.Tzdb[Policy.Settings.TimeZone];
        Now = day.AtStartOfDayInZone(zone).ToInstant();
    }

    public HousePolicy Policy { get; }

    public HouseSnapshot House { get; private set; } = TheFamily.Facts();

    public Instant Now { get; private set; }

    public string Trace => trace.ToString();

    public UserSaga State(string user) =>
        streams.TryGetValue(user, out var events) ? events.Aggregate(UserSaga.Start(user, null), UserDecider.Evolve) : UserSaga.Start(user, null);

    /// <summary>The house's clock reads this (a local time today, or on a later day).</summary>
    /// <summary>A user's stream as the event store would hand it out: numbered, with the policy version it was decided under.</summary>
    public IReadOnlyList<Recorded> History(string user) =>
        (streams.TryGetValue(user, out var events) ? events : [])
        .Select((e, i) => new Recorded(i + 1, (IDomainEvent)e, null, null, new Dictionary<string, string> { ["policy_version"] = Policy.Version }))
        .ToList();

    public HouseDay At(LocalTime time, int dayOffset = 0)
    {
        var today = Now.InZone(zone).Date;
        Now = (today + Period.FromDays(dayOffset)).At(time).InZoneLeniently(zone).ToInstant();
        return this;
    }

    public HouseDay After(Duration duration)
    {
        Now += duration;
        return this;
    }

    /// <summary>A line of its own in the trace, to say what the script does next.</summary>
    public HouseDay Note(string text)
    {
        trace.Append(trace.Length == 0 ? "" : "\n").Append("# ").Append(text).Append('\n');
        return this;
    }

    // --- signals and requests ---

    public HouseDay Session(string user, string host, string state) => Signal(user, EvidenceKind.Session, host, (EvidenceDetails.Session.State, state), (EvidenceDetails.Session.Seat, EvidenceDetails.Session.Console));

    /// <summary>
    /// A signal naming a user goes, as the server sends it, to the users <see cref="HostNews.SeatNews"/> names: the
    /// person, after anyone whose desktop the screen shows when the person sits down there.
    /// </summary>
    public HouseDay Signal(string user, EvidenceKind kind, string host, params (string Key, string Value)[] details)
    {
        var observed = new Evidence($"ev-{++evidence}", kind, host, user, details.ToDictionary(d => d.Key, d => d.Value), Now);
        var sagas = streams.Keys.Select(State).ToList();
        foreach (var concerned in HostNews.SeatNews(observed, Policy, sagas))
        {
            Decide(concerned, new ObserveEvidence { User = concerned, House = House, Seed = NextSeed(), Evidence = observed });
        }

        return this;
    }

    /// <summary>Every command the sagas obliged the server to send, in the order they left: what each agent was told.</summary>
    public IReadOnlyList<CommandToAgent> Sent => sent;

    /// <summary>Called with each user's events as they are decided, before the next decision.</summary>
    public Action<string, IReadOnlyList<IUserEvent>>? Decided { get; set; }

    public HouseDay Request(string user, string action, string? target = null, string? decisionId = null)
    {
        var details = new List<(string, string)> { (EvidenceDetails.Request.Action, action) };
        if (target is not null)
        {
            details.Add((EvidenceDetails.Request.Target, target));
        }

        if (decisionId is not null)
        {
            details.Add((EvidenceDetails.Request.DecisionId, decisionId));
        }

        return Signal(user, EvidenceKind.Request, target ?? Policy.User(user)!.HomeHost, [.. details]);
    }

    /// <summary>The user's settling wait runs out when it is due.</summary>
    public HouseDay WaitRunsOut(string user)
    {
        var wait = State(user).Settling ?? throw new InvalidOperationException($"{user} waits for nothing");
        Now = Max(Now, wait.DueAt);
        return Decide(user, new Settle { User = user, House = House, Seed = NextSeed(), SettleId = wait.SettleId });
    }

    // --- the house changes ---

    /// <summary>A host's facts change and the server tells every user's saga.</summary>
    public HouseDay HostChanges(string host, Func<HostFacts, HostFacts> change)
    {
        House = new HouseSnapshot(House.Hosts.Select(h => h.Name == host ? change(h) : h).ToList());
        foreach (var user in Policy.Users.Select(u => u.Name).Order(StringComparer.Ordinal))
        {
            Decide(user, new ObserveHostChange { User = user, House = House, Seed = NextSeed(), Host = host });
        }

        return this;
    }

    public HouseDay Inventory(Func<HouseSnapshot, HouseSnapshot> change)
    {
        House = change(House);
        return this;
    }

    // --- agents answer ---

    /// <summary>The agents carry out whatever the user's saga waits for, taking <paramref name="took"/> for a move.</summary>
    public HouseDay AgentsCarryOut(string user, Duration? took = null)
    {
        var time = took ?? Duration.FromSeconds(10);
        for (var guard = 0; guard < 5; guard++)
        {
            var state = State(user);
            var vm = state.Vm!;
            if (state.PendingDisplay is { } display)
            {
                Answer(user, display.Host, display.CommandId, ReportState.Completed, Duration.FromSeconds(1));
            }
            else if (state.Migration is { Phase: Phases.Preparing } preparing)
            {
                Answer(user, preparing.Target, preparing.PrepareCommandId, ReportState.Ready, Duration.FromSeconds(1),
                    r => r with { IncomingUri = $"tcp:{preparing.Target}:49152" });
            }
            else if (state.Migration is { MigrateCommandId: { } migrate } migrating)
            {
                var ms = (long)time.TotalMilliseconds;
                Answer(user, migrating.Source, migrate, ReportState.Completed, time, r => r with { TotalTimeMs = ms, DowntimeMs = 180 });
                House = House.WithVm(vm, migrating.Target);
            }
            else if (state.Operation is { } operation)
            {
                Answer(user, operation.Host, operation.CommandId, ReportState.Completed, time);
                House = House.WithVm(vm, operation.Kind == PendingOperation.Resume ? operation.Host : null);
            }
            else
            {
                return this;
            }
        }

        throw new InvalidOperationException($"{user}'s saga keeps waiting");
    }

    private void Answer(string user, string host, string commandId, ReportState state, Duration after, Func<AgentReport, AgentReport>? with = null)
    {
        Now += after;
        var vm = State(user).Vm!;
        Decide(user, new ObserveAgentReport
        {
            User = user,
            House = House,
            Seed = NextSeed(),
            Report = (with ?? (r => r))(new AgentReport(host, commandId, vm, state, Now)),
        });
    }

    // --- deciding and writing it down ---

    private HouseDay Decide(string user, UserInput input)
    {
        var history = streams.TryGetValue(user, out var known) ? known : streams[user] = [];
        UserSaga? Fold() => history.Count == 0 ? null : history.Aggregate(UserSaga.Start(user, null), UserDecider.Evolve);
        static string Text(UserSaga? saga) => saga is null ? "null" : EventJson.Of(saga);

        var (events, after) = UserDecider.DecideAndFold(Fold(), input, Now, Policy);
        history.AddRange(events);

        // The saga the decider hands back (the replayer keeps it instead of folding again) is the fold of its stream.
        if (Text(after) is var handed && Text(Fold()) is var folded && handed != folded)
        {
            throw new InvalidOperationException($"the decider's saga after {input.GetType().Name} is not the fold of {user}'s stream:\n  {handed}\n  {folded}");
        }

        foreach (var e in events)
        {
            Write(user, e);
        }

        sent.AddRange(events.SelectMany(AgentCommands.For));
        Decided?.Invoke(user, events);

        return this;
    }

    private void Write(string user, object e)
    {
        var (rule, text) = Describe(user, e);
        var at = e.GetType().GetProperty("At")?.GetValue(e) is Instant instant ? instant : Now;
        trace.Append(Invariant($"{Clock.Format(at.InZone(zone).LocalDateTime)}  {user,-6} {e.GetType().Name,-23} {rule,-24} {text}").TrimEnd()).Append('\n');
    }

    private (string Rule, string Text) Describe(string user, object e) => e switch
    {
        UserEnrolled u => ("-", $"{u.Vm}, home {u.HomeHost}"),
        HouseObserved h => ("-", Changes(user, h.Hosts)),
        HouseChanged c => ("-", Changes(user, new HouseSnapshot(seen.GetValueOrDefault(user) ?? []).With(c.Hosts, c.Gone).Hosts)),
        SignalRecorded s => ("-", $"{s.Evidence.Id}: {s.Evidence}"),
        AgentReported a => ("-", Invariant($"{a.Report.Host} says {a.Report.State.ToString().ToLowerInvariant()} to {a.Report.CommandId[..8]}")
            + (a.Report.TotalTimeMs is { } ms ? Invariant($" after {ms / 1000.0:0.#}s") : "")),
        SettlingWaitRanOut w => ("-", $"{w.SettleId} ran out"),
        PhaseTimeoutRanOut t => ("-", $"{t.Phase} of {t.MoveId} ran out"),
        HostChangeNoticed h => ("-", $"{h.Host} changed"),
        SeatChanged s => ("-", Invariant($"at {s.Seat ?? "no seat"} (was {s.PreviousSeat ?? "none"}), confidence {s.Confidence:0.0#}")),
        SettlingStarted s => ("-", $"{Mode(s.Mode)} to {s.Seat} waits {Seconds(s.HoldDown)}, until {Time(s.DueAt)}"),
        SettlingLapsed s => ("-", s.Reason),
        PlacementDecided d => (d.Rule, $"[{Mode(d.Mode)}, {Seconds(d.EstimatedDuration)}] {d.Reason}"),
        PlacementProposed p => (p.Rule, $"[{Mode(p.Mode)}, {Seconds(p.EstimatedDuration)}] {p.DecisionId} waits for approval: {p.Reason}"),
        ProposalAnswered a => ("-", $"{a.DecisionId} {(a.Approved ? "approved" : "declined")} ({a.EvidenceId})"),
        MoveSuppressed m => (m.Rule, m.Reason),
        HoldChanged h => ("-", h.Held ? "holding the session where it is" : "following again"),
        RequestRefused r => ("-", r.Reason),
        LeavingDetected l => ("-", l.Reason),
        IncomingRequested r => ("-", $"{r.Target} prepares to receive {r.Vm} from {r.Source}{(r.InhibitSleep ? ", holding off sleep" : "")}"),
        IncomingReady r => ("-", $"{r.Target} listens at {r.IncomingUri}"),
        MigrationRequested m => ("-", $"{m.Source} sends {m.Vm} to {m.Target} at up to {m.MaxBandwidthMbps} Mbit/s"),
        MigrationProgressed p => ("-", Invariant($"{p.Percent:0} %")),
        MigrationCompleted c => ("-", Invariant($"{c.Vm} runs on {c.Target} (took {c.TotalTimeMs / 1000.0:0.#} s, {c.DowntimeMs} ms down)")),
        MigrationFailed f => ("-", f.Reason),
        DisplayAttachRequested d => ("-", $"{d.Host} shows {d.Vm} from {d.DisplayUri}" + (d.Reason is { } why ? $": {why}" : "")),
        DisplayAttached d => ("-", $"{d.Host} shows {d.Vm}"),
        DisplayAttachFailed d => ("-", d.Reason),
        DisplayDetachRequested d => ("-", $"{d.Host} stops showing {d.Vm}: {d.Reason}"),
        SuspendRequested s => ("-", $"{s.Host} freezes {s.Vm} to {s.File}{(s.ResumeOn is { } on ? $", to wake on {on}" : "")}"),
        VmSuspended s => ("-", $"{s.Vm} is frozen in {s.File}"),
        SuspendFailed s => ("-", s.Reason),
        ResumeRequested r => ("-", $"{r.Host} wakes {r.Vm} from {r.File}"),
        VmResumed r => ("-", $"{r.Vm} runs on {r.Host}"),
        ResumeFailed r => ("-", r.Reason),
        _ => ("-", EventJson.Of(e)),
    };

    /// <summary>What changed in the house since this user's stream last recorded it, in words.</summary>
    private string Changes(string user, IReadOnlyList<HostFacts> now)
    {
        var before = seen.TryGetValue(user, out var known) ? known : [];
        seen[user] = now;
        if (before.Count == 0)
        {
            return "first look: " + string.Join("; ", now.Select(h =>
                $"{h.Name} runs {(h.Vms.Count == 0 ? "nothing" : string.Join(", ", h.Vms.Select(v => v.Name)))}"));
        }

        var changes = new List<string>();
        foreach (var host in now)
        {
            var was = before.FirstOrDefault(h => h.Name == host.Name) ?? HostFacts.Unknown(host.Name);
            if (was.InMaintenance != host.InMaintenance)
            {
                changes.Add($"{host.Name} {(host.InMaintenance ? "in" : "out of")} maintenance");
            }

            if (was.AgentOnline != host.AgentOnline)
            {
                changes.Add($"{host.Name} agent {(host.AgentOnline ? "online" : "offline")}");
            }

            if (was.OnBattery != host.OnBattery || was.BatteryPercent != host.BatteryPercent)
            {
                changes.Add(host.OnBattery ? $"{host.Name} on battery at {host.BatteryPercent} %" : $"{host.Name} on mains");
            }

            var added = host.Vms.Select(v => v.Name).Except(was.Vms.Select(v => v.Name)).ToList();
            var gone = was.Vms.Select(v => v.Name).Except(host.Vms.Select(v => v.Name)).ToList();
            changes.AddRange(added.Select(v => $"{v} now on {host.Name}"));
            changes.AddRange(gone.Select(v => $"{v} gone from {host.Name}"));
        }

        return changes.Count == 0 ? "no change that shows here" : string.Join("; ", changes);
    }

    private string Time(Instant at) => LocalTimePattern.CreateWithInvariantCulture("HH:mm:ss").Format(at.InZone(zone).TimeOfDay);

    private static string Mode(PlacementMode mode) => mode switch
    {
        PlacementMode.AttachDisplay => "attach display",
        PlacementMode.LiveMigration => "live migration",
        PlacementMode.SuspendResume => "freeze",
        _ => "wake",
    };

    private static string Seconds(Duration d) => Invariant($"{d.TotalSeconds:0.#} s");

    private static string Invariant(FormattableString text) => FormattableString.Invariant(text);

    private static Instant Max(Instant a, Instant b) => a > b ? a : b;

    private Guid NextSeed() => new(++seeds, 0, 0, [0, 0, 0, 0, 0, 0, 0, 1]);
}
