using static Presence.Domain.Signals.EvidenceDetails;

namespace Presence.Domain.Tests.Support;

/// <summary>One input to the decider, built against the scenario's current house, clock and a fresh seed.</summary>
public delegate UserInput Step(Scenario scenario);

/// <summary>Session evidence from alice at a host.</summary>
public static class Alice
{
    public static Step LogsInAt(string host) => Session(host, EvidenceDetails.Session.Login);

    public static Step UnlocksAt(string host) => Session(host, EvidenceDetails.Session.Unlock);

    public static Step IsActiveAt(string host) => Session(host, EvidenceDetails.Session.Active);

    public static Step LogsOutAt(string host) => Session(host, EvidenceDetails.Session.Logout);

    public static Step LocksAt(string host) => Session(host, EvidenceDetails.Session.Lock);

    public static Step LogsInRemotelyAt(string host) => Session(host, EvidenceDetails.Session.Login, EvidenceDetails.Session.Remote);

    public static Step Session(string host, string state, string seat = EvidenceDetails.Session.Console) => s =>
        new ObserveEvidence
        {
            User = TheHouse.AliceName,
            House = s.House,
            Seed = s.NextSeed(),
            Evidence = new Evidence(
                s.NextEvidenceId(), EvidenceKind.Session, host, TheHouse.AliceName,
                new Dictionary<string, string> { [EvidenceDetails.Session.State] = state, [EvidenceDetails.Session.Seat] = seat }, s.Now),
        };

    // --- what her computer notices: power, lid, Wi-Fi, idle ---

    public static Step Unplugs(string host) => Evidence(EvidenceKind.Power, host, (Power.Ac, Power.False));

    public static Step PlugsIn(string host) => Evidence(EvidenceKind.Power, host, (Power.Ac, Power.True));

    public static Step ClosesTheLidOf(string host) => Evidence(EvidenceKind.Lid, host, (Lid.State, Lid.Closed));

    public static Step OpensTheLidOf(string host) => Evidence(EvidenceKind.Lid, host, (Lid.State, Lid.Open));

    public static Step JoinsWifi(string host, string ssid) => Evidence(EvidenceKind.Wifi, host, (Wifi.State, Wifi.Connected), (Wifi.Ssid, ssid));

    public static Step LosesWifi(string host) => Evidence(EvidenceKind.Wifi, host, (Wifi.State, Wifi.Disconnected));

    public static Step IsIdleAt(string host, Duration idle) =>
        Evidence(EvidenceKind.Idle, host, (Idle.Seconds, ((long)idle.TotalSeconds).ToString(System.Globalization.CultureInfo.InvariantCulture)));

    // --- what she asks for (CONTRACT.md §2), as the server records it: on the target, else on her home host ---

    public static Step AsksToHold() => Asks(Request.Hold);

    public static Step AsksToRelease() => Asks(Request.Release);

    public static Step AsksToFollow() => Asks(Request.Follow);

    public static Step AsksToMoveTo(string target) => Asks(Request.Move, target: target);

    public static Step AsksForHome() => Asks(Request.Home);

    public static Step Approves(string decisionId) => Asks(Request.Approve, decisionId: decisionId);

    public static Step Declines(string decisionId) => Asks(Request.Decline, decisionId: decisionId);

    /// <summary>Sets her automation level while Presence runs: manual, recommend or automatic (or anything, to be refused).</summary>
    public static Step AsksForAutomation(string level) => Asks(Request.Automation, level: level);

    /// <summary>Approves the proposal that waits for her.</summary>
    public static Step ApprovesTheProposal() => s => Approves(WaitingProposal(s))(s);

    public static Step DeclinesTheProposal() => s => Declines(WaitingProposal(s))(s);

    public static Step Asks(string action, string? target = null, string? decisionId = null, string? level = null) => s =>
    {
        var details = new Dictionary<string, string> { [Request.Action] = action };
        if (level is not null)
        {
            details[Request.Level] = level;
        }

        if (target is not null)
        {
            details[Request.Target] = target;
        }

        if (decisionId is not null)
        {
            details[Request.DecisionId] = decisionId;
        }

        var home = s.Policy.User(TheHouse.AliceName)!.HomeHost;
        return new ObserveEvidence
        {
            User = TheHouse.AliceName,
            House = s.House,
            Seed = s.NextSeed(),
            Evidence = new Evidence(s.NextEvidenceId(), EvidenceKind.Request, target ?? home, TheHouse.AliceName, details, s.Now),
        };
    };

    private static string WaitingProposal(Scenario s) =>
        s.State?.Proposal?.DecisionId ?? throw new InvalidOperationException("no proposal is waiting");

    public static Step Evidence(EvidenceKind kind, string host, params (string Key, string Value)[] details) => s =>
        new ObserveEvidence
        {
            User = TheHouse.AliceName,
            House = s.House,
            Seed = s.NextSeed(),
            Evidence = new Evidence(s.NextEvidenceId(), kind, host, TheHouse.AliceName, details.ToDictionary(d => d.Key, d => d.Value), s.Now),
        };
}

/// <summary>A settling wait (SettlingStarted) runs out: the server's scheduled message arrives.</summary>
public static class TheWait
{
    /// <summary>The wait the saga holds now.</summary>
    public static Step RunsOut() => s =>
        RunsOut(s.State?.Settling?.SettleId ?? throw new InvalidOperationException("no settling wait"))(s);

    /// <summary>The wait runs out when it is due: never before (the decider ignores a wait that is early).</summary>
    public static Step RunsOut(string settleId) => s =>
    {
        if (s.State?.Settling is { } settling && settling.SettleId == settleId && s.Now < settling.DueAt)
        {
            s.At(settling.DueAt);
        }

        return new Settle { User = TheHouse.AliceName, House = s.House, Seed = s.NextSeed(), SettleId = settleId };
    };
}

/// <summary>
/// Something about a host changed and the server tells alice's saga: the step changes the scenario's house first,
/// as the host's stream would, then hands the decider the change with the new house.
/// </summary>
public static class TheHost
{
    public static Step Changed(string host, Func<HouseSnapshot, HouseSnapshot>? change = null) => s =>
    {
        if (change is not null)
        {
            s.WithHouse(change);
        }

        return new ObserveHostChange { User = TheHouse.AliceName, House = s.House, Seed = s.NextSeed(), Host = host };
    };

    public static Step GoesIntoMaintenance(string host) => Changed(host, h => h.InMaintenance(host));

    public static Step LeavesMaintenance(string host) => Changed(host, h => h.InMaintenance(host, on: false));

    public static Step AgentGoesOffline(string host) => Changed(host, h => h.Offline(host));

    public static Step AgentComesOnline(string host) => Changed(host, h => h.Online(host));
}

/// <summary>Agents answering commands. The short forms answer the command the saga is waiting for, from the right host.</summary>
public static class Agent
{
    public const string IncomingUri = "tcp:imac:49152";

    public static Step Reports(string host, string commandId, ReportState state, Func<AgentReport, AgentReport>? with = null) => s =>
        new ObserveAgentReport
        {
            User = TheHouse.AliceName,
            House = s.House,
            Seed = s.NextSeed(),
            Report = (with ?? (r => r))(new AgentReport(host, commandId, TheHouse.Vm, state, s.Now)),
        };

    // --- phase 1: the target prepares ---

    public static Step TargetIsReady(string uri = IncomingUri) => s =>
        Reports(s.Pending.Target, s.Pending.PrepareCommandId, ReportState.Ready, r => r with { IncomingUri = uri })(s);

    public static Step TargetReports(ReportState state, string? error = null) => s =>
        Reports(s.Pending.Target, s.Pending.PrepareCommandId, state, r => r with { Error = error })(s);

    // --- phase 2: the source sends ---

    public static Step SourceReports(ReportState state, Func<AgentReport, AgentReport>? with = null) => s =>
        Reports(s.Pending.Source, s.Pending.MigrateCommandId ?? throw new InvalidOperationException("no migrate command yet"), state, with)(s);

    /// <summary>Progress as QEMU reports it: total and remaining bytes.</summary>
    public static Step SourceProgress(long totalBytes, long remainingBytes) =>
        SourceReports(ReportState.Progress, r => r with { TotalBytes = totalBytes, RemainingBytes = remainingBytes, TransferredBytes = totalBytes - remainingBytes });

    public static Step SourceCompletes(long downtimeMs = 120, long totalTimeMs = 9000) =>
        SourceReports(ReportState.Completed, r => r with { DowntimeMs = downtimeMs, TotalTimeMs = totalTimeMs });

    public static Step SourceFails(string error) => SourceReports(ReportState.Failed, r => r with { Error = error });

    // --- freezing and waking (suspend / resume) ---

    /// <summary>The host freezing or waking the VM answers the command the saga waits for.</summary>
    public static Step OperationReports(ReportState state, string? error = null) => s =>
    {
        var op = s.State?.Operation ?? throw new InvalidOperationException("no suspend or resume in flight");
        return Reports(op.Host, op.CommandId, state, r => r with { Error = error })(s);
    };

    // --- the seat shows the VM ---

    public static Step SeatReports(ReportState state, string? error = null) => s =>
    {
        var display = s.State?.PendingDisplay ?? throw new InvalidOperationException("no display attach pending");
        return Reports(display.Host, display.CommandId, state, r => r with { Error = error })(s);
    };
}

/// <summary>A phase's timeout (PhaseTimeoutScheduled) runs out: the server's scheduled message arrives.</summary>
public static class TheTimeout
{
    /// <summary>The timeout the saga scheduled last.</summary>
    public static Step RunsOut() => s =>
    {
        var timeout = s.State?.Timeout ?? throw new InvalidOperationException("no phase timeout scheduled");
        return RunsOut(timeout.MoveId, timeout.Phase)(s);
    };

    /// <summary>The timeout runs out when it is due: never before (the decider ignores a timeout that is early).</summary>
    public static Step RunsOut(string moveId, string phase) => s =>
    {
        if (s.State?.Timeout is { } timeout && timeout.MoveId == moveId && timeout.Phase == phase && s.Now < timeout.DueAt)
        {
            s.At(timeout.DueAt);
        }

        return new CheckTimeout { User = TheHouse.AliceName, House = s.House, Seed = s.NextSeed(), MoveId = moveId, Phase = phase };
    };
}
