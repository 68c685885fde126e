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

    /// <summary>How far a payload's `at` may be from the server clock before it is rejected.</summary>
    public string MaxSkew { get; set; } = "5m";

    /// <summary>
    /// Embedded broker: may clients connect without an identity? They may then only watch the users' state and the
    /// agents' status, never publish. Off by default.
    /// </summary>
    public bool AllowAnonymous { get; set; }

    /// <summary>Embedded broker: identities (MQTT usernames) allowed to send requests and maintenance switches.</summary>
    public List<string> Controllers { get; set; } = ["homeassistant", "presence-cli"];

    /// <summary>Embedded broker: the TLS endpoint agents on other computers connect to.</summary>
    public MqttTlsOptions Tls { get; set; } = new();
}

/// <summary>The `Mqtt:Tls` section of the embedded broker.</summary>
public sealed class MqttTlsOptions
{
    /// <summary>
    /// Unset: on when the broker listens beyond loopback, off on loopback only (the first run stays as easy as
    /// before). Beyond loopback only an explicit false turns it off (e.g. a network that is itself encrypted).
    /// </summary>
    public bool? Enabled { get; set; }

    public int Port { get; set; } = 8883;

    /// <summary>PFX with the broker's certificate and key; default <c>mqtt-broker.pfx</c> beside the private PostgreSQL's data folder, made on first start.</summary>
    public string? CertificateFile { get; set; }

    /// <summary>Names put in a new certificate (SANs); default: Mqtt:Host when it is a single address, localhost, 127.0.0.1 and this computer's name.</summary>
    public List<string> HostNames { get; set; } = [];

    /// <summary>Whether TLS is on for a broker listening on <paramref name="loopbackOnly"/>.</summary>
    public bool IsOn(bool loopbackOnly) => Enabled ?? !loopbackOnly;
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
