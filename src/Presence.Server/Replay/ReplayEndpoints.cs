using System.Text.Json;
using System.Text.Json.Nodes;
using Marten;
using NodaTime;
using Presence.Domain.Audit;
using Presence.Domain.Replay;
using Presence.Server.Audit;
using Presence.Server.Hosting;

namespace Presence.Server.Replay;

/// <summary>
/// Replay over HTTP, for an automation that wants to know before it changes a setting: GET replays a user's stored
/// history under the house as configured, POST under the settings in its body (as a `--policy` file holds them).
/// </summary>
public static class ReplayEndpoints
{
    public static void MapReplayEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/users/{user}/replay", (string user, string? from, string? to, IQuerySession session, IConfiguration configuration, CancellationToken ct) =>
            ReplayAsync(user, from, to, null, session, configuration, ct));
        app.MapPost("/api/users/{user}/replay", async (string user, string? from, string? to, HttpRequest request, IQuerySession session, IConfiguration configuration, CancellationToken ct) =>
        {
            JsonObject? settings;
            try
            {
                settings = await JsonNode.ParseAsync(request.Body, cancellationToken: ct) as JsonObject
                    ?? throw new JsonException("expected an object such as {\"House\": {\"Policy\": {\"Cooldown\": \"10m\"}}}");
            }
            catch (JsonException e)
            {
                return Results.Json(new AuditError($"the body is not settings JSON: {e.Message}", "bad_settings"), statusCode: StatusCodes.Status400BadRequest);
            }

            return await ReplayAsync(user, from, to, settings, session, configuration, ct);
        });
    }

    private static async Task<IResult> ReplayAsync(
        string user, string? from, string? to, JsonObject? settings, IQuerySession session, IConfiguration configuration, CancellationToken ct)
    {
        try
        {
            var policy = Counterfactual.PolicyWith(configuration, null, settings);
            var history = await Counterfactual.StoredAsync(session, user, ct);
            var (_, text, report) = Counterfactual.Run(history, policy, from, to, everyStep: false);
            return Results.Ok(new ReplayAnswer(report.User, report.RecordedPolicy, report.ReplayPolicy, report.From, report.To,
                report.Identical, report.Differences, report.Steps.Where(s => s.Differs).ToList(), text));
        }
        catch (AuditException e)
        {
            return Results.Json(new AuditError(e.Message, Presence.Domain.Words.Wording.Snake(e.Problem.ToString())),
                statusCode: e.Problem == AuditProblem.UnknownUser ? StatusCodes.Status404NotFound : StatusCodes.Status400BadRequest);
        }
        catch (StartupException e)
        {
            return Results.Json(new AuditError(e.Message, "bad_settings"), statusCode: StatusCodes.Status400BadRequest);
        }
    }
}

/// <summary>A replay's verdict: whether anything would differ, the steps that would, and the text the CLI prints.</summary>
public sealed record ReplayAnswer(
    string User,
    string? RecordedPolicy,
    string ReplayPolicy,
    Instant? From,
    Instant? To,
    bool Identical,
    int Differences,
    IReadOnlyList<ReplayStep> Differing,
    string Text);
