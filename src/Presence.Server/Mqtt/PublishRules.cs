using Presence.Contracts.Wire;

namespace Presence.Server.Mqtt;

public enum IdentityKind { Server, Host, Controller, Anonymous }

/// <summary>Who is publishing, as far as the broker can tell from the connection.</summary>
public sealed record Identity(IdentityKind Kind, string Name)
{
    public override string ToString() => Kind switch
    {
        IdentityKind.Anonymous => $"anonymous client '{Name}'",
        IdentityKind.Host => $"host '{Name}'",
        IdentityKind.Controller => $"controller '{Name}'",
        _ => $"server '{Name}'",
    };
}

/// <summary>
/// CONTRACT.md §5 for the embedded broker: a computer publishes only about itself, controllers send requests and
/// maintenance, only the server publishes commands, state and errors.
/// </summary>
public sealed class PublishRules(Topics topics, IReadOnlyCollection<string> hosts, IReadOnlyCollection<string> controllers, string? serverUsername)
{
    public const string ServerClientPrefix = "presence-server-";
    public const string AgentClientPrefix = "presence-agent-";

    public Identity Identify(string? userName, string clientId)
    {
        if (!string.IsNullOrEmpty(userName))
        {
            if (userName == serverUsername)
            {
                return new Identity(IdentityKind.Server, userName);
            }

            if (hosts.Contains(userName))
            {
                return new Identity(IdentityKind.Host, userName);
            }

            return controllers.Contains(userName)
                ? new Identity(IdentityKind.Controller, userName)
                : new Identity(IdentityKind.Anonymous, userName);
        }

        // Without usernames (a first try, the embedded defaults) the well-known client ids tell agents and the
        // server apart, so an agent still cannot speak for another computer.
        if (clientId.StartsWith(ServerClientPrefix, StringComparison.Ordinal) && serverUsername is null)
        {
            return new Identity(IdentityKind.Server, clientId);
        }

        if (clientId.StartsWith(AgentClientPrefix, StringComparison.Ordinal) && hosts.Contains(clientId[AgentClientPrefix.Length..]))
        {
            return new Identity(IdentityKind.Host, clientId[AgentClientPrefix.Length..]);
        }

        return new Identity(IdentityKind.Anonymous, clientId);
    }

    /// <summary>Null when allowed; otherwise why not, for presence/errors.</summary>
    public string? Check(Identity who, string topic, bool allowAnonymous)
    {
        if (who.Kind == IdentityKind.Server)
        {
            return null;
        }

        if (!topic.StartsWith(topics.Root + "/", StringComparison.Ordinal))
        {
            return null; // not ours to police (Home Assistant's own topics, other apps)
        }

        var route = topics.Parse(topic, out _);
        if (route is null)
        {
            return null; // the bridge rejects it with the precise reason
        }

        var serverOnly = route.Kind is TopicKind.AgentCommands or TopicKind.UserState or TopicKind.Errors;
        if (serverOnly)
        {
            return $"{who} may not publish to {topic}: only the Presence server publishes commands, state and errors";
        }

        if (who.Kind == IdentityKind.Anonymous)
        {
            return allowAnonymous ? null : $"{who} may not publish to {topic}: connect with a host or controller identity";
        }

        var allowed = (route.Kind, who.Kind) switch
        {
            (TopicKind.Signal or TopicKind.AgentStatus or TopicKind.AgentInventory or TopicKind.AgentEvents, IdentityKind.Host) => route.Host == who.Name,
            (TopicKind.Maintenance, IdentityKind.Host) => route.Host == who.Name,
            (TopicKind.Maintenance or TopicKind.UserRequest, IdentityKind.Controller) => true,
            _ => false,
        };
        return allowed ? null : route.Kind switch
        {
            TopicKind.UserRequest => $"{who} may not publish to {topic}: requests come from controllers ({string.Join(", ", controllers)})",
            _ when who.Kind == IdentityKind.Host => $"{who} may not publish to {topic}: a computer publishes only about itself",
            _ => $"{who} may not publish to {topic}",
        };
    }
}
