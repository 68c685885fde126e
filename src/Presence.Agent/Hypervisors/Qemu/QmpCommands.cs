using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace Presence.Agent.Hypervisors.Qemu;

/// <summary>
/// The QMP commands the driver uses, typed: each method is one command as QEMU names it, so the driver reads as
/// what it asks qemu to do and the JSON shapes live here. <see cref="QmpClient.ExecuteAsync(string, object?, CancellationToken)"/>
/// stays for anything else (tests ask <c>human-monitor-command</c>).
/// </summary>
internal static class QmpCommands
{
    /// <summary>How long a best-effort command may take before it is given up on.</summary>
    private static readonly TimeSpan BestEffortTimeout = TimeSpan.FromSeconds(5);

    /// <summary>QMP's spelling: <c>max-bandwidth</c>, and an argument left out rather than sent as null.</summary>
    private static readonly JsonSerializerOptions Arguments = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.KebabCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary><c>query-status</c>: running, paused, postmigrate, inmigrate…</summary>
    public static async Task<string?> QueryStatusAsync(this QmpClient qmp, CancellationToken cancellationToken) =>
        (string?)(await qmp.ExecuteAsync("query-status", cancellationToken))?["status"];

    /// <summary><c>stop</c>: pauses the guest.</summary>
    public static Task StopAsync(this QmpClient qmp, CancellationToken cancellationToken) => qmp.ExecuteAsync("stop", cancellationToken);

    /// <summary><c>cont</c>: lets a paused guest run on.</summary>
    public static Task ContAsync(this QmpClient qmp, CancellationToken cancellationToken) => qmp.ExecuteAsync("cont", cancellationToken);

    /// <summary><c>quit</c>: ends qemu.</summary>
    public static Task QuitAsync(this QmpClient qmp, CancellationToken cancellationToken) => qmp.ExecuteAsync("quit", cancellationToken);

    /// <summary><c>migrate-set-capabilities</c> with the capabilities that are set; the others stay as they are.</summary>
    public static Task SetMigrationCapabilitiesAsync(this QmpClient qmp, MigrationCapabilities capabilities, CancellationToken cancellationToken) =>
        qmp.ExecuteAsync("migrate-set-capabilities", capabilities.ToArguments(), cancellationToken);

    /// <summary><c>migrate-set-parameters</c> with the parameters that are set; the others stay as they are.</summary>
    public static Task SetMigrationParametersAsync(this QmpClient qmp, MigrationParameters parameters, CancellationToken cancellationToken) =>
        qmp.ExecuteAsync("migrate-set-parameters", JsonSerializer.SerializeToNode(parameters, Arguments), cancellationToken);

    /// <summary><c>migrate</c>: starts sending the VM to <paramref name="uri"/> (<c>tcp:</c>, <c>exec:</c>).</summary>
    public static Task MigrateAsync(this QmpClient qmp, string uri, CancellationToken cancellationToken) =>
        qmp.ExecuteAsync("migrate", new JsonObject { ["uri"] = uri }, cancellationToken);

    /// <summary><c>migrate-incoming</c>: a qemu started with <c>-incoming defer</c> starts receiving from <paramref name="uri"/>.</summary>
    public static Task MigrateIncomingAsync(this QmpClient qmp, string uri, CancellationToken cancellationToken) =>
        qmp.ExecuteAsync("migrate-incoming", new JsonObject { ["uri"] = uri }, cancellationToken);

    /// <summary><c>migrate_cancel</c>: the source goes on running the guest.</summary>
    public static Task MigrateCancelAsync(this QmpClient qmp, CancellationToken cancellationToken) => qmp.ExecuteAsync("migrate_cancel", cancellationToken);

    /// <summary><c>migrate-start-postcopy</c>: the target runs the guest from now on and pulls the remaining pages.</summary>
    public static Task StartPostcopyAsync(this QmpClient qmp, CancellationToken cancellationToken) =>
        qmp.ExecuteAsync("migrate-start-postcopy", cancellationToken);

    /// <summary><c>query-migrate</c>: how the current (or last) migration of this qemu goes.</summary>
    public static async Task<MigrationInfo> QueryMigrateAsync(this QmpClient qmp, CancellationToken cancellationToken) =>
        MigrationInfo.From(await qmp.ExecuteAsync("query-migrate", cancellationToken));

    /// <summary>
    /// Runs a command and ignores its failure or silence (after <see cref="BestEffortTimeout"/>): the caller goes on
    /// to check what state qemu is in. For <c>quit</c>, <c>migrate_cancel</c> and a harder throttle.
    /// </summary>
    public static async Task BestEffortAsync(this QmpClient qmp, Func<QmpClient, CancellationToken, Task> command)
    {
        try
        {
            await command(qmp, CancellationToken.None).WaitAsync(BestEffortTimeout);
        }
        catch (Exception e) when (e is QmpException or IOException or TimeoutException)
        {
            // Best effort.
        }
    }
}

/// <summary>Migration capabilities to set; null leaves one as qemu has it.</summary>
internal sealed record MigrationCapabilities(bool? AutoConverge = null, bool? PostcopyRam = null)
{
    public JsonObject ToArguments()
    {
        var list = new JsonArray();
        Add(list, "auto-converge", AutoConverge);
        Add(list, "postcopy-ram", PostcopyRam);
        return new JsonObject { ["capabilities"] = list };
    }

    private static void Add(JsonArray list, string capability, bool? state)
    {
        if (state is { } on)
        {
            list.Add(new JsonObject { ["capability"] = capability, ["state"] = on });
        }
    }
}

/// <summary>Migration parameters to set, in QEMU's units (bytes per second, milliseconds, percent); null leaves one as qemu has it.</summary>
internal sealed record MigrationParameters(
    long? MaxBandwidth = null, long? DowntimeLimit = null, int? CpuThrottleInitial = null, int? CpuThrottleIncrement = null);

/// <summary>What <c>query-migrate</c> answered; <see cref="Status"/> is <c>none</c> before any migration.</summary>
internal sealed record MigrationInfo(
    string Status, string? ErrorDescription, long? DowntimeMs, long? TotalTimeMs, MigrationRam? Ram, string? ListeningPort)
{
    public static MigrationInfo From(JsonNode? info) => new(
        (string?)info?["status"] ?? "none",
        (string?)info?["error-desc"],
        Number(info, "downtime"),
        Number(info, "total-time"),
        info?["ram"] is JsonObject ram
            ? new MigrationRam(
                Number(ram, "total"),
                Number(ram, "transferred"),
                Number(ram, "remaining"),
                Number(ram, "dirty-pages-rate"),
                ram["mbps"]?.GetValue<double>(),
                Number(ram, "dirty-sync-count"))
            : null,
        // An incoming qemu listening on port 0 says here which port the kernel gave it.
        info?["socket-address"]?[0]?["port"]?.ToString());

    private static long? Number(JsonNode? node, string name) => node?[name] is JsonValue v && v.TryGetValue<long>(out var n) ? n : null;
}

/// <summary>The memory side of a migration, as <c>query-migrate</c>'s <c>ram</c> tells it.</summary>
internal sealed record MigrationRam(
    long? Total, long? Transferred, long? Remaining, long? DirtyPagesRate, double? Mbps, long? DirtySyncCount);
