using Presence.Contracts.Wire;

namespace Presence.Server.Mqtt;

public enum IdentityKind { Server, Host, Controller, Anonymous }

/// <summary>Who a client proved to be when it connected (<see cref="Admission"/>).</summary>
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
/// maintenance, only the server publishes commands, state and errors, and an anonymous client (if allowed at all)
/// only watches what the house shows.
/// </summary>
/// <remarks>
/// With Home Assistant's statestream mapped (<paramref name="statestreamBase"/>), only its identity
/// (<paramref name="statestreamIdentity"/>) may publish under that base: the states there become evidence.
/// </remarks>
public sealed class PublishRules(Topics topics, IReadOnlyCollection<string> controllers, string? statestreamBase = null, string? statestreamIdentity = null)
{
    /// <summary>Null when allowed; otherwise why not, for presence/errors.</summary>
    public string? Check(Identity who, string topic)
    {
        if (who.Kind == IdentityKind.Server)
        {
            return null;
        }

        if (who.Kind == IdentityKind.Anonymous)
        {
            return $"{who} may not publish to {topic}: anonymous clients only watch; connect with a host's or controller's identity";
        }

        if (HomeAssistant.HaTopics.IsCommand(topics.Root, topic))
        {
            // The server records these as asked by Home Assistant, so no one else may send them.
            return who is { Kind: IdentityKind.Controller, Name: HomeAssistant.HaTopics.Controller }
                ? null
                : $"{who} may not publish to {topic}: Home Assistant's commands come from the controller '{HomeAssistant.HaTopics.Controller}'";
        }

        if (statestreamBase is not null && topic.StartsWith(statestreamBase + "/", StringComparison.Ordinal))
        {
            return who.Kind == IdentityKind.Controller && who.Name == statestreamIdentity ? null
                : $"{who} may not publish to {topic}: only Home Assistant ('{statestreamIdentity}') publishes its states under {statestreamBase}/ (HomeAssistant:Statestream)";
        }

        if (!topic.StartsWith(topics.Root + "/", StringComparison.Ordinal))
        {
            return null; // not ours to police (Home Assistant's own topics, other apps)
        }

        var route = topics.Parse(topic, out var notOurs);
        if (route is null)
        {
            // Not a topic anyone but the server may publish (presence/status, a made-up one): delivered, it would
            // reach every watcher unchecked, since the server does not consume it.
            return $"{who} may not publish to {topic}: {notOurs}";
        }

        var serverOnly = route.Kind is TopicKind.AgentCommands or TopicKind.UserState or TopicKind.Errors;
        if (serverOnly)
        {
            return $"{who} may not publish to {topic}: only the Presence server publishes commands, state and errors";
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

    /// <summary>
    /// Null when allowed; otherwise why not. Anonymous clients may watch the users' state and the agents' status, which
    /// the house shows anyway (Home Assistant, the dashboard), and nothing else: not commands, signals or errors.
    /// </summary>
    public string? CheckSubscription(Identity who, string filter)
    {
        if (who.Kind == IdentityKind.Host)
        {
            // What the server tells one computer is for that computer alone (a migration target, a state file).
            return CouldMatchCommandsOfAnother(filter, who.Name)
                ? $"{who} may not subscribe to {filter}: a computer reads only its own commands ({topics.AgentCommands(who.Name)})"
                : null;
        }

        if (who.Kind != IdentityKind.Anonymous)
        {
            return null;
        }

        var parts = filter.Split('/');
        var root = topics.Root.Split('/');
        var shown = parts.Length == root.Length + 3
            && parts.Take(root.Length).SequenceEqual(root)
            && (parts[root.Length], parts[root.Length + 2]) is ("users", "state") or ("agents", "status")
            && (parts[root.Length + 1] == "+" || Topics.IsValidName(parts[root.Length + 1]));
        return shown ? null : $"{who} may not subscribe to {filter}: anonymous clients may watch only {topics.Root}/users/+/state and {topics.Root}/agents/+/status";
    }

    /// <summary>Whether <paramref name="filter"/> matches {root}/agents/{h}/commands for some host h other than <paramref name="self"/>.</summary>
    private bool CouldMatchCommandsOfAnother(string filter, string self)
    {
        var pattern = filter.Split('/');
        var topic = topics.Root.Split('/').Concat(["agents", "\0", "commands"]).ToArray();
        for (var i = 0; i < pattern.Length; i++)
        {
            if (pattern[i] == "#")
            {
                return true;
            }

            if (i >= topic.Length)
            {
                return false;
            }

            var level = topic[i];
            var matches = level == "\0"
                ? pattern[i] == "+" || (pattern[i] != self && Topics.IsValidName(pattern[i]))
                : pattern[i] == "+" || pattern[i] == level;
            if (!matches)
            {
                return false;
            }
        }

        return pattern.Length == topic.Length;
    }
}
