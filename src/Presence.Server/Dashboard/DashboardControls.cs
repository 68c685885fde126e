using Microsoft.Extensions.Options;
using NodaTime;
using Presence.Contracts.Requests;
using Presence.Contracts.Wire;
using Presence.Domain.House;
using Presence.Server.Configuration;
using Presence.Server.Hosting;
using Presence.Server.Identities;
using Presence.Server.Mqtt;
using Wolverine;

namespace Presence.Server.Dashboard;

/// <summary>What a control answers when it was taken: the request's id (its line in the timeline names it) and who asked.</summary>
public sealed record ControlTaken(string Id, string By);

/// <summary>
/// The dashboard's buttons: `POST /api/users/{user}/requests` and `POST /api/hosts/{host}/maintenance` take the MQTT
/// contract's own JSON (CONTRACT.md §2) and hand it to the same handlers the request topics reach, recorded as asked
/// by the caller <see cref="ControlAccess"/> proved. Taken is not done: the decider may still refuse (a
/// RequestRefused line in the timeline), as for a request over MQTT; what cannot be read or may not be asked is
/// answered at once with the reason.
/// </summary>
public static class DashboardControls
{
    public static void Map(WebApplication app)
    {
        app.MapPost("/api/users/{user}/requests", async (string user, HttpRequest http, HousePolicy policy, ControlAccess access,
            IOptions<MqttOptions> mqtt, IMessageBus bus, IClock clock, CancellationToken ct) =>
        {
            if (policy.User(user) is null)
            {
                return Results.NotFound(new { error = $"no user '{user}' in the house", user });
            }

            return await TakeAsync(http, access, ct, async (payload, by) =>
            {
                var request = UserRequest.Parse(user, payload);
                request = request with { Id = request.Id ?? NewId() };
                var topics = new Topics(mqtt.Value.TopicRoot);
                await bus.InvokeAsync(UserRequestArrived.Asked(topics.Root, topics.UserRequests(user), request, clock.GetCurrentInstant(), by), ct);
                return request.Id!;
            });
        });

        app.MapPost("/api/hosts/{host}/maintenance", async (string host, HttpRequest http, HousePolicy policy, ControlAccess access,
            IOptions<MqttOptions> mqtt, IMessageBus bus, IClock clock, CancellationToken ct) =>
        {
            if (policy.Host(host) is null)
            {
                return Results.NotFound(new { error = $"no host '{host}' in the house", host });
            }

            return await TakeAsync(http, access, ct, async (payload, by) =>
            {
                var request = MaintenanceRequest.Parse(host, payload);
                request = request with { Id = request.Id ?? NewId(), Reason = request.Reason ?? Switched(by) };
                var topics = new Topics(mqtt.Value.TopicRoot);
                await bus.InvokeAsync(MaintenanceArrived.Asked(topics.Root, topics.Maintenance(host), request, clock.GetCurrentInstant()), ct);
                return request.Id!;
            });
        });
    }

    private static async Task<IResult> TakeAsync(HttpRequest http, ControlAccess access, CancellationToken ct, Func<byte[], string, Task<string>> take)
    {
        var caller = await access.WhoAsync(http, ct);
        if (caller.By is not { } by)
        {
            if (caller.Status == StatusCodes.Status401Unauthorized)
            {
                http.HttpContext.Response.Headers.WWWAuthenticate = $"Basic realm=\"{ControlAccess.Realm}\", charset=\"UTF-8\"";
            }

            if (caller.RetryAfter is { } wait)
            {
                http.HttpContext.Response.Headers.RetryAfter = Math.Ceiling(wait.TotalSeconds).ToString(System.Globalization.CultureInfo.InvariantCulture);
            }

            return Results.Json(new { error = caller.Refusal }, statusCode: caller.Status);
        }

        // As on MQTT: anything bigger than a request could be is refused unread (a chunked body has no length to look at).
        var body = new byte[InboundId.MaxPayloadBytes + 1];
        var read = 0;
        while (read < body.Length && await http.Body.ReadAsync(body.AsMemory(read), ct) is var n and > 0)
        {
            read += n;
        }

        if (read > InboundId.MaxPayloadBytes)
        {
            return Results.Json(new { error = $"the request is over {InboundId.MaxPayloadBytes} bytes, more than any control needs" },
                statusCode: StatusCodes.Status413PayloadTooLarge);
        }

        try
        {
            var id = await take(body[..read], by);
            return Results.Json(new ControlTaken(id, by), statusCode: StatusCodes.Status202Accepted);
        }
        catch (ContractException e)
        {
            return Results.BadRequest(new { error = e.Message });
        }
        catch (MessageRejected e)
        {
            return Results.BadRequest(new { error = e.Message });
        }
    }

    private static string Switched(string by) => by == ControlAccess.LocalIdentity ? "switched on the dashboard" : $"switched on the dashboard by {by}";

    /// <summary>A click is its own request, as HA's: pressing twice means twice, unless the caller sent an `id`.</summary>
    private static string NewId() => "web-" + Guid.NewGuid().ToString("N")[..16];
}
