using System.Collections;
using System.Text.RegularExpressions;
using Presence.Agent.Configuration;

namespace Presence.Agent.Tests.Configuration;

public sealed partial class AgentCommandLineTests : IDisposable
{
    private readonly string scratch = Directory.CreateTempSubdirectory("presence-agent-cli-").FullName;

    public void Dispose() => Directory.Delete(scratch, recursive: true);

    [Fact]
    public void An_unknown_switch_is_named()
    {
        var error = Assert.Throws<AgentOptionsException>(() => AgentCommandLine.Parse(["--host", "imac", "--hots", "imac"]));

        Assert.Equal("unknown switch '--hots'; see --help", error.Message);
    }

    [Fact]
    public async Task A_state_folder_that_cannot_be_made_stops_the_agent_in_one_line_before_it_starts()
    {
        // A path through a file: no user can make it, root included.
        var file = Path.Combine(scratch, "file");
        await File.WriteAllTextAsync(file, "");
        var state = Path.Combine(file, "state");

        var error = Assert.Throws<AgentOptionsException>(() =>
            AgentConfiguration.PrepareStateDirectory(AgentConfiguration.Load(["--host", "imac", "--state", state], new Hashtable()).Options));
        Assert.StartsWith($"Agent:StateDirectory '{state}' cannot be used (", error.Message);
        Assert.EndsWith("): give --state a folder this user may create and write", error.Message);

        // As a person runs it: that line and the settings' exit code, not a crash.
        var (exitCode, output) = await RunAgentAsync("--host", "imac", "--state", state);
        Assert.True(exitCode == 2, $"exit {exitCode}\n{output}");
        Assert.Contains($"presence-agent: {error.Message}", output);
        Assert.DoesNotContain("Unhandled exception", output);
    }

    [Fact]
    public async Task A_hypervisor_that_does_not_answer_at_start_is_told_in_its_own_words_not_as_a_crash()
    {
        // libvirt on a socket nothing listens on: virsh (Debian's libvirt-clients) cannot list the domains.
        var (exitCode, output) = await RunAgentAsync("--host", "imac", "--state", Path.Combine(scratch, "state"), "--Agent:Hypervisor=libvirt",
            "--Agent:Libvirt:ConnectionUri=qemu+unix:///system?socket=" + Path.Combine(scratch, "no-libvirtd.sock"));

        Assert.True(exitCode == 3, $"exit {exitCode}\n{output}");
        Assert.Contains("presence-agent: could not list the domains on imac: ", output);
        Assert.DoesNotContain("Unhandled exception", output);
    }

    /// <summary>The agent as built in its own folder, in a process of its own, for 30 s at the most.</summary>
    private static async Task<(int ExitCode, string Output)> RunAgentAsync(params string[] args)
    {
        var run = await BuiltProgram.RunAsync(BuiltProgram.PathOf("Presence.Agent"), args, TimeSpan.FromSeconds(30));
        return (run.ExitCode, run.Output);
    }

    [Fact]
    public void An_unknown_short_switch_is_named()
    {
        var error = Assert.Throws<AgentOptionsException>(() => AgentCommandLine.Parse(["-x"]));

        Assert.Equal("unknown switch '-x'; see --help", error.Message);
    }

    [Fact]
    public void A_key_outside_the_agent_and_logging_sections_is_an_unknown_switch()
    {
        var error = Assert.Throws<AgentOptionsException>(() => AgentCommandLine.Parse(["--Mqtt:Port=1884"]));

        Assert.Equal("unknown switch '--Mqtt:Port=1884'; see --help", error.Message);
    }

    [Fact]
    public void A_switch_without_its_value_is_named()
    {
        var error = Assert.Throws<AgentOptionsException>(() => AgentCommandLine.Parse(["--no-vms", "--host"]));

        Assert.Equal("--host needs a value; see --help", error.Message);
    }

    [Fact]
    public void A_word_that_is_no_switch_is_named()
    {
        var error = Assert.Throws<AgentOptionsException>(() => AgentCommandLine.Parse(["--host", "imac", "basement"]));

        Assert.Equal("unexpected argument 'basement'; switches start with -- (see --help)", error.Message);
    }

    [Fact]
    public void A_config_file_that_is_not_there_is_named()
    {
        var missing = Path.Combine(scratch, "nowhere.json");

        var error = Assert.Throws<AgentOptionsException>(() => AgentConfiguration.Load(["--config", missing], new Hashtable()));

        Assert.Equal($"--config '{missing}' does not exist", error.Message);
    }

    [Theory]
    [InlineData("--help")]
    [InlineData("-h")]
    [InlineData("-?")]
    public void Help_is_asked_for_in_any_spelling(string help)
    {
        Assert.True(AgentCommandLine.Parse(["--host", "imac", help]).Help);
        Assert.False(AgentCommandLine.Parse(["--host", "imac"]).Help);
    }

    [Fact]
    public void Each_short_switch_sets_its_key()
    {
        var options = Load(
            "--host", "imac", "--broker", "[::1]:1884", "--topic-root", "house", "--state", Path.Combine(scratch, "state"),
            "--memory", "16384", "--speed", "10", "--vm", "alice-desktop:8192:stopped");

        Assert.Equal("imac", options.Host);
        Assert.Equal(("::1", 1884, "house"), (options.Mqtt.Host, options.Mqtt.Port, options.Mqtt.TopicRoot));
        Assert.Equal(Path.Combine(scratch, "state"), options.StateDirectory);
        Assert.Equal(16384, options.Resources.MemoryMb);
        Assert.Equal(10, options.Simulated.SpeedFactor);
        Assert.Equal(("alice-desktop", 8192, "stopped"), (options.Vms[0].Name, options.Vms[0].MemoryMb, options.Vms[0].State));
    }

    [Fact]
    public void A_tls_fingerprint_switch_turns_tls_on_and_pins_it()
    {
        var pin = string.Join(':', Enumerable.Repeat("0F", 32));

        var options = Load("--host", "imac", "--broker", "basement:8883", "--tls-fingerprint", pin);

        Assert.Equal((pin, true, 8883), (options.Mqtt.Tls.Fingerprint, options.Mqtt.Tls.IsOn, options.Mqtt.Port));
        Assert.False(Load("--host", "imac").Mqtt.Tls.IsOn);
    }

    [Fact]
    public void The_server_key_is_given_with_its_switch()
    {
        using var key = Presence.Contracts.Agents.HouseKey.Create();
        var text = Presence.Contracts.Agents.HouseKey.ExportPublicKey(key);

        var options = Load("--host", "imac", "--server-key", text);

        Assert.Equal(text, options.Trust.ServerKey);
    }

    [Fact]
    public void A_flag_does_not_take_the_next_switch_as_its_value()
    {
        var options = Load("--no-vms", "--host", "imac", "--speed", "10");

        Assert.Empty(options.Vms);
        Assert.Equal(("imac", 10.0), (options.Host, options.Simulated.SpeedFactor));
    }

    [Fact]
    public void Repeated_vms_are_all_kept_in_order()
    {
        var options = Load("--host", "imac", "--vm", "a:1", "--vm=b:2", "--vm", "c:3");

        Assert.Equal(["a", "b", "c"], options.Vms.Select(v => v.Name));
    }

    [Fact]
    public void Any_key_is_set_in_the_configuration_or_the_environment_spelling()
    {
        var options = Load("--host", "imac", "--Agent:Mqtt:Port=1884", "--Agent__Mqtt__TopicRoot", "house", "--agent:resources:cpus=3");

        Assert.Equal((1884, "house", 3), (options.Mqtt.Port, options.Mqtt.TopicRoot, options.Resources.Cpus));
    }

    [Fact]
    public void Every_switch_the_help_text_shows_is_understood()
    {
        var shown = SwitchInUsage().Matches(AgentCommandLine.Usage).Select(m => m.Groups["switch"].Value).Distinct().ToList();
        Assert.Contains("--topic-root", shown);

        foreach (var name in shown)
        {
            var value = name switch
            {
                "--vm" => "a:1",
                "--broker" => "127.0.0.1:1883",
                _ => "1",
            };
            var parsed = AgentCommandLine.Parse(name is "--help" or "--no-vms" ? [name] : [name, value]);
            Assert.NotNull(parsed);
        }
    }

    [Fact]
    public void Every_agent_command_line_the_documentation_shows_is_understood()
    {
        var root = Integrations.SystemdUnitTests.RepositoryRoot();
        var documents = Directory.EnumerateFiles(root, "*.md", SearchOption.AllDirectories)
            .Concat(Directory.EnumerateFiles(Path.Combine(root, "integrations"), "*.service", SearchOption.AllDirectories))
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}") && !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}"));
        var shown = documents
            .SelectMany(d => DocumentedCommandLine().Matches(File.ReadAllText(d)).Select(m => (Document: d, Line: m.Groups["args"].Value.Trim().TrimEnd('`'))))
            .ToList();
        Assert.Contains(shown, s => s.Line == "--help");
        Assert.Contains(shown, s => s.Document.EndsWith("presence-agent.service", StringComparison.Ordinal));

        foreach (var (document, line) in shown)
        {
            var parsed = AgentCommandLine.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries));
            Assert.True(parsed.Help || parsed.ConfigPath is not null || parsed.Vms is not null || line.Contains("--host"), $"{document}: {line}");
        }
    }

    private AgentOptions Load(params string[] args) =>
        AgentConfiguration.Load(args, new Hashtable(), defaultConfigPath: Path.Combine(scratch, "none.json")).Options;

    /// <summary>"dotnet run --project src/Presence.Agent -- …" and "Presence.Agent --config …" (a unit's ExecStart).</summary>
    [GeneratedRegex(@"(src/Presence\.Agent --|/Presence\.Agent(?= --))(?<args>[^\n]*)")]
    private static partial Regex DocumentedCommandLine();

    /// <summary>The switches at the start of a usage line: "  --host &lt;name&gt;   …".</summary>
    [GeneratedRegex(@"^\s+(?<switch>--[a-z][a-z-]*)\b", RegexOptions.Multiline)]
    private static partial Regex SwitchInUsage();
}
