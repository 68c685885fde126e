using System.Collections;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Configuration;

namespace Presence.Agent.Configuration;

/// <summary>
/// Reads <see cref="AgentOptions"/> the way the program does. Later layers win:
/// <list type="number">
/// <item><c>agent.json</c> next to the program (or the file given with <c>--config</c>), section <c>Agent</c>;</item>
/// <item>environment variables <c>Agent__Host=imac</c>, <c>Agent__Mqtt__Port=1884</c> (standard .NET form);</item>
/// <item>environment variables <c>PRESENCE_AGENT_HOST=imac</c>, <c>PRESENCE_AGENT_MQTT__PORT=1884</c>;</item>
/// <item>the command line (<see cref="AgentCommandLine"/>): <c>--Agent:Host=imac</c> for any key, or the switches of <see cref="AgentCommandLine.Usage"/>.</item>
/// </list>
/// </summary>
public static partial class AgentConfiguration
{
    public const string DefaultFileName = "agent.json";

    private const string EnvironmentPrefix = "PRESENCE_AGENT_";

    /// <summary>
    /// Builds the layered configuration and binds and validates the options. Throws
    /// <see cref="AgentOptionsException"/> with one line naming the key or switch at fault.
    /// </summary>
    /// <param name="environment">The environment to read; the process's when null (tests pass their own).</param>
    public static (IConfigurationRoot Configuration, AgentOptions Options) Load(
        string[] args, IDictionary? environment = null, string? defaultConfigPath = null) =>
        Load(AgentCommandLine.Parse(args), environment, defaultConfigPath);

    public static (IConfigurationRoot Configuration, AgentOptions Options) Load(
        AgentCommandLine commandLine, IDictionary? environment = null, string? defaultConfigPath = null)
    {
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

    /// <summary>
    /// Makes the folder where executed commands and the VMs' whereabouts are kept, before anything starts: one that
    /// cannot be made (a path through a file, no write permission) is a setting to fix, told as one.
    /// </summary>
    /// <exception cref="AgentOptionsException">The folder cannot be made.</exception>
    public static void PrepareStateDirectory(AgentOptions options)
    {
        var directory = options.EffectiveStateDirectory;
        try
        {
            Directory.CreateDirectory(directory);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new AgentOptionsException(
                $"Agent:StateDirectory '{directory}' cannot be used ({e.Message.TrimEnd('.')}): give --state a folder this user may create and write");
        }
    }

    public static IConfigurationRoot Build(AgentCommandLine commandLine, IDictionary environment, string? defaultConfigPath = null)
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
        commandLine.AddTo(builder);

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

    private static string Describe(string type) =>
        type.Contains("Int32") || type.Contains("Int64") ? "a whole number"
        : type.Contains("Double") ? "a number such as 2.5"
        : type.Contains("Boolean") ? "true or false"
        : type.Contains("TimeSpan") ? "a duration such as 00:00:01.5 (hh:mm:ss)"
        : $"a {type}";

    [GeneratedRegex(@"Failed to convert configuration value '(?<value>.*)' at '(?<path>[^']*)' to type '(?<type>[^']*)'")]
    private static partial Regex BinderFailure();
}
