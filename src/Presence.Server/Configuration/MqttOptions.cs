namespace Presence.Server.Configuration;

public enum BrokerKind { Embedded, External }

/// <summary>The `Mqtt` section: which broker, where, and the contract's tunables.</summary>
public sealed class MqttOptions
{
    public const string Section = "Mqtt";

    /// <summary>`embedded` runs an MQTT broker inside the server; `external` connects to one (e.g. mosquitto).</summary>
    public BrokerKind Broker { get; set; } = BrokerKind.Embedded;

    /// <summary>Where the broker is (external), or which address the embedded broker listens on.</summary>
    public string Host { get; set; } = "127.0.0.1";

    public int Port { get; set; } = 1883;
    public string TopicRoot { get; set; } = "presence";
    /// <summary>External broker: the server's MQTT identity. Embedded broker: the name its own clients use (default presence-server), whose secret is made afresh by each process.</summary>
    public string? Username { get; set; }

    /// <summary>The MQTT username the server connects as (no host or controller may take it).</summary>
    public string ServerIdentity => string.IsNullOrEmpty(Username) ? "presence-server" : Username;

    /// <summary>External broker: the server's password there. The embedded broker never reads it.</summary>
    public string? Password { get; set; }

    /// <summary>Distinguishes server nodes sharing one broker; part of the MQTT client ids.</summary>
    public string NodeName { get; set; } = Environment.MachineName.ToLowerInvariant();

    /// <summary>
    /// External broker, several server nodes: the MQTT 5 shared-subscription group the nodes join, so that each
    /// signal, request, maintenance switch and agent answer goes to one node of the group (`$share/{group}/…`) rather
    /// than to every node. The agents' status and inventory stay plain subscriptions on every node: they are retained,
    /// and a shared subscription is sent no retained messages. Unset (the default): every node hears everything and
    /// the first to store a message wins (SeenMessage). The embedded broker has no shared subscriptions.
    /// </summary>
    public string? SharedGroup { get; set; }

    /// <summary>What the bridge subscribes to: the contract's server subscriptions, shared where <see cref="SharedGroup"/> says.</summary>
    public IReadOnlyList<string> BridgeSubscriptions(Presence.Contracts.Wire.Topics topics) => string.IsNullOrEmpty(SharedGroup)
        ? topics.ServerSubscriptions
        : topics.ServerSubscriptions.Select(f => f == topics.AgentStatus("+") || f == topics.AgentInventory("+") ? f : $"$share/{SharedGroup}/{f}").ToList();

    /// <summary>
    /// How far a payload's `at` may be from the server clock before it is rejected; an agent's event is taken however
    /// late, and rejected only this far ahead (Presence.Contracts.Wire.ClockSkew).
    /// </summary>
    public string MaxSkew { get; set; } = "5m";

    /// <summary>
    /// Embedded broker: may clients connect without an identity? They may then only watch the users' state and the
    /// agents' status, never publish. Off by default.
    /// </summary>
    public bool AllowAnonymous { get; set; }

    /// <summary>
    /// Embedded broker: QoS 1 messages it holds for one client that has not acknowledged them yet (an agent that is
    /// away), and inputs the server holds before they are stored (the database away or far behind; beyond it a
    /// publish is answered QuotaExceeded, so the publisher keeps it). MQTTnet's own default is 1,000 and drops the
    /// oldest beyond it: a server 1,000 signals behind whose connection dropped lost the rest. At ~300 bytes a message,
    /// 100,000 is ~30 MB at the worst; a message dropped anyway, or refused, is logged as an error and counted.
    /// </summary>
    public int MaxQueuedMessages { get; set; } = 100_000;

    /// <summary>
    /// Made-up logins of the house's first user, each rolled back, before the server takes signals (Mqtt/SignalWarmup):
    /// the first pays .NET's and the libraries' first-use work; .NET optimises a method only after some 30 calls, so
    /// the rest make the login path run optimised code from the first real login on, where a house's few logins a day
    /// would run its first-tier code for ever. 0: none.
    /// </summary>
    public int WarmupLogins { get; set; } = 50;

    /// <summary>Embedded broker: identities (MQTT usernames) allowed to send requests and maintenance switches.</summary>
    public List<string> Controllers { get; set; } = ["homeassistant", "presence-cli"];

    /// <summary>
    /// TLS to the broker. Embedded: the TLS endpoint agents on other computers connect to. External: how the
    /// server's own connections reach the broker's TLS endpoint and trust it.
    /// </summary>
    public MqttTlsOptions Tls { get; set; } = new();
}

/// <summary>
/// The `Mqtt:Tls` section. Enabled and Port serve both brokers; CertificateFile and HostNames only the embedded one
/// (its own certificate); Fingerprint, CaFile and the client certificate only an external one (how the server
/// trusts it and proves itself), the same keys as the agent's Agent:Mqtt:Tls.
/// </summary>
public sealed class MqttTlsOptions
{
    /// <summary>
    /// Unset: on when the broker is beyond loopback (the embedded one listens there, or an external one is on another
    /// computer), off on loopback only (the first run stays as easy as before); an external broker's Fingerprint,
    /// CaFile or ClientCertificate turn it on too. Beyond loopback only an explicit false turns it off (e.g. a
    /// network that is itself encrypted), and the server then warns at every start.
    /// </summary>
    public bool? Enabled { get; set; }

    /// <summary>Embedded: the port its TLS endpoint listens on. External: the broker's TLS port the server connects to.</summary>
    public int Port { get; set; } = 8883;

    /// <summary>Embedded: PFX with the broker's certificate and key; default <c>mqtt-broker.pfx</c> beside the private PostgreSQL's data folder, made on first start.</summary>
    public string? CertificateFile { get; set; }

    /// <summary>Embedded: names put in a new certificate (SANs); default: Mqtt:Host when it is a single address, localhost, 127.0.0.1 and this computer's name.</summary>
    public List<string> HostNames { get; set; } = [];

    /// <summary>
    /// External: SHA-256 of the broker's certificate; when set the certificate must be exactly this one, whatever
    /// signed it. Empty: it must chain to <see cref="CaFile"/> (or a CA this computer trusts) and name Mqtt:Host.
    /// </summary>
    public string? Fingerprint { get; set; }

    /// <summary>External: PEM or DER file of the CA that signed the broker's certificate.</summary>
    public string? CaFile { get; set; }

    /// <summary>External: the server's client certificate, for a broker that requires them (mosquitto's require_certificate): a PFX with its key, or PEM.</summary>
    public string? ClientCertificate { get; set; }

    /// <summary>External: PEM private key of a PEM <see cref="ClientCertificate"/>; empty: the key is in the certificate's file.</summary>
    public string? ClientKey { get; set; }

    /// <summary>External: the client certificate's password (PFX, or an encrypted PEM key), if it has one.</summary>
    public string? ClientCertificatePassword { get; set; }

    /// <summary>Whether TLS is on for a broker listening on <paramref name="loopbackOnly"/>.</summary>
    public bool IsOn(bool loopbackOnly) => Enabled ?? !loopbackOnly;

    /// <summary>Whether the server's connection to an external broker at <paramref name="loopbackOnly"/> uses TLS.</summary>
    public bool IsOnForExternal(bool loopbackOnly) => Enabled ?? (!loopbackOnly || NamesTrust);

    /// <summary>Whether any of the external-only settings is given.</summary>
    public bool NamesTrust => !string.IsNullOrWhiteSpace(Fingerprint) || !string.IsNullOrWhiteSpace(CaFile) || !string.IsNullOrWhiteSpace(ClientCertificate);
}

/// <summary>The `Database` section. No connection string: the server runs its own PostgreSQL.</summary>
public sealed class DatabaseOptions
{
    public const string Section = "Database";

    /// <summary>Where the private PostgreSQL keeps its data; default under the user's data directory.</summary>
    public string? DataDirectory { get; set; }

    /// <summary>Where PostgreSQL's programs are; default: PRESENCE_PG_BIN, /usr/lib/postgresql/*/bin, then PATH.</summary>
    public string? BinDirectory { get; set; }

    /// <summary>Schema for Presence's tables and events, so one database can hold several houses.</summary>
    public string Schema { get; set; } = "presence";
}
