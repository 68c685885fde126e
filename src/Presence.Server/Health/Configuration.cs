namespace Presence.Server.Health;

/// <summary>
/// Liveness and readiness for systemd and Home Assistant: `/health/live` says the process answers;
/// `/health` (and `/health/ready`) is 200 when the server can do its work, 503 when the database or the broker is away
/// or the database refuses to store (a full disk).
/// Ready also means the first signal is as fast as the next: the bridge subscribes only after Marten applied the
/// whole schema (a hosted service that starts first) and every Wolverine handler was loaded from the pre-generated
/// code, so nothing is created or compiled behind that signal.
/// </summary>
public static class Configuration
{
    public static IServiceCollection AddHealth(this IServiceCollection services) => services.AddSingleton<HealthCheck>();

    public static WebApplication MapHealth(this WebApplication app)
    {
        app.MapGet("/health/live", () => Results.Ok(new { status = "live" }));
        app.MapGet("/health", ReadyAsync);
        app.MapGet("/health/ready", ReadyAsync);
        return app;
    }

    private static async Task<IResult> ReadyAsync(HealthCheck check, CancellationToken ct)
    {
        var report = await check.RunAsync(ct);
        return Results.Json(report, statusCode: report.Status == HealthCheck.Ready ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable);
    }
}
