using System.Collections;
using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Configuration;

namespace Presence.Agent.Configuration;

/// <summary>
/// Reads <see cref="AgentOptions"/> the way the program does. Later layers win:
/// <list type="number">
/// <item><c>agent.json</c> next to the program (or the file given with <c>--config</c>), section <c>Agent</c>;</item>
/// <item>environment variables <c>Agent__Host=imac</c>, <c>Agent__Mqtt__Port=1884</c> (standard .NET form);</item>
/// <item>environment variables <c>PRESENCE_AGENT_HOST=imac</c>, <c>PRESENCE_AGENT_MQTT__PORT=1884</c>;</item>
/// <item>the command line: <c>--Agent:Host=imac</c> for any key, or the short switches below.</item>
/// </list>
/// <code>
/// Presence.Agent [switches]
///   --config &lt;path&gt;                  agent.json to read instead of the one next to the program
///   --host &lt;name&gt;                    Agent:Host
///   --broker &lt;host[:port]&gt;           Agent:Mqtt:Host and Agent:Mqtt:Port
///   --topic-root &lt;root&gt;              Agent:Mqtt:TopicRoot
///   --state &lt;dir&gt;                    Agent:StateDirectory
///   --memory &lt;mb&gt;                    Agent:Resources:MemoryMb
///   --speed &lt;factor&gt;                 Agent:Simulated:SpeedFactor
///   --vm &lt;name:memory_mb[:running|stopped]&gt;   a VM of this computer; repeat for more; replaces Agent:Vms
///   --no-vms                         start with no VMs (for a second simulated computer)
///   --Agent:&lt;Key&gt;=&lt;value&gt;           any option, e.g. --Agent:Simulated:ProgressInterval=00:00:00.5
///   --help
/// </code>
/// </summary>
public static partial class AgentConfiguration
{
    public const string Usage = """
        presence-agent — runs the VMs of one computer for the Presence server, over MQTT.

        Usage: dotnet run --project src/Presence.Agent -- [switches]   (or: Presence.Agent [switches])
          --config <path>                 agent.json to read instead of the one next to the program
          --host <name>                   Agent:Host, this computer's name ([a-z0-9][a-z0-9_-]{0,62})
          --broker <host[:port]>          Agent:Mqtt:Host and Agent:Mqtt:Port (default 127.0.0.1:1883)
          --topic-root <root>             Agent:Mqtt:TopicRoot (default presence)
          --state <dir>                   Agent:StateDirectory, where executed commands are remembered
          --memory <mb>                   Agent:Resources:MemoryMb
          --speed <factor>                Agent:Simulated:SpeedFactor (10 = migrations ten times faster)
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

    public const string DefaultFileName = "agent.json";

    private const string EnvironmentPrefix = "PRESENCE_AGENT_";

    /// <summary>What the command line asked for, before it is layered over the file and the environment.</summary>
    public sealed record CommandLine(
        bool Help,
        string? ConfigPath,
        IReadOnlyDictionary<string, string?> Settings,
        IReadOnlyList<VmOptions>? Vms);

    /// <summary>
    /// Builds the layered configuration and binds and validates the options. Throws
    /// <see cref="AgentOptionsException"/> with one line naming the key or switch at fault.
    /// </summary>
    /// <param name="environment">The environment to read; the process's when null (tests pass their own).</param>
    public static (IConfigurationRoot Configuration, AgentOptions Options) Load(
        string[] args, IDictionary? environment = null, string? defaultConfigPath = null)
    {
        var commandLine = ParseCommandLine(args);
        var configuration = Build(commandLine, environment ?? Environment.GetEnvironmentVariables(), defaultConfigPath);
        var options = Bind(configuration);
        if (commandLine.Vms is { } vms)
        {
            // Arrays merge by index across layers: replacing the list is the only way to say "exactly these VMs".
            options.Vms = [.. vms];
        }

        AgentOptionsValidator.ThrowIfInvalid(options);
        return (configuration, options);
    }

    public static CommandLine ParseCommandLine(string[] args)
    {
        var settings = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        List<VmOptions>? vms = null;
        string? configPath = null;
        var help = false;

        for (var i = 0; i < args.Length; i++)
        {
            var arg = args[i];
            var (name, inlineValue) = arg.IndexOf('=') is var eq and > 0 ? (arg[..eq], arg[(eq + 1)..]) : (arg, null);

            string Value()
            {
                if (inlineValue is not null)
                {
                    return inlineValue;
                }

                if (i + 1 >= args.Length)
                {
                    throw new AgentOptionsException($"{name} needs a value; see --help");
                }

                return args[++i];
            }

            switch (name)
            {
                case "--help" or "-h" or "-?":
                    help = true;
                    break;
                case "--config":
                    configPath = Value();
                    break;
                case "--host":
                    settings["Agent:Host"] = Value();
                    break;
                case "--broker":
                    var (brokerHost, brokerPort) = ParseBroker(Value());
                    settings["Agent:Mqtt:Host"] = brokerHost;
                    if (brokerPort is not null)
                    {
                        settings["Agent:Mqtt:Port"] = brokerPort;
                    }

                    break;
                case "--topic-root":
                    settings["Agent:Mqtt:TopicRoot"] = Value();
                    break;
                case "--state":
                    settings["Agent:StateDirectory"] = Value();
                    break;
                case "--memory":
                    settings["Agent:Resources:MemoryMb"] = Value();
                    break;
                case "--speed":
                    settings["Agent:Simulated:SpeedFactor"] = Value();
                    break;
                case "--vm":
                    (vms ??= []).Add(ParseVm(Value()));
                    break;
                case "--no-vms":
                    vms ??= [];
                    break;
                default:
                    if (KeyedSwitch().Match(name) is { Success: true } keyed)
                    {
                        settings[keyed.Groups["key"].Value.Replace("__", ":")] = Value();
                        break;
                    }

                    throw new AgentOptionsException($"unknown switch '{arg}'; see --help");
            }
        }

        return new CommandLine(help, configPath, settings, vms);
    }

    public static IConfigurationRoot Build(CommandLine commandLine, IDictionary environment, string? defaultConfigPath = null)
    {
        var builder = new ConfigurationBuilder();
        var path = commandLine.ConfigPath ?? defaultConfigPath ?? Path.Combine(AppContext.BaseDirectory, DefaultFileName);
        var fullPath = Path.GetFullPath(path);
        if (commandLine.ConfigPath is not null && !File.Exists(fullPath))
        {
            throw new AgentOptionsException($"--config '{commandLine.ConfigPath}' does not exist");
        }

        builder.AddJsonFile(fullPath, optional: true, reloadOnChange: false);

        var standard = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        var prefixed = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (DictionaryEntry entry in environment)
        {
            var key = (string)entry.Key;
            var value = entry.Value as string;
            if (key.StartsWith(EnvironmentPrefix, StringComparison.OrdinalIgnoreCase))
            {
                prefixed[$"{AgentOptions.Section}:{key[EnvironmentPrefix.Length..].Replace("__", ":")}"] = value;
            }
            else if (key.StartsWith("Agent__", StringComparison.OrdinalIgnoreCase) || key.StartsWith("Logging__", StringComparison.OrdinalIgnoreCase))
            {
                standard[key.Replace("__", ":")] = value;
            }
        }

        builder.AddInMemoryCollection(standard);
        builder.AddInMemoryCollection(prefixed);
        builder.AddInMemoryCollection(commandLine.Settings);

        try
        {
            return builder.Build();
        }
        catch (InvalidDataException e)
        {
            throw new AgentOptionsException($"{fullPath} is not valid JSON: {e.InnerException?.Message ?? e.Message}");
        }
    }

    /// <summary>Binds the <c>Agent</c> section; a value of the wrong type is reported with its key, as validation is.</summary>
    public static AgentOptions Bind(IConfiguration configuration)
    {
        var options = new AgentOptions();
        try
        {
            configuration.GetSection(AgentOptions.Section).Bind(options);
        }
        catch (InvalidOperationException e) when (BinderFailure().Match(e.Message) is { Success: true } m)
        {
            throw new AgentOptionsException(
                $"{m.Groups["path"].Value} '{m.Groups["value"].Value}' must be {Describe(m.Groups["type"].Value)}");
        }

        return options;
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

    private static string Describe(string type) =>
        type.Contains("Int32") || type.Contains("Int64") ? "a whole number"
        : type.Contains("Double") ? "a number such as 2.5"
        : type.Contains("Boolean") ? "true or false"
        : type.Contains("TimeSpan") ? "a duration such as 00:00:01.5 (hh:mm:ss)"
        : $"a {type}";

    [GeneratedRegex(@"^--(?<key>(Agent|Logging)(:|__).+)$", RegexOptions.IgnoreCase)]
    private static partial Regex KeyedSwitch();

    [GeneratedRegex(@"^(\[(?<v6>[^\]]+)\]|(?<host>[^:\[\]]+))(:(?<port>\d{1,5}))?$")]
    private static partial Regex BrokerPattern();

    [GeneratedRegex(@"Failed to convert configuration value '(?<value>.*)' at '(?<path>[^']*)' to type '(?<type>[^']*)'")]
    private static partial Regex BinderFailure();
}
