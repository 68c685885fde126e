using System.Globalization;
using System.Text.RegularExpressions;
using Presence.Contracts.Agents;

namespace Presence.Agent.Hypervisors.Libvirt;

/// <summary>One row of <c>virsh list --all</c>.</summary>
internal sealed record VirshDomain(string Name, string State);

/// <summary>
/// What <c>virsh domjobinfo</c> says about a running job. Null fields were not in the output: older libvirt
/// has no dirty rate, and a job that has just started has no totals yet.
/// </summary>
internal sealed record VirshJobInfo(
    string JobType,
    long? DataTotal,
    long? DataProcessed,
    long? DataRemaining,
    double? MemoryBytesPerSecond,
    long? DirtyPagesPerSecond,
    long? ExpectedDowntimeMs,
    long? TimeElapsedMs)
{
    /// <summary>No job (type None) or the job has ended: nothing is migrating.</summary>
    public bool Active => JobType is "Unbounded" or "Bounded";

    public MigrationProgress ToProgress() => new()
    {
        TotalBytes = DataTotal,
        TransferredBytes = DataProcessed,
        RemainingBytes = DataRemaining,
        DirtyPagesRate = DirtyPagesPerSecond,
        Mbps = MemoryBytesPerSecond is { } bps ? Math.Round(bps * 8 / 1_000_000, 1) : null,
    };
}

/// <summary>
/// Reads virsh's human output. The agent runs virsh with <c>LC_ALL=C</c>, so labels are English; the column
/// widths differ between libvirt versions, so everything is split on the first colon or on runs of spaces.
/// </summary>
internal static partial class VirshOutput
{
    // virsh's words for virDomainState, as `virsh list` prints them.
    private static readonly string[] States =
        ["running", "idle", "paused", "in shutdown", "shut off", "crashed", "pmsuspended", "blocked", "no state", "dying"];

    /// <summary>
    /// <code>
    ///  Id   Name            State
    /// ---------------------------------
    ///  1    alice-desktop   running
    ///  -    bob-desktop     shut off
    /// </code>
    /// </summary>
    public static IReadOnlyList<VirshDomain> ParseList(string output)
    {
        var domains = new List<VirshDomain>();
        foreach (var raw in Lines(output))
        {
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith("Id ", StringComparison.Ordinal) || line.StartsWith("---", StringComparison.Ordinal))
            {
                continue;
            }

            // Old virsh pads the name to 30 characters with a single space after it, newer virsh to the longest
            // name plus three; a state ("shut off") may hold a space. So: the id, then a known state at the end.
            var space = line.IndexOf(' ');
            if (space < 0)
            {
                continue;
            }

            var rest = line[(space + 1)..].Trim();
            var state = States.FirstOrDefault(s => rest.EndsWith(" " + s, StringComparison.Ordinal));
            if (state is not null)
            {
                domains.Add(new VirshDomain(rest[..^state.Length].Trim(), state));
            }
        }

        return domains;
    }

    /// <summary>libvirt's domain states (virsh's words for virDomainState) in the contract's terms.</summary>
    public static VmState ToVmState(string virshState) => virshState switch
    {
        "running" or "idle" or "blocked" or "in shutdown" or "no state" => VmState.Running,
        "paused" => VmState.Paused,
        "pmsuspended" => VmState.Suspended,
        _ => VmState.Stopped,
    };

    /// <summary>Key/value lines such as <c>Max memory:     8388608 KiB</c>; later keys win.</summary>
    public static IReadOnlyDictionary<string, string> ParseFields(string output)
    {
        var fields = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var line in Lines(output))
        {
            var colon = line.IndexOf(':');
            if (colon > 0)
            {
                fields[line[..colon].Trim()] = line[(colon + 1)..].Trim();
            }
        }

        return fields;
    }

    /// <summary>The VM's memory from <c>virsh dominfo</c>: its maximum, which is what it can grow to on a host.</summary>
    public static int? ParseDominfoMemoryMb(string output)
    {
        var fields = ParseFields(output);
        var value = fields.GetValueOrDefault("Max memory") ?? fields.GetValueOrDefault("Used memory");
        return value is not null && ParseQuantity(value) is { } bytes ? (int)(bytes / (1024 * 1024)) : null;
    }

    /// <summary>
    /// <c>virsh domjobinfo</c> in either shape: the human one (<c>Data processed:   575.114 MiB</c>, with
    /// <c>Operation</c>, <c>Memory bandwidth</c> and <c>Dirty rate</c> only in newer libvirt) or the raw one of
    /// <c>--rawstats</c> (<c>data_processed: 603044851</c>, bytes and milliseconds without units).
    /// </summary>
    public static VirshJobInfo ParseJobInfo(string output)
    {
        var f = ParseFields(output);

        long? Bytes(string human, string raw) =>
            f.TryGetValue(raw, out var r) && long.TryParse(r, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n
            : f.TryGetValue(human, out var h) ? ParseQuantity(h) : null;

        long? Number(string human, string raw) =>
            f.TryGetValue(raw, out var r) && long.TryParse(r, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n
            : f.TryGetValue(human, out var h) && LeadingNumber(h) is { } d ? (long)d : null;

        double? bandwidth = f.TryGetValue("memory_bps", out var rawBps) && double.TryParse(rawBps, NumberStyles.Float, CultureInfo.InvariantCulture, out var bps)
            ? bps
            : f.TryGetValue("Memory bandwidth", out var human) && ParseQuantity(human.Replace("/s", "", StringComparison.Ordinal)) is { } perSecond
                ? perSecond
                : null;

        return new VirshJobInfo(
            JobType: f.GetValueOrDefault("Job type") ?? "None",
            DataTotal: Bytes("Data total", "data_total") ?? Bytes("Memory total", "memory_total"),
            DataProcessed: Bytes("Data processed", "data_processed") ?? Bytes("Memory processed", "memory_processed"),
            DataRemaining: Bytes("Data remaining", "data_remaining") ?? Bytes("Memory remaining", "memory_remaining"),
            MemoryBytesPerSecond: bandwidth,
            DirtyPagesPerSecond: Number("Dirty rate", "memory_dirty_rate"),
            ExpectedDowntimeMs: Number("Expected downtime", "downtime"),
            TimeElapsedMs: Number("Time elapsed", "time_elapsed"));
    }

    /// <summary><c>1.404 GiB</c>, <c>8388608 KiB</c>, <c>42 bytes</c> → bytes.</summary>
    public static long? ParseQuantity(string text)
    {
        var match = Quantity().Match(text.Trim());
        if (!match.Success || !double.TryParse(match.Groups["n"].Value, NumberStyles.Float, CultureInfo.InvariantCulture, out var n))
        {
            return null;
        }

        var scale = match.Groups["unit"].Value.ToUpperInvariant() switch
        {
            "" or "B" or "BYTES" => 1L,
            "KIB" or "K" or "KB" => 1L << 10,
            "MIB" or "M" or "MB" => 1L << 20,
            "GIB" or "G" or "GB" => 1L << 30,
            "TIB" or "T" or "TB" => 1L << 40,
            _ => 0L,
        };
        return scale == 0 ? null : (long)Math.Round(n * scale);
    }

    private static double? LeadingNumber(string text)
    {
        var match = Quantity().Match(text.Trim());
        return match.Success && double.TryParse(match.Groups["n"].Value, NumberStyles.Float, CultureInfo.InvariantCulture, out var n) ? n : null;
    }

    private static IEnumerable<string> Lines(string output) => output.Split('\n').Select(l => l.TrimEnd('\r'));

    [GeneratedRegex(@"^(?<n>[0-9]+(\.[0-9]+)?)\s*(?<unit>[A-Za-z]*)")]
    private static partial Regex Quantity();
}
