using System.Text.Json;
using Microsoft.Extensions.Logging;
using NodaTime;
using Presence.Agent.Configuration;
using Presence.Contracts.Agents;
using Presence.Contracts.Wire;

namespace Presence.Agent.Whereabouts;

/// <summary>Where a VM of this host went last: here, or away (to a host, or into a saved-state file).</summary>
/// <param name="Here">True when the VM arrived here (a migration or a resume), false when it left.</param>
/// <param name="How"><c>migrated</c>, <c>suspended</c>, <c>arrived</c>, or <c>sent away while the agent was away</c>.</param>
/// <param name="To">Where it went: the target host, or the saved-state file; null when it is here or not known.</param>
internal sealed record VmWhereabout(string Vm, bool Here, string How, string? To, int MemoryMb, Instant At);

/// <summary>
/// Where this host's VMs went since its configuration was written, in <c>whereabouts.json</c> in the state
/// directory. <c>Agent:Vms</c> says where VMs were when the house was set up; a migration or a suspend moves a
/// VM away and the source's qemu quits, so an agent starting again from its configuration alone would boot a VM
/// that runs elsewhere now: the same desktop twice on one disk. This record wins over the configuration at start
/// (<see cref="Apply"/>): a VM that left is absent, one that arrived runs (or is adopted). It is kept apart from
/// the command journal because the journal forgets old commands, and a VM may stay away for months.
/// <para>
/// Departures are written when a <c>migrate</c> or <c>suspend</c> completes, and when the agent finds at start that
/// its qemu sent the VM away while the agent was dead; arrivals when the hypervisor reports a VM running here that
/// the record or the configuration does not expect (<see cref="Observe"/>). Deleting the file returns the host to
/// its configuration.
/// </para>
/// </summary>
internal sealed class VmWhereabouts(string directory, IClock clock, ILogger logger)
{
    private const string FileName = "whereabouts.json";

    private readonly Lock gate = new();
    private readonly Dictionary<string, VmWhereabout> records = new(StringComparer.Ordinal);

    public string FilePath { get; } = Path.Combine(directory, FileName);

    /// <summary>Reads what earlier runs recorded; an unreadable file is moved aside (the configuration then rules).</summary>
    public void Load()
    {
        lock (gate)
        {
            Directory.CreateDirectory(directory);
            if (!File.Exists(FilePath))
            {
                return;
            }

            try
            {
                foreach (var record in JsonSerializer.Deserialize<WhereaboutsFile>(File.ReadAllBytes(FilePath), ContractJson.Options)?.Vms ?? [])
                {
                    records[record.Vm] = record;
                }
            }
            catch (JsonException e)
            {
                // Refusing to start would keep every VM of this host down; the configuration is the next best guess.
                var aside = $"{FilePath}.unreadable-{clock.GetCurrentInstant().ToUnixTimeSeconds()}";
                File.Move(FilePath, aside);
                records.Clear();
                logger.LogError("VM whereabouts {Path} are unreadable ({Reason}); moved to {Aside}, starting from the configuration",
                    FilePath, e.Message, aside);
            }
        }
    }

    public VmWhereabout? Of(string vm)
    {
        lock (gate)
        {
            return records.GetValueOrDefault(vm);
        }
    }

    /// <summary>
    /// The options a hypervisor starts from: <paramref name="configured"/>, with each VM where it last went. A VM
    /// that left is <c>absent</c>; one that arrived is <c>running</c>. An arrival the configuration does not list is
    /// added only for the simulated hypervisor: qemu needs the VM's devices from <c>Agent:Vms</c> (and receives
    /// no VM not listed there), and libvirt keeps its own definitions.
    /// </summary>
    public AgentOptions Apply(AgentOptions configured)
    {
        lock (gate)
        {
            if (records.Count == 0)
            {
                return configured;
            }

            var vms = new List<VmOptions>();
            foreach (var vm in configured.Vms)
            {
                var state = records.GetValueOrDefault(vm.Name) switch
                {
                    { Here: false } => "absent",
                    { Here: true } => "running",
                    null => vm.State,
                };
                if (state != vm.State)
                {
                    logger.LogInformation("{Vm} is {State} here, not {Configured} as configured: {Record}",
                        vm.Name, state, vm.State, Describe(records[vm.Name]));
                }

                vms.Add(vm.With(state));
            }

            if (configured.Hypervisor == "simulated")
            {
                foreach (var arrived in records.Values.Where(r => r.Here && configured.Vms.All(v => v.Name != r.Vm)))
                {
                    logger.LogInformation("{Vm} arrived here and is not configured; it runs here: {Record}", arrived.Vm, Describe(arrived));
                    vms.Add(new VmOptions { Name = arrived.Vm, MemoryMb = arrived.MemoryMb, State = "running" });
                }
            }

            return configured.WithVms(vms);
        }
    }

    /// <summary>The VM is no longer on this host.</summary>
    public void Left(string vm, string how, string? to, int memoryMb) =>
        Record(new VmWhereabout(vm, Here: false, how, to, memoryMb, clock.GetCurrentInstant()));

    /// <summary>
    /// What the hypervisor reports now: a VM running (or paused) here that the record says left, or that neither
    /// the record nor <paramref name="configured"/> expects to run here, has arrived. The list is taken under the
    /// record's lock, so a picture from before a departure cannot be compared with the record after it.
    /// </summary>
    public void Observe(Func<IReadOnlyList<VmInventory>> list, AgentOptions configured)
    {
        lock (gate)
        {
            foreach (var vm in list().Where(v => v.State is VmState.Running or VmState.Paused))
            {
                var expected = records.TryGetValue(vm.Name, out var record)
                    ? record.Here
                    : configured.Vms.Any(c => c.Name == vm.Name && c.State == "running");
                if (!expected)
                {
                    Record(new VmWhereabout(vm.Name, Here: true, "arrived", null, vm.MemoryMb, clock.GetCurrentInstant()));
                }
            }
        }
    }

    private void Record(VmWhereabout record)
    {
        lock (gate)
        {
            records[record.Vm] = record;
            try
            {
                Save();
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Still right for this run; only a restart would start from an older picture.
                logger.LogError("Cannot write VM whereabouts {Path}: {Reason}", FilePath, e.Message);
            }
        }

        logger.LogInformation("{Vm}: {Record}", record.Vm, Describe(record));
    }

    private void Save()
    {
        Directory.CreateDirectory(directory);
        var file = new WhereaboutsFile(records.Values.OrderBy(r => r.Vm, StringComparer.Ordinal).ToList());
        var temporary = FilePath + ".tmp";
        File.WriteAllBytes(temporary, JsonSerializer.SerializeToUtf8Bytes(file, ContractJson.Options));
        File.Move(temporary, FilePath, overwrite: true);
    }

    private static string Describe(VmWhereabout r) =>
        r.Here ? $"{r.How} here at {r.At}" : $"left ({r.How}{(r.To is null ? "" : $" to {r.To}")}) at {r.At}";

    private sealed record WhereaboutsFile(List<VmWhereabout> Vms);
}
