namespace Presence.Domain.Tests.Support;

/// <summary>One input to the decider, built against the scenario's current house, clock and a fresh seed.</summary>
public delegate UserInput Step(Scenario scenario);

/// <summary>Session evidence from alice at a host.</summary>
public static class Alice
{
    public static Step LogsInAt(string host) => Session(host, "login");

    public static Step UnlocksAt(string host) => Session(host, "unlock");

    public static Step IsActiveAt(string host) => Session(host, "active");

    public static Step LogsOutAt(string host) => Session(host, "logout");

    public static Step LocksAt(string host) => Session(host, "lock");

    public static Step LogsInRemotelyAt(string host) => Session(host, "login", "remote");

    public static Step Session(string host, string state, string seat = "console") => s =>
        new ObserveEvidence
        {
            User = TheHouse.AliceName,
            House = s.House,
            Seed = s.NextSeed(),
            Evidence = new Evidence(
                s.NextEvidenceId(), EvidenceKind.Session, host, TheHouse.AliceName,
                new Dictionary<string, string> { ["state"] = state, ["seat"] = seat }, s.Now),
        };

    public static Step Evidence(EvidenceKind kind, string host, params (string Key, string Value)[] details) => s =>
        new ObserveEvidence
        {
            User = TheHouse.AliceName,
            House = s.House,
            Seed = s.NextSeed(),
            Evidence = new Evidence(s.NextEvidenceId(), kind, host, TheHouse.AliceName, details.ToDictionary(d => d.Key, d => d.Value), s.Now),
        };
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

    // --- the seat shows the VM ---

    public static Step SeatReports(ReportState state, string? error = null) => s =>
    {
        var display = s.State?.PendingDisplay ?? throw new InvalidOperationException("no display attach pending");
        return Reports(display.Host, display.CommandId, state, r => r with { Error = error })(s);
    };
}
