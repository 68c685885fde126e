using System.Security.Cryptography;
using System.Text;
using MQTTnet.Protocol;
using Presence.Server.Identities;

namespace Presence.Server.Mqtt;

/// <summary>
/// Who a connection was admitted as, the username it presented (none for an agent known by its client id), and the
/// stored hash it proved (none for a password-less loopback identity).
/// </summary>
public sealed record Admitted(Identity Who, string? UserName, byte[]? Hash);

/// <summary>A connection the broker turns away, with the reason for the log (never the password).</summary>
public sealed record Refused(MqttConnectReasonCode Code, string Why);

/// <summary>
/// Decides at connect who a client is. An identity is proven by its secret: the server's own clients by the secret
/// generated for this process, a computer or controller by the one `enroll` gave it. Client ids prove nothing; the
/// well-known ones are reserved so nobody else can take over the server's or an agent's session. The one exception is
/// a broker that listens on loopback alone: there a host or controller that was never enrolled may connect by name
/// without a password, so a first run on one computer needs no set-up.
/// </summary>
public sealed class Admission(
    IReadOnlySet<string> hosts,
    IReadOnlySet<string> controllers,
    ServerSecret server,
    Enrolments enrolments,
    bool loopbackOnly,
    bool allowAnonymous)
{
    public const string ServerClientPrefix = "presence-server-";
    public const string AgentClientPrefix = "presence-agent-";

    public async Task<(Admitted? Admitted, Refused? Refused)> AdmitAsync(string? userName, string? password, string clientId)
    {
        var presented = string.IsNullOrEmpty(userName) ? null : userName;
        var user = presented;
        var secret = string.IsNullOrEmpty(password) ? null : password;
        if (user == server.UserName)
        {
            return SameSecret(secret, server.Password)
                ? Accept(new Identity(IdentityKind.Server, user), user, null, clientId)
                : Refuse(MqttConnectReasonCode.BadUserNameOrPassword, $"'{user}' is the server's identity and needs this server process's secret");
        }

        var byClientId = false;
        if (user is null && clientId.StartsWith(AgentClientPrefix, StringComparison.Ordinal) && hosts.Contains(clientId[AgentClientPrefix.Length..]))
        {
            // An agent with its default client id and no username: the name it claims, held to the same proof.
            user = clientId[AgentClientPrefix.Length..];
            byClientId = true;
        }

        if (user is null)
        {
            return allowAnonymous
                ? Accept(new Identity(IdentityKind.Anonymous, clientId), null, null, clientId)
                : Refuse(MqttConnectReasonCode.NotAuthorized, "anonymous clients are not allowed (Mqtt:AllowAnonymous is false); connect with a host's or controller's identity");
        }

        var enrolment = enrolments.Find(user);
        if (enrolment is not null)
        {
            var kind = enrolment.Role == IdentityRole.Host ? IdentityKind.Host : IdentityKind.Controller;
            if (kind == IdentityKind.Host && !hosts.Contains(user))
            {
                return Refuse(MqttConnectReasonCode.NotAuthorized, $"'{user}' is enrolled as a host but is not one of House:Hosts");
            }

            if (secret is null)
            {
                return Refuse(MqttConnectReasonCode.BadUserNameOrPassword,
                    $"'{user}' is enrolled: connect with username '{user}' and the secret `enroll` printed{(byClientId ? " (a client id alone proves nothing)" : "")}");
            }

            return await enrolments.VerifyAsync(enrolment, secret) switch
            {
                Proof.Proven => Accept(new Identity(kind, user), presented, enrolment.Hash, clientId),
                Proof.Throttled => Refuse(MqttConnectReasonCode.ServerBusy,
                    $"a wrong secret was given for '{user}' lately; its secrets are not checked again until {enrolments.ThrottledUntil(user)?.ToString() ?? "now"}"),
                _ => Refuse(MqttConnectReasonCode.BadUserNameOrPassword, $"wrong secret for '{user}'"),
            };
        }

        var role = hosts.Contains(user) ? IdentityKind.Host : controllers.Contains(user) ? IdentityKind.Controller : (IdentityKind?)null;
        if (role is null)
        {
            return allowAnonymous && secret is null
                ? Accept(new Identity(IdentityKind.Anonymous, user), user, null, clientId)
                : Refuse(MqttConnectReasonCode.NotAuthorized, $"'{user}' is neither a host of the house nor an enrolled controller");
        }

        if (!loopbackOnly)
        {
            return Refuse(MqttConnectReasonCode.NotAuthorized, $"'{user}' is not enrolled and the broker listens beyond loopback; enrol it with `enroll {user}{(role == IdentityKind.Controller ? " --controller" : "")}`");
        }

        if (secret is not null)
        {
            // Most likely a revoked secret: it must not keep working just because the broker is on loopback.
            return Refuse(MqttConnectReasonCode.BadUserNameOrPassword, $"'{user}' is not enrolled (revoked?), yet a password was given");
        }

        return Accept(new Identity(role.Value, user), presented, null, clientId);
    }

    private (Admitted?, Refused?) Accept(Identity who, string? userName, byte[]? hash, string clientId)
    {
        // The well-known client ids are reserved: whoever takes one over gets that session's queued messages.
        if (clientId.StartsWith(ServerClientPrefix, StringComparison.Ordinal) && who.Kind != IdentityKind.Server)
        {
            return Refuse(MqttConnectReasonCode.ClientIdentifierNotValid, $"client id '{clientId}' is reserved for the Presence server");
        }

        if (clientId.StartsWith(AgentClientPrefix, StringComparison.Ordinal) && hosts.Contains(clientId[AgentClientPrefix.Length..])
            && !(who.Kind == IdentityKind.Host && who.Name == clientId[AgentClientPrefix.Length..]))
        {
            return Refuse(MqttConnectReasonCode.ClientIdentifierNotValid, $"client id '{clientId}' is reserved for the agent of host '{clientId[AgentClientPrefix.Length..]}'");
        }

        return (new Admitted(who, userName, hash), null);
    }

    private static (Admitted?, Refused?) Refuse(MqttConnectReasonCode code, string why) => (null, new Refused(code, why));

    private static bool SameSecret(string? given, string expected) =>
        given is not null && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(given), Encoding.UTF8.GetBytes(expected));
}

/// <summary>The server's own identity on the embedded broker: a secret made fresh for each process, never stored or logged.</summary>
public sealed class ServerSecret(string userName)
{
    public string UserName { get; } = userName;

    public string Password { get; } = SecretHash.NewSecret();

    public override string ToString() => $"the server's identity '{UserName}'";
}
