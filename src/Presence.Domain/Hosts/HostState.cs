using Presence.Domain.Audit;
using NodaTime;
using Presence.Domain.House;

namespace Presence.Domain.Hosts;

/// <summary>A host's agent said it came online or went away (its status message or its last will).</summary>
public sealed record AgentStatusReported(string Host, bool Online, string? AgentVersion, string? Hypervisor, Instant At) : IDomainEvent;

/// <summary>A host's agent reported what it has and runs.</summary>
public sealed record InventoryReported(
    string Host,
    int Cpus,
    int MemoryMb,
    int MemoryFreeMb,
    int? LinkMbps,
    bool OnBattery,
    int? BatteryPercent,
    IReadOnlyList<VmFact> Vms,
    Instant At) : IDomainEvent;

/// <summary>A computer observed something about itself that is not about one user (lid, Wi-Fi, power).</summary>
public sealed record HostSignalRecorded(string Host, Presence.Domain.Signals.Evidence Evidence, Instant At) : IDomainEvent;

/// <summary>Someone put the host into maintenance (evacuate, keep new VMs off) or took it out.</summary>
public sealed record MaintenanceSwitched(string Host, bool On, string? Reason, Instant At) : IDomainEvent;

/// <summary>
/// Current facts about one host: the state of the `host:{name}` stream. Kept as an inline projection so each
/// decision can read the whole house in one query.
/// </summary>
public sealed record HostState
{
    public const string StreamPrefix = "host:";

    public static string StreamId(string host) => StreamPrefix + host;

    /// <summary>Every event a host's stream can hold.</summary>
    public static IReadOnlyList<Type> EventTypes { get; } =
        [typeof(AgentStatusReported), typeof(InventoryReported), typeof(HostSignalRecorded), typeof(MaintenanceSwitched)];

    public required string Id { get; init; }
    public required string Name { get; init; }
    public bool AgentOnline { get; init; }
    public string? AgentVersion { get; init; }
    public string? Hypervisor { get; init; }
    public int Cpus { get; init; }
    public int MemoryMb { get; init; }
    public int MemoryFreeMb { get; init; }
    public int? LinkMbps { get; init; }
    public bool OnBattery { get; init; }
    public int? BatteryPercent { get; init; }
    public IReadOnlyList<VmFact> Vms { get; init; } = [];
    public Instant? LastReportAt { get; init; }

    /// <summary>Since when the agent has been as <see cref="AgentOnline"/> says (its last change of word), for /health.</summary>
    public Instant? AgentSince { get; init; }
    public bool InMaintenance { get; init; }
    public string? MaintenanceReason { get; init; }

    public static HostState Evolve(HostState? state, object @event) => @event switch
    {
        AgentStatusReported s => (state ?? New(s.Host)) with
        {
            AgentOnline = s.Online,
            // A repeated "online" (a reconnect) keeps the time it first came online.
            AgentSince = state is { AgentSince: { } since } && state.AgentOnline == s.Online ? since : s.At,
            AgentVersion = s.AgentVersion ?? state?.AgentVersion,
            Hypervisor = s.Hypervisor ?? state?.Hypervisor,
            LastReportAt = s.At,
        },
        InventoryReported i => (state ?? New(i.Host)) with
        {
            Cpus = i.Cpus,
            MemoryMb = i.MemoryMb,
            MemoryFreeMb = i.MemoryFreeMb,
            LinkMbps = i.LinkMbps,
            OnBattery = i.OnBattery,
            BatteryPercent = i.BatteryPercent,
            Vms = i.Vms,
            LastReportAt = i.At,
        },
        HostSignalRecorded => state ?? New(((HostSignalRecorded)@event).Host),
        MaintenanceSwitched m => (state ?? New(m.Host)) with { InMaintenance = m.On, MaintenanceReason = m.On ? m.Reason : null },
        _ => state ?? throw new InvalidOperationException($"host stream cannot start with {@event.GetType().Name}"),
    };

    public HostFacts ToFacts() =>
        new(Name, AgentOnline, MemoryMb, MemoryFreeMb, LinkMbps, OnBattery, BatteryPercent, Vms, InMaintenance);

    private static HostState New(string name) => new() { Id = StreamId(name), Name = name };
}
