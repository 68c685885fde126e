using System.Text.RegularExpressions;

namespace Presence.Contracts.Wire;

/// <summary>What an inbound topic addresses, once its root has been stripped and its names checked.</summary>
public enum TopicKind
{
    Signal,
    UserRequest,
    Maintenance,
    AgentStatus,
    AgentInventory,
    AgentEvents,
    AgentCommands,
    UserState,
    Errors,
}

public sealed record ParsedTopic(TopicKind Kind, string? Host = null, string? User = null, string? SignalKind = null);

/// <summary>
/// Builds and parses the topics of CONTRACT.md under a configurable root, so a second house can share a broker.
/// </summary>
public sealed partial class Topics(string root = Topics.DefaultRoot)
{
    public const string DefaultRoot = "presence";

    public string Root { get; } = ValidateRoot(root);

    // \z, not $: $ also matches before a trailing newline, which would let "alice\n" through.
    [GeneratedRegex(@"^[a-z0-9][a-z0-9_-]{0,62}\z")]
    private static partial Regex NamePattern();

    public static bool IsValidName(string? name) => name is not null && NamePattern().IsMatch(name);

    public string Signal(string host, string kind) => $"{Root}/hosts/{host}/signals/{kind}";
    public string Maintenance(string host) => $"{Root}/hosts/{host}/maintenance";
    public string UserRequests(string user) => $"{Root}/users/{user}/requests";
    public string UserState(string user) => $"{Root}/users/{user}/state";
    public string AgentStatus(string host) => $"{Root}/agents/{host}/status";
    public string AgentInventory(string host) => $"{Root}/agents/{host}/inventory";
    public string AgentEvents(string host) => $"{Root}/agents/{host}/events";
    public string AgentCommands(string host) => $"{Root}/agents/{host}/commands";
    public string Errors => $"{Root}/errors";

    /// <summary>Retained, and the server's last will: whether the Presence server is up (docs/contract-additions.md).</summary>
    public string ServerStatus => $"{Root}/status";

    /// <summary>Subscriptions the server needs: everything it consumes, nothing it publishes itself.</summary>
    public IReadOnlyList<string> ServerSubscriptions =>
    [
        $"{Root}/hosts/+/signals/+",
        $"{Root}/hosts/+/maintenance",
        $"{Root}/users/+/requests",
        $"{Root}/agents/+/status",
        $"{Root}/agents/+/inventory",
        $"{Root}/agents/+/events",
    ];

    /// <summary>Parses a topic; returns null with a reason when it is not one of the contract's.</summary>
    public ParsedTopic? Parse(string topic, out string? error)
    {
        error = null;
        var prefix = Root + "/";
        if (!topic.StartsWith(prefix, StringComparison.Ordinal))
        {
            error = $"topic '{topic}' is not under '{Root}/'";
            return null;
        }

        var parts = topic[prefix.Length..].Split('/');
        ParsedTopic? parsed = parts switch
        {
            ["hosts", var h, "signals", var k] => new ParsedTopic(TopicKind.Signal, Host: h, SignalKind: k),
            ["hosts", var h, "maintenance"] => new ParsedTopic(TopicKind.Maintenance, Host: h),
            ["users", var u, "requests"] => new ParsedTopic(TopicKind.UserRequest, User: u),
            ["users", var u, "state"] => new ParsedTopic(TopicKind.UserState, User: u),
            ["agents", var h, "status"] => new ParsedTopic(TopicKind.AgentStatus, Host: h),
            ["agents", var h, "inventory"] => new ParsedTopic(TopicKind.AgentInventory, Host: h),
            ["agents", var h, "events"] => new ParsedTopic(TopicKind.AgentEvents, Host: h),
            ["agents", var h, "commands"] => new ParsedTopic(TopicKind.AgentCommands, Host: h),
            ["errors"] => new ParsedTopic(TopicKind.Errors),
            _ => null,
        };

        if (parsed is null)
        {
            error = $"topic '{topic}' is not part of the contract";
            return null;
        }

        if (parsed.Host is { } host && !IsValidName(host))
        {
            error = $"host '{host}' in topic '{topic}' must match [a-z0-9][a-z0-9_-]{{0,62}}";
            return null;
        }

        if (parsed.User is { } user && !IsValidName(user))
        {
            error = $"user '{user}' in topic '{topic}' must match [a-z0-9][a-z0-9_-]{{0,62}}";
            return null;
        }

        return parsed;
    }

    private static string ValidateRoot(string root)
    {
        if (string.IsNullOrWhiteSpace(root) || root.Contains('+') || root.Contains('#') || root.EndsWith('/'))
        {
            throw new ArgumentException($"MQTT topic root '{root}' must be non-empty, without wildcards or a trailing '/'", nameof(root));
        }

        return root;
    }
}
