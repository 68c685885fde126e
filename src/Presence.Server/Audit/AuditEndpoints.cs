using Marten;
using Presence.Domain.Audit;
using Presence.Domain.House;

namespace Presence.Server.Audit;

/// <summary>The audit questions over HTTP, answering the same records the CLI prints with --json.</summary>
public static class AuditEndpoints
{
    public static void MapAuditEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/explain/{id}", (string id, string? user, IQuerySession session, HousePolicy policy, CancellationToken ct) =>
            Answer(() => AuditQueries.ExplainAsync(session, policy, id, user, ct)));
        app.MapGet("/api/users/{user}/history", (string user, string? since, string? until, IQuerySession session, HousePolicy policy, CancellationToken ct) =>
            Answer(() => AuditQueries.HistoryAsync(session, policy, user, since, until, ct)));
        app.MapGet("/api/users/{user}/state", (string user, string? at, IQuerySession session, HousePolicy policy, CancellationToken ct) =>
            Answer(() => AuditQueries.StateAsync(session, policy, user, at, ct)));
    }

    private static async Task<IResult> Answer<T>(Func<Task<T>> query)
    {
        try
        {
            return Results.Ok(await query());
        }
        catch (AuditException e)
        {
            return Results.Json(new AuditError(e.Message, Presence.Domain.Words.Wording.Snake(e.Problem.ToString())),
                statusCode: e.Problem == AuditProblem.BadInstant ? StatusCodes.Status400BadRequest : StatusCodes.Status404NotFound);
        }
    }
}

/// <summary>What the API answers a question it cannot: the message names what was wrong.</summary>
public sealed record AuditError(string Error, string Problem);
