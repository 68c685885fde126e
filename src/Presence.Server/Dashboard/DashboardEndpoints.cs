using System.Globalization;
using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Marten;
using Microsoft.Extensions.Options;
using NodaTime;
using Presence.Domain.House;

namespace Presence.Server.Dashboard;

/// <summary>One timeline line as the API gives it: the entry plus its time in the house's zone.</summary>
public sealed record TimelineLine(
    Instant At, string LocalDate, string LocalTime, string Kind, string? Rule, string Text, string? DecisionId, string? MigrationId);

/// <summary>`GET /api/users/{user}/timeline`: newest first.</summary>
public sealed record TimelineView(string User, string TimeZone, IReadOnlyList<TimelineLine> Entries);

/// <summary>
/// The dashboard: `/` (one self-contained page), `/api/house`, `/api/users/{user}/timeline` and `/api/live`, all read
/// from projections.
/// </summary>
public static class DashboardEndpoints
{
    /// <summary>How often `/api/live` looks at the projections; a move's progress bar moves at this pace at best.</summary>
    public static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(500);

    private static readonly Lazy<string> Page = new(() =>
    {
        using var stream = typeof(DashboardEndpoints).Assembly.GetManifestResourceStream("Presence.Server.Dashboard.dashboard.html")
            ?? throw new InvalidOperationException("the dashboard page is not embedded in the server assembly");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    });

    public static void Map(WebApplication app)
    {
        app.MapGet("/", (HttpContext http) =>
        {
            // Everything the page needs is in it; nothing may come from elsewhere (the house may have no internet).
            http.Response.Headers.ContentSecurityPolicy =
                "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data:";
            return Results.Content(Page.Value, "text/html; charset=utf-8");
        });

        app.MapGet("/api/house", async (IQuerySession session, HousePolicy policy, CancellationToken ct) =>
            await HouseViews.LoadAsync(session, policy, ct));

        app.MapGet("/api/users/{user}/timeline", async (string user, IQuerySession session, HousePolicy policy, CancellationToken ct) =>
        {
            if (policy.User(user) is null)
            {
                return Results.NotFound(new { error = $"no user '{user}' in the house", user });
            }

            var zone = DateTimeZoneProviders.Tzdb.GetZoneOrNull(policy.Settings.TimeZone) ?? DateTimeZone.Utc;
            var newest = await TimelineReads.NewestAsync(session, user, UserTimeline.Keep, ct);
            var lines = newest.Select(r => r.Entry).Select(e =>
            {
                var local = e.At.InZone(zone);
                return new TimelineLine(
                    e.At,
                    local.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
                    local.ToString("HH:mm:ss", CultureInfo.InvariantCulture),
                    e.Kind, e.Rule, e.Text, e.DecisionId, e.MigrationId);
            }).ToList();
            return Results.Ok(new TimelineView(user, zone.Id, lines));
        });

        app.MapGet("/api/live", (IDocumentStore store, HousePolicy policy, IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions> json,
                IHostApplicationLifetime lifetime, HttpContext http) =>
            TypedResults.ServerSentEvents(Changes(store, policy, json.Value.SerializerOptions, lifetime.ApplicationStopping, http.RequestAborted)));
    }

    /// <summary>
    /// The house view each time it differs from the last one sent (the first at once). It polls the projections
    /// rather than being told by the handlers: several server nodes may share the database (DESIGN.md), and a change
    /// committed by another node — its MQTT bridge took the agent's answer — must show too, which an in-process
    /// notifier would miss. Three reads by primary key every half second is nothing for a house, and sending the
    /// whole view means a lost or late message can never leave the page wrong.
    /// </summary>
    private static async IAsyncEnumerable<SseItem<string>> Changes(
        IDocumentStore store, HousePolicy policy, JsonSerializerOptions json, CancellationToken stopping,
        [EnumeratorCancellation] CancellationToken aborted)
    {
        // An open page must not hold up the server's shutdown until the host's timeout.
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(aborted, stopping);
        var ct = linked.Token;
        string? sent = null;
        while (!ct.IsCancellationRequested)
        {
            var now = await ReadAsync(store, policy, json, ct);
            if (now is null)
            {
                yield break;
            }

            if (now != sent)
            {
                sent = now;
                yield return new SseItem<string>(now, "house");
            }

            // A closed page or a stopping server ends the stream quietly rather than with an exception in the log.
            await Task.Delay(PollInterval, ct).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    private static async Task<string?> ReadAsync(IDocumentStore store, HousePolicy policy, JsonSerializerOptions json, CancellationToken ct)
    {
        try
        {
            await using var session = store.QuerySession();
            return JsonSerializer.Serialize(await HouseViews.LoadAsync(session, policy, ct), json);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            return null;
        }
    }
}
