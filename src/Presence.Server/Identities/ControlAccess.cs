using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Microsoft.Extensions.Options;
using NodaTime;
using Presence.Server.Configuration;

namespace Presence.Server.Identities;

/// <summary>Who asked over HTTP, or why nobody may: the HTTP status and the reason in words.</summary>
public sealed record ControlCaller(string? By, int Status, string? Refusal, TimeSpan? RetryAfter = null)
{
    public static ControlCaller Refused(int status, string reason, TimeSpan? retryAfter = null) => new(null, status, reason, retryAfter);
}

/// <summary>
/// Who may steer Presence over HTTP (the dashboard's buttons, `POST /api/…`): the controllers the house allows over
/// MQTT (Mqtt:Controllers), by the same enrolled secret, given as HTTP Basic credentials. On a server that listens
/// only on this computer, a caller on this computer needs none and is recorded as <see cref="LocalIdentity"/>: whoever
/// can reach a loopback port already runs on the server's computer. Once HTTP listens beyond it (Urls, with
/// Http:AllowUnauthenticated, which opens reading only), every control needs a controller's name and secret.
/// </summary>
/// <remarks>
/// A web page elsewhere must not click for a visitor (cross-site request forgery): a control must come as
/// application/json (a cross-site form cannot send it without the CORS preflight this server never grants) and, when
/// the browser names an Origin, from this server's own.
/// </remarks>
public sealed class ControlAccess(IConfiguration configuration, Enrolments enrolments, IOptions<MqttOptions> mqtt, IClock clock)
{
    public const string LocalIdentity = "dashboard";
    public const string Realm = "Presence controls";

    private readonly bool listensBeyondLoopback = HttpExposure.BeyondLoopback(configuration).Any();

    public async Task<ControlCaller> WhoAsync(HttpRequest request, CancellationToken ct)
    {
        if (request.Headers.Origin is [{ } origin] && !SameOrigin(origin, request))
        {
            return ControlCaller.Refused(StatusCodes.Status403Forbidden,
                $"a control from the page of another site ({origin}) is refused: only this server's own dashboard may send one");
        }

        if (!request.HasJsonContentType())
        {
            return ControlCaller.Refused(StatusCodes.Status415UnsupportedMediaType,
                "a control must be sent as application/json (the same JSON as the MQTT request)");
        }

        if (Credentials(request) is not var (name, secret))
        {
            return request.Headers.Authorization.Count > 0
                ? ControlCaller.Refused(StatusCodes.Status401Unauthorized, "the Authorization header is not HTTP Basic credentials (name:secret)")
                : CredentialsNeeded(request)
                    ? ControlCaller.Refused(StatusCodes.Status401Unauthorized,
                        "controls need a controller's name and secret (HTTP Basic) because this server listens beyond this computer; " +
                        "enroll one with `enroll <name> --controller` and list it in Mqtt:Controllers")
                    : new ControlCaller(LocalIdentity, StatusCodes.Status200OK, null);
        }

        if (!mqtt.Value.Controllers.Contains(name, StringComparer.Ordinal))
        {
            return Unproven(name);
        }

        // `enroll` and `revoke` run in another process: look again, so a revoked secret stops working at once.
        await enrolments.RefreshAsync(ct);
        if (enrolments.Find(name) is not { Role: IdentityRole.Controller } enrolment)
        {
            return Unproven(name);
        }

        return await enrolments.VerifyAsync(enrolment, secret) switch
        {
            Proof.Proven => new ControlCaller(name, StatusCodes.Status200OK, null),
            Proof.Throttled when enrolments.ThrottledUntil(name) is { } until => ControlCaller.Refused(StatusCodes.Status429TooManyRequests,
                $"too many wrong secrets for '{name}'; try again later", (until - clock.GetCurrentInstant()).ToTimeSpan()),
            _ => Unproven(name),
        };
    }

    /// <summary>The same words for an unknown name, a host's name and a wrong secret: a guesser learns nothing.</summary>
    private static ControlCaller Unproven(string name) =>
        ControlCaller.Refused(StatusCodes.Status401Unauthorized, $"'{name}' and that secret are not a controller of this house");

    private bool CredentialsNeeded(HttpRequest request) =>
        listensBeyondLoopback || request.HttpContext.Connection.RemoteIpAddress is not { } remote || !IPAddress.IsLoopback(remote);

    private static (string Name, string Secret)? Credentials(HttpRequest request)
    {
        if (!AuthenticationHeaderValue.TryParse(request.Headers.Authorization.ToString(), out var header)
            || !string.Equals(header.Scheme, "Basic", StringComparison.OrdinalIgnoreCase) || header.Parameter is null)
        {
            return null;
        }

        try
        {
            var text = Encoding.UTF8.GetString(Convert.FromBase64String(header.Parameter));
            var colon = text.IndexOf(':');
            return colon > 0 ? (text[..colon], text[(colon + 1)..]) : null;
        }
        catch (FormatException)
        {
            return null;
        }
    }

    private static bool SameOrigin(string origin, HttpRequest request) =>
        Uri.TryCreate(origin, UriKind.Absolute, out var uri)
        && string.Equals(uri.Scheme, request.Scheme, StringComparison.OrdinalIgnoreCase)
        && string.Equals(uri.Authority, request.Host.Value, StringComparison.OrdinalIgnoreCase);
}
