using System.Text.Json.Serialization;
using NodaTime;
using Presence.Contracts.Wire;

namespace Presence.Contracts.Agents;

public enum AgentState { Online, Offline }

public enum Hypervisor { Qemu, Libvirt, Simulated }

public enum VmState { Running, Paused, Suspended, Incoming, Stopped }

/// <summary>`presence/agents/{host}/status`, retained, and the agent's last will.</summary>
public sealed record AgentStatus
{
    [JsonIgnore] public string Host { get; init; } = "";
    public required AgentState State { get; init; }
    public string? AgentVersion { get; init; }
    public Hypervisor? Hypervisor { get; init; }
    public string? Id { get; init; }
    public Instant? At { get; init; }

    public static AgentStatus Parse(string host, ReadOnlySpan<byte> payload)
    {
        var p = PayloadReader.Open(payload);
        return new AgentStatus
        {
            Host = host,
            State = p.RequiredEnum<AgentState>("state"),
            AgentVersion = p.OptionalString("agent_version", 64),
            Hypervisor = p.OptionalEnum<Hypervisor>("hypervisor"),
            Id = p.Id(),
            At = p.At(),
        };
    }
}

public sealed record VmInventory
{
    public required string Name { get; init; }
    public required VmState State { get; init; }
    public required int MemoryMb { get; init; }
    public string? DisplayUri { get; init; }
}

/// <summary>`presence/agents/{host}/inventory`, retained: what this computer has and runs.</summary>
public sealed record AgentInventory
{
    [JsonIgnore] public string Host { get; init; } = "";
    public required int Cpus { get; init; }
    public required int MemoryMb { get; init; }
    public required int MemoryFreeMb { get; init; }
    public bool OnBattery { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public int? BatteryPercent { get; init; }

    public int? LinkMbps { get; init; }
    public IReadOnlyList<VmInventory> Vms { get; init; } = [];
    public string? Id { get; init; }
    public Instant? At { get; init; }

    public static AgentInventory Parse(string host, ReadOnlySpan<byte> payload)
    {
        var p = PayloadReader.Open(payload);
        var vms = p.ObjectArray("vms").Select((vm, i) => new VmInventory
        {
            Name = vm.RequiredName("name"),
            State = vm.RequiredEnum<VmState>("state"),
            MemoryMb = vm.RequiredInt("memory_mb", 0),
            DisplayUri = vm.OptionalString("display_uri", 512),
        }).ToList();
        return new AgentInventory
        {
            Host = host,
            Cpus = p.RequiredInt("cpus", 1, 4096),
            MemoryMb = p.RequiredInt("memory_mb", 0),
            MemoryFreeMb = p.RequiredInt("memory_free_mb", 0),
            OnBattery = p.OptionalBool("on_battery") ?? false,
            BatteryPercent = p.OptionalInt("battery_percent", 0, 100),
            LinkMbps = p.OptionalInt("link_mbps", 0),
            Vms = vms,
            Id = p.Id(),
            At = p.At(),
        };
    }
}

public enum CommandType
{
    PrepareIncoming,
    Migrate,
    AbortIncoming,
    Cancel,
    Suspend,
    Resume,
    AttachDisplay,
    DetachDisplay,
}

public enum MigrationMode { Live }

/// <summary>`presence/agents/{host}/commands`: server → agent, never retained. Idempotent by <see cref="CommandId"/>.</summary>
public sealed record AgentCommand
{
    public required string CommandId { get; init; }
    public required CommandType Type { get; init; }
    public required string Vm { get; init; }
    public int? MemoryMb { get; init; }

    /// <summary>Reference to the VM definition the target needs to start an incoming instance.</summary>
    public string? Definition { get; init; }

    public string? TargetHost { get; init; }
    public string? TargetUri { get; init; }
    public MigrationMode? Mode { get; init; }
    public int? MaxBandwidthMbps { get; init; }
    public int? DowntimeLimitMs { get; init; }
    public string? Of { get; init; }
    public string? To { get; init; }
    public string? From { get; init; }
    public string? DisplayUri { get; init; }

    /// <summary>
    /// An addition to CONTRACT.md §3: hold a sleep inhibitor (logind) on this host until the command's migration
    /// has finished, so a laptop whose lid is closing stays awake until the VM has landed on it.
    /// </summary>
    public bool? InhibitSleep { get; init; }

    public static AgentCommand Parse(ReadOnlySpan<byte> payload)
    {
        var p = PayloadReader.Open(payload);
        var type = p.RequiredEnum<CommandType>("type");
        return new AgentCommand
        {
            CommandId = p.RequiredString("command_id", 64),
            Type = type,
            Vm = p.RequiredName("vm"),
            MemoryMb = p.OptionalInt("memory_mb", 0),
            Definition = p.OptionalString("definition", 512),
            TargetHost = type == CommandType.Migrate ? p.RequiredName("target_host") : p.OptionalName("target_host"),
            TargetUri = type == CommandType.Migrate ? p.RequiredString("target_uri", 512) : p.OptionalString("target_uri", 512),
            Mode = p.OptionalEnum<MigrationMode>("mode"),
            MaxBandwidthMbps = p.OptionalInt("max_bandwidth_mbps", 1),
            DowntimeLimitMs = p.OptionalInt("downtime_limit_ms", 1),
            Of = type == CommandType.Cancel ? p.RequiredString("of", 64) : p.OptionalString("of", 64),
            To = p.OptionalString("to", 1024),
            From = p.OptionalString("from", 1024),
            DisplayUri = type == CommandType.AttachDisplay ? p.RequiredString("display_uri", 512) : p.OptionalString("display_uri", 512),
            InhibitSleep = p.OptionalBool("inhibit_sleep"),
        };
    }
}

public enum AgentEventState { Accepted, Ready, Progress, Completed, Failed, Cancelled }

public sealed record MigrationProgress
{
    public long? TotalBytes { get; init; }
    public long? TransferredBytes { get; init; }
    public long? RemainingBytes { get; init; }
    public long? DirtyPagesRate { get; init; }
    public double? Mbps { get; init; }

    /// <summary>0–100 from transferred/total; null when the agent could not tell.</summary>
    [JsonIgnore]
    public double? Percent => TotalBytes is > 0 && RemainingBytes is { } remaining
        ? Math.Clamp(100.0 * (TotalBytes.Value - remaining) / TotalBytes.Value, 0, 100)
        : TotalBytes is > 0 && TransferredBytes is { } sent ? Math.Clamp(100.0 * sent / TotalBytes.Value, 0, 100) : null;
}

/// <summary>`presence/agents/{host}/events`: how a command went.</summary>
public sealed record AgentEvent
{
    [JsonIgnore] public string Host { get; init; } = "";
    public required string CommandId { get; init; }
    public required string Vm { get; init; }
    public required AgentEventState State { get; init; }
    public string? IncomingUri { get; init; }
    public MigrationProgress? Progress { get; init; }
    public long? DowntimeMs { get; init; }
    public long? TotalTimeMs { get; init; }
    public string? Error { get; init; }
    public string? Id { get; init; }
    public Instant? At { get; init; }

    public static AgentEvent Parse(string host, ReadOnlySpan<byte> payload)
    {
        var p = PayloadReader.Open(payload);
        var state = p.RequiredEnum<AgentEventState>("state");
        var progress = p.OptionalObject("progress") is { } pr
            ? new MigrationProgress
            {
                TotalBytes = pr.OptionalLong("total_bytes", 0),
                TransferredBytes = pr.OptionalLong("transferred_bytes", 0),
                RemainingBytes = pr.OptionalLong("remaining_bytes", 0),
                DirtyPagesRate = pr.OptionalLong("dirty_pages_rate", 0),
                Mbps = pr.OptionalDouble("mbps", 0),
            }
            : null;
        return new AgentEvent
        {
            Host = host,
            CommandId = p.RequiredString("command_id", 64),
            Vm = p.RequiredName("vm"),
            State = state,
            IncomingUri = state == AgentEventState.Ready ? p.RequiredString("incoming_uri", 512) : p.OptionalString("incoming_uri", 512),
            Progress = progress,
            DowntimeMs = p.OptionalLong("downtime_ms", 0),
            TotalTimeMs = p.OptionalLong("total_time_ms", 0),
            Error = p.OptionalString("error", 2048),
            Id = p.Id(),
            At = p.At(),
        };
    }
}
