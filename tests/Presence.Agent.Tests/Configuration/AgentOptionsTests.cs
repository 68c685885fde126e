using System.Collections;
using Presence.Agent.Configuration;

namespace Presence.Agent.Tests.Configuration;

public sealed class AgentOptionsTests : IDisposable
{
    private readonly string scratch = Directory.CreateTempSubdirectory("presence-agent-options-").FullName;

    public void Dispose() => Directory.Delete(scratch, recursive: true);

    [Fact]
    public void A_bad_host_stops_the_agent_before_it_starts_naming_the_key()
    {
        var options = new AgentOptions { Host = "Bad Name", StateDirectory = scratch };

        var error = Assert.Throws<AgentOptionsException>(() => new PresenceAgent(options));

        Assert.Equal("Agent:Host 'Bad Name' must match [a-z0-9][a-z0-9_-]{0,62}", error.Message);
    }

    [Theory]
    [InlineData("--Agent:Mqtt:Port=abc", "Agent:Mqtt:Port 'abc' must be a whole number")]
    [InlineData("--Agent:Mqtt:Port=70000", "Agent:Mqtt:Port 70000 must be between 1 and 65535")]
    [InlineData("--Agent:Simulated:ProgressInterval=soon", "Agent:Simulated:ProgressInterval 'soon' must be a duration such as 00:00:01.5 (hh:mm:ss)")]
    [InlineData("--Agent:Hypervisor=vmware", "Agent:Hypervisor 'vmware' must be simulated, qemu or libvirt")]
    [InlineData("--Agent:Hypervisor=qemu --Agent:Qemu:Binary=/nonexistent/qemu-system-x86_64",
        "Agent:Qemu:Binary '/nonexistent/qemu-system-x86_64' is not an executable file nor found on PATH (Debian: apt-get install qemu-system-x86)")]
    [InlineData("--Agent:Hypervisor=qemu --Agent:Qemu:Binary=/bin/sh --Agent:Qemu:ConvergenceRounds=0", "Agent:Qemu:ConvergenceRounds 0 must be at least 1")]
    [InlineData("--Agent:Hypervisor=qemu --Agent:Qemu:Binary=/bin/sh --Agent:Qemu:MigrationAddress=::1",
        "Agent:Qemu:MigrationAddress '::1' must be a host name or IPv4 address this host is reached at")]
    [InlineData("--Agent:Mqtt:TopicRoot=presence/#", "Agent:Mqtt:TopicRoot 'presence/#' must be non-empty, without + or # or a trailing /")]
    [InlineData("--vm=alice-desktop", "--vm 'alice-desktop' must be name:memory_mb[:running|stopped], e.g. alice-desktop:8192")]
    [InlineData("--vm=alice-desktop:8192:paused", "Agent:Vms:0:State 'paused' must be running, stopped or absent")]
    [InlineData("--broker=broker:port", "--broker 'broker:port' must be host or host:port")]
    [InlineData("--frobnicate", "unknown switch '--frobnicate'; see --help")]
    [InlineData("--server-key=not-a-key!", "Agent:Trust:ServerKey: the server key is not base64 (it looks like MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE…); copy it from `presence server-key` on the server")]
    [InlineData("--server-key=AAAA", "Agent:Trust:ServerKey: the server key is not an ECDSA public key (ASN1 corrupted data.); copy it from `presence server-key` on the server")]
    [InlineData("--Agent:Trust:MaxAge=00:00:00", "Agent:Trust:MaxAge 00:00:00 must be positive and at most 1 hour")]
    [InlineData("--tls-fingerprint=AB:CD", "Agent:Mqtt:Tls:Fingerprint 'AB:CD' must be a SHA-256: 64 hex digits, colons allowed (what the server logs on start and `enroll` prints)")]
    [InlineData("--Agent:Mqtt:Tls:CaFile=/nonexistent/ca.pem", "Agent:Mqtt:Tls:CaFile '/nonexistent/ca.pem' does not exist")]
    public void A_bad_value_is_reported_in_one_line_naming_it(string arg, string expected)
    {
        var error = Assert.Throws<AgentOptionsException>(() => Load(["--host", "imac", .. arg.Split(' ')]));

        Assert.Equal(expected, error.Message);
    }

    [Fact]
    public void The_file_the_environment_and_the_command_line_are_layered_in_that_order()
    {
        var file = Path.Combine(scratch, "agent.json");
        File.WriteAllText(file, """
            { "Agent": { "Host": "basement", "Mqtt": { "Host": "file-broker", "Port": 1000, "TopicRoot": "from-file" },
                         "Resources": { "MemoryMb": 4096 },
                         "Vms": [ { "Name": "a", "MemoryMb": 1 }, { "Name": "b", "MemoryMb": 2 } ] } }
            """);
        var environment = new Hashtable
        {
            ["PRESENCE_AGENT_MQTT__PORT"] = "2000",
            ["Agent__Mqtt__TopicRoot"] = "from-env",
            ["PRESENCE_AGENT_RESOURCES__MEMORYMB"] = "8192",
        };

        var (_, options) = AgentConfiguration.Load(
            ["--config", file, "--host", "imac", "--broker", "10.0.0.2:1883", "--vm", "alice-desktop:8192", "--vm", "bob-desktop:4096:stopped"],
            environment);

        Assert.Equal("imac", options.Host);
        Assert.Equal(("10.0.0.2", 1883), (options.Mqtt.Host, options.Mqtt.Port));
        Assert.Equal("from-env", options.Mqtt.TopicRoot);
        Assert.Equal(8192, options.Resources.MemoryMb);
        Assert.Equal("presence-agent-imac", options.EffectiveClientId);
        Assert.Collection(options.Vms,
            a => Assert.Equal(("alice-desktop", 8192, "running"), (a.Name, a.MemoryMb, a.State)),
            b => Assert.Equal(("bob-desktop", 4096, "stopped"), (b.Name, b.MemoryMb, b.State)));
    }

    [Fact]
    public void The_shipped_agent_json_is_a_working_default()
    {
        var (_, options) = AgentConfiguration.Load([], new Hashtable());

        Assert.Equal("basement", options.Host);
        Assert.Equal(("127.0.0.1", 1883, "presence"), (options.Mqtt.Host, options.Mqtt.Port, options.Mqtt.TopicRoot));
        Assert.Equal("simulated", options.Hypervisor);
        Assert.NotEmpty(options.Vms);
    }

    [Fact]
    public void No_vms_clears_the_vms_of_the_file()
    {
        var (_, options) = AgentConfiguration.Load(["--host", "imac", "--no-vms"], new Hashtable());

        Assert.Empty(options.Vms);
    }

    [Fact]
    public void The_qemu_example_configuration_is_valid()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Presence.sln")))
        {
            directory = directory.Parent;
        }

        var example = Path.Combine(directory!.FullName, "src", "Presence.Agent", "agent.qemu.example.json");
        var (_, options) = AgentConfiguration.Load(["--config", example], new Hashtable());

        Assert.Equal("qemu", options.Hypervisor);
        Assert.Equal(["running", "absent"], options.Vms.Select(v => v.State));
        Assert.Contains("-drive", options.Vms[0].QemuArguments);
        Assert.Equal(5901, options.Vms[0].DisplayPort);
        Assert.Equal(TimeSpan.FromMilliseconds(500), options.Qemu.PollInterval);
    }

    [Fact]
    public void Tls_files_that_cannot_be_used_are_reported_at_start_naming_the_key_and_the_problem()
    {
        var ca = Presence.Tests.Shared.TestCertificates.NewAuthority("options", scratch);
        var pfx = ca.ClientPfx("imac", "right");
        var (certificate, _) = ca.Client("laptop");
        var notACertificate = Path.Combine(scratch, "notes.txt");
        File.WriteAllText(notACertificate, "not a certificate");

        var garbage = Assert.Throws<AgentOptionsException>(() => Load("--host", "imac", $"--Agent:Mqtt:Tls:CaFile={notACertificate}"));
        var wrongPassword = Assert.Throws<AgentOptionsException>(() => Load("--host", "imac", $"--Agent:Mqtt:Tls:ClientCertificate={pfx}", "--Agent:Mqtt:Tls:ClientCertificatePassword=hunter2-typo"));
        var keyless = Assert.Throws<AgentOptionsException>(() => Load("--host", "imac", $"--Agent:Mqtt:Tls:ClientCertificate={certificate}"));

        Assert.StartsWith($"Agent:Mqtt:Tls:CaFile '{notACertificate}' is not a readable PEM or DER certificate", garbage.Message);
        Assert.StartsWith($"Agent:Mqtt:Tls:ClientCertificate '{pfx}' cannot be loaded with its private key", wrongPassword.Message);
        Assert.DoesNotContain("hunter2", wrongPassword.Message);
        Assert.StartsWith($"Agent:Mqtt:Tls:ClientCertificate '{certificate}' cannot be loaded with its private key", keyless.Message);
        Assert.Equal(pfx, Load("--host", "imac", $"--Agent:Mqtt:Tls:ClientCertificate={pfx}", "--Agent:Mqtt:Tls:ClientCertificatePassword=right").Mqtt.Tls.ClientCertificate);
    }

    private AgentOptions Load(params string[] args) =>
        AgentConfiguration.Load(args, new Hashtable(), defaultConfigPath: Path.Combine(scratch, "none.json")).Options;
}
