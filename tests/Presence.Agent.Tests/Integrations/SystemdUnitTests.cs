using System.Net;
using System.Net.Sockets;
using Presence.Tests.Shared;

namespace Presence.Agent.Tests.Integrations;

/// <summary>The systemd units in integrations/linux/ are well formed and start what the README there installs.</summary>
public sealed class SystemdUnitTests
{
    private static readonly string Directory = Path.Combine(RepositoryRoot(), "integrations", "linux");

    [Theory]
    [InlineData("presence-agent.service", "/opt/presence/agent/Presence.Agent", "/etc/presence/agent.env")]
    [InlineData("presence-server.service", "/opt/presence/server/Presence.Server", "/etc/presence/server.env")]
    public void A_unit_has_its_sections_and_starts_the_documented_binary(string file, string binary, string environmentFile)
    {
        var unit = Parse(File.ReadAllText(Path.Combine(Directory, file)));

        Assert.Equal(["Unit", "Service", "Install"], unit.Keys);
        Assert.Contains("network-online.target", unit["Unit"]["After"].Single().Split(' '));
        Assert.Contains("network-online.target", unit["Unit"]["Wants"].Single().Split(' '));
        var service = unit["Service"];
        // Both programs tell systemd when they are started (Agent_under_systemd, Server.Tests running_under_systemd);
        // a Type=notify unit whose program never says so is killed after TimeoutStartSec.
        Assert.Equal("notify", service["Type"].Single());
        Assert.Equal("presence", service["User"].Single());
        Assert.Equal("on-failure", service["Restart"].Single());
        Assert.Equal("-" + environmentFile, service["EnvironmentFile"].Single());
        var execStart = service["ExecStart"].Single();
        Assert.Equal(binary, execStart.Split(' ')[0]);
        Assert.Equal("multi-user.target", unit["Install"]["WantedBy"].Single());

        var readme = File.ReadAllText(Path.Combine(Directory, "README.md"));
        Assert.Contains($"ExecStart={execStart}", readme);
        Assert.Contains(environmentFile, readme);
    }

    [Fact]
    public void The_agent_units_state_directory_is_where_the_agent_keeps_its_journal()
    {
        var service = Parse(File.ReadAllText(Path.Combine(Directory, "presence-agent.service")))["Service"];

        Assert.Equal("presence-agent", service["StateDirectory"].Single());
        Assert.Contains("PRESENCE_AGENT_STATEDIRECTORY=/var/lib/presence-agent", service["Environment"]);
    }

    [Fact]
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public async Task The_agent_tells_systemd_it_started_even_before_the_broker_answers_and_that_it_stops()
    {
        var directory = Path.Combine(Path.GetTempPath(), $"presence-agent-systemd-{Guid.NewGuid():N}");
        using var nobody = new TcpListener(IPAddress.Loopback, 0);
        nobody.Start();
        var port = ((IPEndPoint)nobody.LocalEndpoint).Port;
        nobody.Stop();
        try
        {
            // No broker on that port: the agent keeps trying in the background, and is started all the same, so a
            // computer boots while the server's computer is still off.
            using var agent = UnderSystemd.Start(directory,
                ["dotnet", typeof(PresenceAgent).Assembly.Location, "--host", "basement", "--broker", $"127.0.0.1:{port}"],
                environment => environment["PRESENCE_AGENT_STATEDIRECTORY"] = Path.Combine(directory, "state"));

            Assert.Equal("READY=1", await agent.NextNotificationAsync(TimeSpan.FromSeconds(60)));
            await agent.StopAsync();
            Assert.Equal("STOPPING=1", await agent.NextNotificationAsync(TimeSpan.FromSeconds(30)));
            await agent.WaitForExitAsync(TimeSpan.FromSeconds(60));
        }
        finally
        {
            System.IO.Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>systemd's INI dialect: sections, <c>Key=Value</c>, comments with # or ;, a key may repeat.</summary>
    private static Dictionary<string, Dictionary<string, List<string>>> Parse(string text)
    {
        var sections = new Dictionary<string, Dictionary<string, List<string>>>(StringComparer.Ordinal);
        Dictionary<string, List<string>>? current = null;
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#') || line.StartsWith(';'))
            {
                continue;
            }

            if (line.StartsWith('[') && line.EndsWith(']'))
            {
                current = new Dictionary<string, List<string>>(StringComparer.Ordinal);
                sections.Add(line[1..^1], current);
                continue;
            }

            Assert.NotNull(current);
            var eq = line.IndexOf('=');
            Assert.True(eq > 0, $"'{line}' is not Key=Value");
            var key = line[..eq].Trim();
            if (!current.TryGetValue(key, out var values))
            {
                current[key] = values = [];
            }

            values.Add(line[(eq + 1)..].Trim());
        }

        return sections;
    }

    internal static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Presence.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"no Presence.sln above {AppContext.BaseDirectory}");
    }
}
