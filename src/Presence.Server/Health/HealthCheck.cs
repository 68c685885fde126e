using Marten;
using NodaTime;
using NodaTime.Text;
using Presence.Domain.Hosts;
using Presence.Domain.House;
using Presence.Server.Hosting;
using Presence.Server.Mqtt;

namespace Presence.Server.Health;

/// <summary>One part of the server and, when it is not well, what is wrong in words.</summary>
public sealed record PartHealth(bool Ok, string? Problem = null);

/// <summary>A host's agent as its last word left it. <c>Since</c> is null when the agent has never spoken.</summary>
public sealed record AgentHealth(string Host, bool Online, Instant? Since, string? SinceLocal);

/// <summary>
/// The answer of /health. <c>Unready</c> lists what makes the server unable to work (503); <c>Degraded</c> what is
/// worth knowing but does not stop it (an agent offline: the house keeps running on the other hosts).
/// </summary>
public sealed record HealthReport(
    string Status,
    Instant CheckedAt,
    string LocalTime,
    PartHealth Database,
    PartHealth Broker,
    IReadOnlyList<AgentHealth> Agents,
    IReadOnlyList<string> Unready,
    IReadOnlyList<string> Degraded);

/// <summary>
/// Asks the database one cheap question (the hosts' states, which the report shows anyway), adds what the server's own
/// writes found (<see cref="StoreOutage"/>), and looks at the MQTT connections.
/// </summary>
public sealed class HealthCheck(IDocumentStore store, HousePolicy policy, MqttBridge inbound, MqttOutbound outbound, StoreOutage outage, IClock clock)
{
    public const string Ready = "ready";
    public const string NotReady = "unready";

    /// <summary>A health probe must answer quickly even when PostgreSQL hangs; systemd and HA time out themselves.</summary>
    public static readonly TimeSpan DatabaseTimeout = TimeSpan.FromSeconds(2);

    private static readonly LocalDateTimePattern LocalPattern = LocalDateTimePattern.CreateWithInvariantCulture("uuuu'-'MM'-'dd HH':'mm':'ss");

    public async Task<HealthReport> RunAsync(CancellationToken ct)
    {
        var now = clock.GetCurrentInstant();
        var zone = DateTimeZoneProviders.Tzdb.GetZoneOrNull(policy.Settings.TimeZone) ?? DateTimeZone.Utc;
        string Local(Instant at) => LocalPattern.Format(at.InZone(zone).LocalDateTime);

        var (database, hosts) = await AskDatabaseAsync(ct);
        if (database.Ok && outage.Current is var (since, reason))
        {
            // Read fine, but what arrives cannot be written: the server is no more able to work than with PostgreSQL down.
            database = new PartHealth(false, $"PostgreSQL cannot store: {reason} (messages held since {Local(since)}, {Ago(now - since)} ago)");
        }

        var broker = (inbound.IsConnected, outbound.IsConnected) switch
        {
            // Connected but not yet subscribed (a moment at start): a signal sent now would wait.
            (true, true) when !inbound.IsListening => new PartHealth(false, "the inbound MQTT connection is not subscribed yet: the server is still starting"),
            (true, true) => new PartHealth(true),
            (false, false) => new PartHealth(false, "not connected to the MQTT broker (neither the inbound nor the outbound connection)"),
            (false, true) => new PartHealth(false, "the inbound MQTT connection is down: signals and agent reports are not heard"),
            (true, false) => new PartHealth(false, "the outbound MQTT connection is down: commands and user states are not sent"),
        };

        // Without the database the agents' word is unknown: an empty list, not every host shown offline.
        var agents = hosts is null ? [] : policy.Hosts.Select(h => hosts?.GetValueOrDefault(h.Name) is { } state
            ? new AgentHealth(h.Name, state.AgentOnline, state.AgentSince ?? state.LastReportAt, (state.AgentSince ?? state.LastReportAt) is { } at ? Local(at) : null)
            : new AgentHealth(h.Name, false, null, null)).ToList<AgentHealth>();

        var unready = new List<string>();
        if (database.Problem is { } d)
        {
            unready.Add("database: " + d);
        }

        if (broker.Problem is { } b)
        {
            unready.Add("broker: " + b);
        }

        var degraded = hosts is null
            ? ["agents: unknown while the database is away"]
            : agents.Where(a => !a.Online).Select(a => a.Since is { } since
                ? $"agent {a.Host} offline since {a.SinceLocal} ({Ago(now - since)} ago)"
                : $"agent {a.Host} has never reported").ToList();

        return new HealthReport(unready.Count == 0 ? Ready : NotReady, now, Local(now), database, broker, agents, unready, degraded);
    }

    private async Task<(PartHealth, IReadOnlyDictionary<string, HostState>?)> AskDatabaseAsync(CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(DatabaseTimeout);
        try
        {
            await using var session = store.QuerySession();
            var states = await session.LoadManyAsync<HostState>(timeout.Token, policy.Hosts.Select(h => HostState.StreamId(h.Name)).ToArray());
            return (new PartHealth(true), states.ToDictionary(s => s.Name));
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !ct.IsCancellationRequested)
        {
            return (new PartHealth(false, $"PostgreSQL did not answer within {DatabaseTimeout.TotalSeconds:0} s"), null);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Npgsql's message says what happened (refused, not accepting connections…) without the connection string.
            return (new PartHealth(false, "PostgreSQL cannot be queried: " + (e.InnerException?.Message ?? e.Message)), null);
        }
    }

    private static string Ago(Duration d) =>
        d.TotalDays >= 1 ? $"{(int)d.TotalDays} d {d.Hours} h"
        : d.TotalHours >= 1 ? $"{(int)d.TotalHours} h {d.Minutes} min"
        : d.TotalMinutes >= 1 ? $"{(int)d.TotalMinutes} min"
        : $"{Math.Max(0, (int)d.TotalSeconds)} s";
}
