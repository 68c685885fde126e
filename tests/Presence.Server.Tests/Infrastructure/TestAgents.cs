using Presence.Agent;
using Presence.Agent.Configuration;

namespace Presence.Server.Tests.Infrastructure;

/// <summary>Real agents with the simulated hypervisor, in-process, fast enough for tests.</summary>
public static class TestAgents
{
    /// <summary>Migrations run this many times faster than the link would carry them: seconds become fractions.</summary>
    public const double DefaultSpeed = 20;

    public static Task<PresenceAgent> StartAsync(string host, int mqttPort, string directory, params (string Name, int MemoryMb)[] running) =>
        StartAsync(host, mqttPort, directory, DefaultSpeed, running);

    /// <summary>An agent at a real mosquitto, logged in as its computer (the identity the broker's ACL goes by).</summary>
    public static Task<PresenceAgent> StartAsync(string host, ExternalBroker broker, string directory, params (string Name, int MemoryMb)[] running) =>
        StartAsync(host, broker.Port, directory, DefaultSpeed, running, (host, broker.PasswordOf(host)));

    /// <summary>At a real mosquitto, migrating <paramref name="speedFactor"/> times faster than a real link.</summary>
    public static Task<PresenceAgent> StartAsync(string host, ExternalBroker broker, string directory, double speedFactor, params (string Name, int MemoryMb)[] running) =>
        StartAsync(host, broker.Port, directory, speedFactor, running, (host, broker.PasswordOf(host)));

    /// <summary><paramref name="speedFactor"/>: how many times faster than a real link its migrations run.</summary>
    public static Task<PresenceAgent> StartAsync(string host, int mqttPort, string directory, double speedFactor, params (string Name, int MemoryMb)[] running) =>
        StartAsync(host, mqttPort, directory, speedFactor, running, login: null);

    /// <summary>An agent at the embedded broker's TLS port, pinning <paramref name="fingerprint"/>.</summary>
    public static Task<PresenceAgent> StartOverTlsAsync(string host, int tlsPort, string fingerprint, string directory, params (string Name, int MemoryMb)[] running) =>
        StartAsync(host, tlsPort, directory, DefaultSpeed, running, login: null, tls: fingerprint);

    private static async Task<PresenceAgent> StartAsync(
        string host, int mqttPort, string directory, double speedFactor, (string Name, int MemoryMb)[] running, (string User, string Password)? login, string? tls = null)
    {
        var options = new AgentOptions
        {
            Host = host,
            Mqtt = { Host = "127.0.0.1", Port = mqttPort, ReconnectDelay = TimeSpan.FromMilliseconds(200), Username = login?.User, Password = login?.Password },
            Resources = { Cpus = 4, MemoryMb = 16384, LinkMbps = 1000 },
            StateDirectory = Path.Combine(directory, "agent-" + host),
            // The loopback first run: the agent reads the key the server wrote beside its data.
            Trust = { ServerKeyFile = TestServer.ServerKeyFile(directory) },
            Simulated = { SpeedFactor = speedFactor, ProgressInterval = TimeSpan.FromMilliseconds(50) },
        };
        if (tls is not null)
        {
            options.Mqtt.Tls = new AgentTlsOptions { Enabled = true, Fingerprint = tls };
        }

        foreach (var (name, memory) in running)
        {
            options.Vms.Add(new VmOptions { Name = name, MemoryMb = memory, DisplayUri = $"spice://{host}:5901" });
        }

        var agent = new PresenceAgent(options);
        await agent.StartAsync(CancellationToken.None);
        return agent;
    }
}
