using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Configuration;

namespace Presence.Agent.Configuration;

/// <summary>
/// The agent's switches as configuration keys. .NET's command-line configuration provider does the reading, with
/// <see cref="SwitchMappings"/> naming the key of each short switch; <c>--Agent:&lt;Key&gt;=&lt;value&gt;</c> sets any
/// key directly. Switches that are not plain keys land under <c>CommandLine:</c> and are read from there:
/// <c>--config</c> (which file to layer under the rest), <c>--broker</c> (two keys), <c>--vm</c> and
/// <c>--no-vms</c> (the VM list, replaced whole), <c>--help</c>.
/// <para>
/// Before the provider sees them the switches are checked, so a typo is an error rather than a key nobody reads,
/// and put in the one form the provider reads without guessing (<c>--key=value</c>): the provider would take the
/// switch after a flag as the flag's value, and keeps only the last of a repeated switch, so flags get
/// <c>=true</c> and each <c>--vm</c> its own index.
/// </para>
/// </summary>
public sealed partial class AgentCommandLine
{
    public const string Usage = """
        presence-agent — runs the VMs of one computer for the Presence server, over MQTT.

        Usage: dotnet run --project src/Presence.Agent -- [switches]   (or: Presence.Agent [switches])
          --config <path>                 agent.json to read instead of the one next to the program
          --host <name>                   Agent:Host, this computer's name ([a-z0-9][a-z0-9_-]{0,62})
          --broker <host[:port]>          Agent:Mqtt:Host and Agent:Mqtt:Port (default 127.0.0.1:1883)
          --topic-root <root>             Agent:Mqtt:TopicRoot (default presence)
          --tls-fingerprint <sha256>      Agent:Mqtt:Tls:Fingerprint: connect with TLS to a broker showing exactly this
                                          certificate (the server logs it on start; use the TLS port, e.g. --broker host:8883)
          --state <dir>                   Agent:StateDirectory, where executed commands are remembered
          --memory <mb>                   Agent:Resources:MemoryMb
          --speed <factor>                Agent:Simulated:SpeedFactor (10 = migrations ten times faster)
          --server-key <base64>           Agent:Trust:ServerKey, what `presence server-key` prints on the server;
                                          needed unless the broker is on this computer (127.0.0.1)
          --vm <name:memory_mb[:running|stopped]>
                                          a VM of this computer; repeat for more; replaces Agent:Vms
          --no-vms                        start with no VMs (for a second simulated computer)
          --Agent:<Key>=<value>           any option, e.g. --Agent:Mqtt:Username=basement,
                                          --Agent:Hypervisor=libvirt, --Agent:Sensors:Lid:Enabled=true
          --help                          this text

        Environment: Agent__Host=imac or PRESENCE_AGENT_HOST=imac; nested keys with __ (PRESENCE_AGENT_MQTT__PORT=1884).
        Precedence: agent.json < environment < command line.

        Example, two simulated computers moving a VM (with a broker on 127.0.0.1:1883):
          dotnet run --project src/Presence.Agent -- --host basement --speed 10
          dotnet run --project src/Presence.Agent -- --host imac --no-vms --speed 10
        """;

    private const string Section = "CommandLine";

    /// <summary>Each switch of <see cref="Usage"/> and the configuration key it sets.</summary>
    private static readonly Dictionary<string, string> SwitchMappings = new(StringComparer.Ordinal)
    {
        ["--config"] = $"{Section}:Config",
        ["--host"] = "Agent:Host",
        ["--broker"] = $"{Section}:Broker",
        ["--topic-root"] = "Agent:Mqtt:TopicRoot",
        ["--tls-fingerprint"] = "Agent:Mqtt:Tls:Fingerprint",
        ["--state"] = "Agent:StateDirectory",
        ["--memory"] = "Agent:Resources:MemoryMb",
        ["--speed"] = "Agent:Simulated:SpeedFactor",
        ["--server-key"] = "Agent:Trust:ServerKey",
        ["--no-vms"] = $"{Section}:NoVms",
        ["--help"] = $"{Section}:Help",
    };

    /// <summary>Switches that take no value, and the short spellings of <c>--help</c>.</summary>
    private static readonly IReadOnlyDictionary<string, string> Flags = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["--no-vms"] = "--no-vms",
        ["--help"] = "--help",
        ["-h"] = "--help",
        ["-?"] = "--help",
    };

    private readonly string[] switches;
    private readonly (string Host, string? Port)? broker;

    private AgentCommandLine(string[] switches)
    {
        this.switches = switches;
        var settings = new ConfigurationBuilder().AddCommandLine(switches, SwitchMappings).Build();
        Help = settings[$"{Section}:Help"] == "true";
        ConfigPath = settings[$"{Section}:Config"];
        broker = settings[$"{Section}:Broker"] is { } given ? ParseBroker(given) : null;
        var vms = settings.GetSection($"{Section}:Vms").GetChildren()
            .OrderBy(c => int.Parse(c.Key, CultureInfo.InvariantCulture))
            .Select(c => ParseVm(c.Value ?? ""))
            .ToList();
        Vms = vms.Count > 0 || settings[$"{Section}:NoVms"] == "true" ? vms : null;
    }

    public bool Help { get; }

    /// <summary>The file given with <c>--config</c>, or null for the default one.</summary>
    public string? ConfigPath { get; }

    /// <summary>The VMs of <c>--vm</c> (or none, for <c>--no-vms</c>), replacing the configured ones; null to keep those.</summary>
    public IReadOnlyList<VmOptions>? Vms { get; }

    /// <summary>Checks the switches; throws <see cref="AgentOptionsException"/> naming the first one at fault.</summary>
    public static AgentCommandLine Parse(IReadOnlyList<string> args)
    {
        List<string> switches = [];
        var vms = 0;
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            var (name, inlineValue) = arg.IndexOf('=') is var eq and > 0 ? (arg[..eq], arg[(eq + 1)..]) : (arg, null);

            string Value()
            {
                if (inlineValue is not null)
                {
                    return inlineValue;
                }

                if (i + 1 >= args.Count)
                {
                    throw new AgentOptionsException($"{name} needs a value; see --help");
                }

                return args[++i];
            }

            if (Flags.TryGetValue(name, out var flag))
            {
                switches.Add($"{flag}=true");
            }
            else if (name == "--vm")
            {
                switches.Add($"--{Section}:Vms:{vms++}={Value()}");
            }
            else if (SwitchMappings.ContainsKey(name))
            {
                switches.Add($"{name}={Value()}");
            }
            else if (KeyedSwitch().Match(name) is { Success: true } keyed)
            {
                // The environment's spelling (Agent__Mqtt__Port) is taken here too.
                switches.Add($"--{keyed.Groups["key"].Value.Replace("__", ":")}={Value()}");
            }
            else if (!arg.StartsWith('-'))
            {
                throw new AgentOptionsException($"unexpected argument '{arg}'; switches start with -- (see --help)");
            }
            else
            {
                throw new AgentOptionsException($"unknown switch '{arg}'; see --help");
            }
        }

        return new AgentCommandLine([.. switches]);
    }

    /// <summary>The command line as the top layer of <paramref name="builder"/>.</summary>
    public IConfigurationBuilder AddTo(IConfigurationBuilder builder)
    {
        builder.AddCommandLine(switches, SwitchMappings);
        if (broker is var (host, port))
        {
            var keys = new Dictionary<string, string?> { ["Agent:Mqtt:Host"] = host };
            if (port is not null)
            {
                keys["Agent:Mqtt:Port"] = port;
            }

            builder.AddInMemoryCollection(keys);
        }

        return builder;
    }

    private static (string Host, string? Port) ParseBroker(string value)
    {
        // [::1]:1883 for IPv6; otherwise the last colon separates the port.
        var match = BrokerPattern().Match(value);
        if (!match.Success)
        {
            throw new AgentOptionsException($"--broker '{value}' must be host or host:port");
        }

        var host = match.Groups["v6"].Success ? match.Groups["v6"].Value : match.Groups["host"].Value;
        return (host, match.Groups["port"].Success ? match.Groups["port"].Value : null);
    }

    private static VmOptions ParseVm(string value)
    {
        var parts = value.Split(':');
        if (parts.Length is < 2 or > 3
            || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var memory))
        {
            throw new AgentOptionsException($"--vm '{value}' must be name:memory_mb[:running|stopped], e.g. alice-desktop:8192");
        }

        return new VmOptions { Name = parts[0], MemoryMb = memory, State = parts.Length == 3 ? parts[2] : "running" };
    }

    [GeneratedRegex(@"^--(?<key>(Agent|Logging)(:|__).+)$", RegexOptions.IgnoreCase)]
    private static partial Regex KeyedSwitch();

    [GeneratedRegex(@"^(\[(?<v6>[^\]]+)\]|(?<host>[^:\[\]]+))(:(?<port>\d{1,5}))?$")]
    private static partial Regex BrokerPattern();
}
