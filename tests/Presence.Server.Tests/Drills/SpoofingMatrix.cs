namespace Presence.Server.Tests.Drills;

public enum Login { Own, Wrong, None, Revoked }

public enum BrokerUnderTest { Embedded, Mosquitto }

/// <summary>One way of connecting: a client id, a username (null: none) and which password it brings.</summary>
public sealed record Caller(string Name, string ClientId, string? User, Login Password)
{
    /// <summary>Only an identity with its own secret gets in; client ids and names alone prove nothing.</summary>
    public bool Admitted => Password == Login.Own;

    public bool IsHost => SpoofingMatrix.Hosts.Contains(User) && Admitted;

    public override string ToString() => Name;
}

/// <summary>A topic of CONTRACT.md with a payload that would be valid from whoever may publish there.</summary>
public sealed record Target(string Topic, string Payload);

/// <summary>
/// The spoofing drill's table, shared by the embedded broker and mosquitto (password file + the shipped ACL): every
/// identity × every topic of CONTRACT.md, and whether §5 lets it publish or subscribe there.
/// </summary>
public static class SpoofingMatrix
{
    public static readonly IReadOnlyList<string> Hosts = ["basement", "imac", "laptop"];

    /// <summary>A controller enrolled, then revoked: its old secret must open nothing.</summary>
    public const string Revoked = "old-panel";

    public static readonly IReadOnlyList<Caller> Callers =
    [
        new("anonymous", "spoof-anonymous", null, Login.None),
        new("imac with a wrong password", "spoof-wrong", "imac", Login.Wrong),
        new("basement", "spoof-basement", "basement", Login.Own),
        new("imac", "spoof-imac", "imac", Login.Own),
        new("laptop", "spoof-laptop", "laptop", Login.Own),
        new("homeassistant (controller)", "spoof-ha", "homeassistant", Login.Own),
        new("a revoked identity", "spoof-revoked", Revoked, Login.Revoked),
        new("the server's name without its secret", "spoof-server", "presence-server", Login.None),
        new("the server's name with a guessed secret", "spoof-server-guess", "presence-server", Login.Wrong),
        new("client id presence-server-x, no login", "presence-server-x", null, Login.None),
        new("client id presence-server-x, imac's name with a wrong password", "presence-server-x", "imac", Login.Wrong),
        new("client id presence-agent-basement, no login", "presence-agent-basement", null, Login.None),
        new("client id presence-agent-basement, a wrong password", "presence-agent-basement", "basement", Login.Wrong),
    ];

    /// <summary>Every topic of CONTRACT.md, for each host where it names one; {0} is where the payload's id goes.</summary>
    public static IReadOnlyList<Target> Targets(string id) =>
    [
        .. Hosts.SelectMany(h => new Target[]
        {
            new($"presence/hosts/{h}/signals/session", $$"""{"id":"{{id}}","user":"alice","state":"login"}"""),
            new($"presence/hosts/{h}/signals/lid", $$"""{"id":"{{id}}","state":"open"}"""),
            new($"presence/hosts/{h}/signals/wifi", $$"""{"id":"{{id}}","state":"connected","ssid":"home"}"""),
            new($"presence/hosts/{h}/signals/idle", $$"""{"id":"{{id}}","user":"alice","idle_seconds":3}"""),
            new($"presence/hosts/{h}/signals/power", $$"""{"id":"{{id}}","ac":true}"""),
            new($"presence/hosts/{h}/maintenance", $$"""{"id":"{{id}}","state":"off","reason":"{{id}}"}"""),
            new($"presence/agents/{h}/status", $$"""{"id":"{{id}}","state":"online","agent_version":"{{id}}","hypervisor":"simulated"}"""),
            new($"presence/agents/{h}/inventory", $$"""{"id":"{{id}}","cpus":4,"memory_mb":8192,"memory_free_mb":4096,"on_battery":false,"link_mbps":1000,"vms":[]}"""),
            new($"presence/agents/{h}/events", $$"""{"id":"{{id}}","command_id":"{{id}}","vm":"alice-desktop","state":"accepted"}"""),
            new($"presence/agents/{h}/commands",
                $$"""{"command_id":"{{Guid.NewGuid()}}","type":"migrate","vm":"alice-desktop","target_host":"imac","target_uri":"tcp:127.0.0.1:45999","note":"{{id}}"}"""),
        }),
        new("presence/users/alice/requests", $$"""{"id":"{{id}}","action":"hold"}"""),
        new("presence/users/alice/state", $$"""{"user":"alice","vm_host":"nowhere","note":"{{id}}"}"""),
        new("presence/errors", $$"""{"topic":"presence/x","error":"{{id}}"}"""),
        new("presence/status", $$"""{"state":"offline","version":"{{id}}"}"""),
    ];

    /// <summary>CONTRACT.md §5: a host only about itself; controllers requests and maintenance; commands, state, errors and status only the server.</summary>
    public static bool MayPublish(Caller caller, string topic)
    {
        if (!caller.Admitted)
        {
            return false;
        }

        var parts = topic.Split('/');
        if (caller.IsHost)
        {
            return parts is ["presence", "hosts", var h, ..] && h == caller.User
                || parts is ["presence", "agents", var a, "status" or "inventory" or "events"] && a == caller.User;
        }

        return parts is ["presence", "users", _, "requests"] or ["presence", "hosts", _, "maintenance"];
    }

    /// <summary>The filters tried, each with a concrete topic it covers that tells whether the broker delivers from it.</summary>
    public static IReadOnlyList<(string Filter, string Probe)> Subscriptions(Caller caller)
    {
        var other = Hosts.First(h => h != caller.User);
        return
        [
            .. Hosts.Select(h => ($"presence/agents/{h}/commands", $"presence/agents/{h}/commands")),
            ("presence/agents/+/commands", $"presence/agents/{other}/commands"),
            ("presence/#", $"presence/agents/{other}/commands"),
            ("presence/users/+/state", "presence/users/alice/state"),
            ("presence/agents/+/status", $"presence/agents/{other}/status"),
            ("presence/errors", "presence/errors"),
        ];
    }

    /// <summary>
    /// A host reads its own commands and never another's. What else a host may watch differs by broker: the embedded
    /// broker lets an identified host watch state, status and errors; the shipped ACL gives it nothing to read but its
    /// commands. Controllers read everything under presence/ (the ACL's `topic read presence/#`).
    /// </summary>
    public static bool MaySubscribe(Caller caller, string filter, BrokerUnderTest broker)
    {
        if (!caller.Admitted)
        {
            return false;
        }

        if (!caller.IsHost)
        {
            return true;
        }

        if (filter == $"presence/agents/{caller.User}/commands")
        {
            return true;
        }

        var coversCommands = filter.EndsWith("/commands", StringComparison.Ordinal) || filter.EndsWith('#');
        return !coversCommands && broker == BrokerUnderTest.Embedded;
    }
}
