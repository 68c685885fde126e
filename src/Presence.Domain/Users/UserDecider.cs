using NodaTime;
using Presence.Domain.House;
using Presence.Domain.Migration;
using Presence.Domain.Placement;
using Presence.Domain.Seating;
using Presence.Domain.Signals;
using static System.FormattableString;

namespace Presence.Domain.Users;

/// <summary>
/// The heart of Presence: <see cref="Decide"/> turns one input into events, <see cref="Evolve"/> folds an event into
/// the saga. No clock, no I/O: time and the house's settings are arguments, so the same stream always replays to
/// the same decisions.
/// </summary>
public static class UserDecider
{
    /// <summary>Every event a user's stream can hold; stores use it to tell user streams from host streams.</summary>
    public static IReadOnlyList<Type> EventTypes { get; } =
    [
        typeof(UserEnrolled), typeof(HouseObserved), typeof(SignalRecorded), typeof(SeatChanged),
        typeof(PlacementDecided), typeof(MoveSuppressed), typeof(IncomingRequested), typeof(IncomingReady),
        typeof(MigrationRequested), typeof(MigrationProgressed), typeof(MigrationCompleted), typeof(MigrationFailed),
        typeof(DisplayAttachRequested), typeof(DisplayAttached), typeof(DisplayAttachFailed),
    ];

    public static IReadOnlyList<object> Decide(UserSaga? state, UserInput input, Instant now, HousePolicy policy)
    {
        var user = policy.User(input.User)
            ?? throw new ArgumentException($"user '{input.User}' is not in the house", nameof(input));
        var ids = new Ids(input.Seed);
        var events = new List<object>();
        var current = state ?? UserSaga.Start(user.Name, user.Vm);

        void Emit(object e)
        {
            events.Add(e);
            current = Evolve(current, e);
        }

        if (state is null || state.Vm != user.Vm)
        {
            Emit(new UserEnrolled(user.Name, user.Vm, user.HomeHost, policy.Version, now));
        }

        var house = input.House.Normalised();
        if (!house.SameAs(current.House))
        {
            Emit(new HouseObserved(user.Name, house.Hosts, now));
        }

        switch (input)
        {
            case ObserveEvidence { Evidence: var evidence }:
                Emit(new SignalRecorded(user.Name, evidence, evidence.At));
                var seat = new SeatBelief(current.Seat, current.SeatConfidence, current.SeatEvidence);
                if (SeatInference.Infer(seat, evidence) is { } belief && belief.Seat != current.Seat)
                {
                    Emit(new SeatChanged(user.Name, belief.Seat, current.Seat, belief.Confidence, belief.EvidenceIds, now));
                    if (belief.Seat is { } target)
                    {
                        foreach (var e in PlaceAtSeat(current, user, target, belief.EvidenceIds, house, policy, ids, now))
                        {
                            Emit(e);
                        }
                    }
                }

                break;

            case ObserveAgentReport { Report: var report }:
                foreach (var e in OnAgentReport(current, report, policy, ids, now))
                {
                    Emit(e);
                }

                break;
        }

        return events;
    }

    /// <summary>The user sat down at <paramref name="seat"/>: bring the session there, or say why not.</summary>
    private static IEnumerable<object> PlaceAtSeat(
        UserSaga state, UserSpec user, string seat, IReadOnlyList<string> evidenceIds,
        HouseSnapshot house, HousePolicy policy, Ids ids, Instant now)
    {
        var vm = policy.Vm(user.Vm);
        var decisionId = ids.Decision();

        MoveSuppressed Suppress(string rule, string reason, IReadOnlyList<RejectedAlternative>? rejected = null) =>
            new(user.Name, decisionId, user.Vm, seat, rule, reason, evidenceIds, rejected ?? [], policy.Version, now);

        if (state.Migration is { } moving)
        {
            yield return Suppress(Rules.OneMoveAtATime,
                $"{user.Vm} is already moving from {moving.Source} to {moving.Target} ({moving.Id}); one move at a time");
            yield break;
        }

        if (state.VmHost is not { } source)
        {
            yield return Suppress(Rules.VmLocationUnknown, $"no agent reports {user.Vm} running, so there is nothing to move yet");
            yield break;
        }

        if (source == seat)
        {
            yield break; // the VM already runs at the seat: nothing to decide
        }

        // A host the user may not use is a hard rule for showing the VM as much as for running it: no fallback.
        if (!user.AllowedHosts.Contains(seat))
        {
            yield return Suppress(Rules.AllowedHosts,
                $"{user.Name} sat down at {seat}, which is not among {user.Name}'s allowed hosts, so {user.Vm} is neither moved nor shown there",
                [new RejectedAlternative(seat, Rules.AllowedHosts, $"{seat}: not among {user.Name}'s allowed hosts")]);
            yield break;
        }

        var rejected = new List<RejectedAlternative>();
        var memoryMb = vm?.MemoryMb ?? 0;
        var seatFacts = house.Host(seat);
        var sourceFacts = house.Host(source);
        var seatSpec = policy.Host(seat);

        if (user.PreferredMode == PreferredMode.Local)
        {
            var hardRule = CheckIncoming(user, seat, seatSpec, seatFacts, memoryMb);
            if (hardRule is null && !sourceFacts.AgentOnline)
            {
                hardRule = new RejectedAlternative(source, Rules.SourceAgentOnline, $"{source}: agent is offline, so it cannot send {user.Vm}");
            }

            if (hardRule is null)
            {
                var bandwidth = Bandwidth(policy, house, source, seat);
                var estimate = EstimateLiveMigration(memoryMb, bandwidth);
                var migrationId = ids.Migration();
                yield return new PlacementDecided(
                    user.Name, decisionId, user.Vm, source, seat, PlacementMode.LiveMigration, Rules.FollowSeat,
                    $"{user.Name} sat down at {seat}; {user.Vm} ({Gib(memoryMb)}) moves from {source} to {seat}, about {Seconds(estimate)}",
                    evidenceIds, rejected, estimate, policy.Version, now);
                yield return new IncomingRequested(
                    user.Name, migrationId, decisionId, user.Vm, source, seat, memoryMb, ids.Command("prepare"), now);
                yield break;
            }

            rejected.Add(hardRule);
        }

        // Thin client: the VM stays where it runs and the seat shows it.
        var displayUri = sourceFacts.Vms.FirstOrDefault(v => v.Name == user.Vm)?.DisplayUri ?? vm?.DisplayUri;
        if (state.DisplayedOn == seat)
        {
            yield break;
        }

        if (displayUri is null)
        {
            yield return Suppress(Rules.NoDisplay, $"{user.Vm} cannot move to {seat} and has no display address to show it there", rejected);
            yield break;
        }

        if (!seatFacts.AgentOnline)
        {
            rejected.Add(new RejectedAlternative(seat, Rules.AgentOnline, $"{seat}: agent is offline, so it cannot show {user.Vm}"));
            yield return Suppress(Rules.AgentOnline, $"{user.Name} sat down at {seat}, but no agent there can show or run {user.Vm}", rejected);
            yield break;
        }

        var rule = user.PreferredMode == PreferredMode.ThinClient ? Rules.PreferThinClient : Rules.ThinClientFallback;
        var why = rule == Rules.PreferThinClient
            ? $"{user.Name} prefers thin-client mode"
            : $"{user.Vm} cannot run on {seat} ({rejected[0].Reason})";
        yield return new PlacementDecided(
            user.Name, decisionId, user.Vm, source, seat, PlacementMode.AttachDisplay, rule,
            $"{user.Name} sat down at {seat}; {why}, so {seat} shows it while it keeps running on {source}",
            evidenceIds, rejected, Duration.FromSeconds(2), policy.Version, now);
        yield return new DisplayAttachRequested(user.Name, decisionId, user.Vm, seat, displayUri, ids.Command("attach"), now);
    }

    /// <summary>Hard rules for running the VM on a host; null when the host passes all of them.</summary>
    private static RejectedAlternative? CheckIncoming(UserSpec user, string host, HostSpec? spec, HostFacts facts, int memoryMb)
    {
        if (!user.AllowedHosts.Contains(host))
        {
            return new(host, Rules.AllowedHosts, $"{host}: not among {user.Name}'s allowed hosts");
        }

        if (spec is not { CanRunVms: true })
        {
            return new(host, Rules.CanRunVms, $"{host}: configured not to run VMs");
        }

        if (!facts.AgentOnline)
        {
            return new(host, Rules.AgentOnline, $"{host}: agent is offline");
        }

        if (facts.MemoryFreeMb < memoryMb)
        {
            return new(host, Rules.FreeMemory, $"{host}: {Gib(facts.MemoryFreeMb)} free, needs {Gib(memoryMb, roundUp: true)}");
        }

        return null;
    }

    private static IEnumerable<object> OnAgentReport(UserSaga state, AgentReport report, HousePolicy policy, Ids ids, Instant now)
    {
        if (state.PendingDisplay is { } display && report.CommandId == display.CommandId && report.Host == display.Host)
        {
            if (report.State == ReportState.Completed)
            {
                yield return new DisplayAttached(state.Id, report.Vm, report.Host, report.At);
            }
            else if (report.State is ReportState.Failed or ReportState.Cancelled)
            {
                yield return new DisplayAttachFailed(state.Id, report.Vm, report.Host, report.Error ?? report.State.ToString().ToLowerInvariant(), report.At);
            }

            yield break;
        }

        // Reports for moves that are over, or for commands we never sent, change nothing: the saga decides
        // whether a late answer still matters.
        if (state.Migration is not { } m)
        {
            yield break;
        }

        if (report.CommandId == m.PrepareCommandId && report.Host == m.Target && m.Phase == Phases.Preparing)
        {
            switch (report.State)
            {
                case ReportState.Ready when report.IncomingUri is { } uri:
                    yield return new IncomingReady(state.Id, m.Id, m.Target, uri, report.At);
                    yield return new MigrationRequested(
                        state.Id, m.Id, m.Vm, m.Source, m.Target, uri, Bandwidth(policy, state.House, m.Source, m.Target),
                        policy.Migration.DowntimeLimitMs, ids.Command("migrate"), now);
                    break;
                case ReportState.Failed or ReportState.Cancelled:
                    yield return new MigrationFailed(
                        state.Id, m.Id, m.Vm, Phases.Preparing,
                        $"{m.Target} could not prepare to receive {m.Vm}: {report.Error ?? report.State.ToString().ToLowerInvariant()}",
                        m.Source, m.Target, ids.Command("abort"), now);
                    break;
            }

            yield break;
        }

        if (report.CommandId == m.MigrateCommandId && report.Host == m.Source && m.Phase == Phases.Migrating)
        {
            switch (report.State)
            {
                // Progress is recorded per whole percent so a chatty agent cannot flood the stream.
                case ReportState.Progress when report.Percent is { } percent && Math.Floor(percent) > Math.Floor(m.Percent ?? -1):
                    yield return new MigrationProgressed(
                        state.Id, m.Id, Math.Round(percent, 1), report.TransferredBytes, report.RemainingBytes,
                        report.DirtyPagesRate, report.Mbps, report.At);
                    break;
                case ReportState.Completed:
                    yield return new MigrationCompleted(
                        state.Id, m.Id, m.Vm, m.Source, m.Target, report.DowntimeMs, report.TotalTimeMs, report.At);
                    break;
                case ReportState.Failed or ReportState.Cancelled:
                    yield return new MigrationFailed(
                        state.Id, m.Id, m.Vm, Phases.Migrating,
                        $"{m.Source} could not send {m.Vm} to {m.Target}: {report.Error ?? report.State.ToString().ToLowerInvariant()}",
                        m.Source, m.Target, ids.Command("abort"), now);
                    break;
            }
        }
    }

    public static UserSaga Evolve(UserSaga state, object @event) => @event switch
    {
        UserEnrolled u => WithHouse(state with { Vm = u.Vm, VmHost = state.Vm == u.Vm ? state.VmHost : null }, state.House),
        HouseObserved h => WithHouse(state, new HouseSnapshot(h.Hosts)),
        SignalRecorded s => state with { LastEvidenceAt = s.Evidence.At },
        SeatChanged s => state with
        {
            Seat = s.Seat,
            SeatConfidence = s.Confidence,
            SeatEvidence = s.EvidenceIds,
            Since = s.At,
        },
        PlacementDecided d => state with
        {
            LastDecision = new LastDecision(d.DecisionId, d.Rule, d.Reason, d.At),
            Decisions = state.Decisions + 1,
        },
        MoveSuppressed s => state with { LastDecision = new LastDecision(s.DecisionId, s.Rule, s.Reason, s.At) },
        IncomingRequested r => state with
        {
            Migration = new PendingMigration(r.MigrationId, r.Vm, r.Source, r.Target, Phases.Preparing, r.CommandId, null, null, null, r.At),
            Since = r.At,
        },
        IncomingReady r when state.Migration is { } m => state with { Migration = m with { IncomingUri = r.IncomingUri } },
        MigrationRequested r when state.Migration is { } m => state with
        {
            Migration = m with { Phase = Phases.Migrating, MigrateCommandId = r.CommandId },
        },
        MigrationProgressed p when state.Migration is { } m => state with { Migration = m with { Percent = p.Percent } },
        // Confirmed at once when the last observed house already shows the VM there: that inventory will not be
        // observed again, so waiting for it would leave the location unconfirmed until the house next changes.
        MigrationCompleted c => state with
        {
            VmHost = c.Target, VmHostConfirmed = state.House.Host(c.Target).Runs(c.Vm), Migration = null, DisplayedOn = null, Since = c.At,
        },
        MigrationFailed f => state with
        {
            VmHost = f.StillOn, VmHostConfirmed = state.House.Host(f.StillOn).Runs(f.Vm), Migration = null, Since = f.At,
        },
        DisplayAttachRequested d => state with { PendingDisplay = new PendingDisplay(d.CommandId, d.Host) },
        DisplayAttached d => state with { DisplayedOn = d.Host, PendingDisplay = null, Since = d.At },
        DisplayAttachFailed => state with { PendingDisplay = null },
        _ => state,
    };

    /// <summary>
    /// Agents' inventories lag behind our own record of a finished move, so they only settle where the VM runs
    /// when we know nothing yet, or when the host we believe in stopped reporting it and exactly one other does.
    /// Right after a move the target must first confirm the VM before any inventory may say otherwise.
    /// </summary>
    private static UserSaga WithHouse(UserSaga state, HouseSnapshot house)
    {
        var next = state with { House = house };
        if (state.Vm is not { } vm || state.Migration is not null)
        {
            return next;
        }

        if (!state.VmHostConfirmed)
        {
            return state.VmHost is { } expected && house.Host(expected).Runs(vm) ? next with { VmHostConfirmed = true } : next;
        }

        var runningOn = house.Hosts.Where(h => h.Runs(vm)).Select(h => h.Name).ToList();
        if (runningOn.Count != 1)
        {
            return next;
        }

        var believed = state.VmHost is { } host ? house.Host(host) : null;
        var contradicted = believed is null || (believed.AgentOnline && !believed.Runs(vm));
        return contradicted ? next with { VmHost = runningOn[0] } : next;
    }

    /// <summary>The link rate an agent measured wins over the configured one; 1 Gbit/s when neither is known.</summary>
    private static int Bandwidth(HousePolicy policy, HouseSnapshot house, string source, string target) =>
        policy.Migration.BandwidthFor(
            house.Host(source).LinkMbps ?? policy.Host(source)?.LinkMbps ?? 1000,
            house.Host(target).LinkMbps ?? policy.Host(target)?.LinkMbps ?? 1000);

    /// <summary>Memory over bandwidth plus a fixed cost for setting up and switching over.</summary>
    public static Duration EstimateLiveMigration(int memoryMb, int bandwidthMbps) =>
        Duration.FromSeconds(2) + Duration.FromSeconds(memoryMb * 8.0 / Math.Max(1, bandwidthMbps));

    // Reasons are recorded and replayed, so their numbers are written the same whatever the server's culture.

    /// <summary>
    /// Memory in words, to a tenth of a GiB: rounded down, so free memory never reads as more than it is, or up for
    /// a need, so "7.9 GiB free, needs 8 GiB" can never read as "8 GiB free, needs 8 GiB".
    /// </summary>
    private static string Gib(int mb, bool roundUp = false)
    {
        if (mb < 1024)
        {
            return Invariant($"{mb} MiB");
        }

        var tenths = roundUp ? (mb * 10L + 1023) / 1024 : mb * 10L / 1024;
        return Invariant($"{tenths / 10.0:0.#} GiB");
    }

    private static string Seconds(Duration d) =>
        d.TotalSeconds < 90 ? Invariant($"{d.TotalSeconds:0} s") : Invariant($"{d.TotalMinutes:0.#} min");
}
