using System.Diagnostics;
using Presence.Agent;
using Presence.Agent.Configuration;
using Presence.Contracts.Agents;
using Presence.Tests.Shared;

namespace Presence.Server.Tests.Infrastructure;

/// <summary>
/// The whole path on a real hypervisor: an MQTT login, the server with PostgreSQL and its embedded broker, and two
/// agents driving qemu on 127.0.0.1, which live-migrates a running guest that keeps dirtying its memory.
/// Without qemu this fails (never skips): .ci/run installs qemu-system-x86.
/// </summary>
public abstract class QemuHouse : IAsyncLifetime
{
    /// <summary>One qemu house at a time: each guest keeps a core busy.</summary>
    public const string Collection = "qemu";

    protected const int GuestMemoryMb = 64;
    protected readonly string scratch = Directory.CreateTempSubdirectory("presence-qemu-e2e-").FullName;
    protected TestServer server = null!;
    protected PresenceAgent basement = null!;
    protected PresenceAgent imac = null!;
    private readonly List<PresenceAgent> stopped = [];
    private MachineLock? machine;
    private string binary = "";
    private string image = "";

    /// <summary>The policy's migration bandwidth cap in Mbit/s (0: the link), to make a migration last.</summary>
    protected virtual int MaxBandwidthMbps => 0;

    /// <summary>Policy keys to set besides the bandwidth, e.g. a short PrepareTimeout.</summary>
    protected virtual (string Key, string Json)[] Policy => [];

    /// <summary>
    /// Keep the source qemu paused after a migration (for inspection), or quit it as the product does by default.
    /// </summary>
    protected virtual bool KeepMigratedSource => true;

    /// <summary>The program the iMac's agent runs as qemu; a test can hand it one that never answers.</summary>
    protected virtual string ImacBinary(string qemu) => qemu;

    public async Task InitializeAsync()
    {
        // No other QEMU lab or browser on this machine meanwhile, from any test project.
        machine = await MachineLock.AcquireAsync();
        binary = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':')
                .Select(dir => Path.Combine(dir, "qemu-system-x86_64")).FirstOrDefault(File.Exists)
            ?? throw new InvalidOperationException("qemu-system-x86_64 is not installed (apt-get install qemu-system-x86, as .ci/run does)");
        image = Path.Combine(scratch, "boot.img");
        await File.WriteAllBytesAsync(image, BootSector());

        server = await TestServer.StartAsync(houseJson: TestHouse.With(house =>
        {
            house["Vms"]![0]!["MemoryMb"] = GuestMemoryMb;
            house["Policy"]!["MaxBandwidthMbps"] = MaxBandwidthMbps;
            foreach (var (key, json) in Policy)
            {
                house["Policy"]![key] = System.Text.Json.Nodes.JsonNode.Parse(json);
            }
        }));
        basement = await StartAgentAsync("basement");
        imac = await StartAgentAsync("imac");
        await Eventually.TrueAsync(async () =>
        {
            await using var session = server.Store.QuerySession();
            var hosts = await Marten.QueryableExtensions.ToListAsync(session.Query<Presence.Domain.Hosts.HostState>());
            return hosts.Count(h => h.AgentOnline && h.MemoryMb > 0) == 2
                && hosts.Single(h => h.Name == "basement").Vms.Any(v => v.Name == "alice-desktop" && v.State == Presence.Domain.House.VmRunState.Running);
        }, "both qemu agents online, the guest running in the basement");
    }

    /// <summary>
    /// Starts the host's agent as its configuration says (the guest running in the basement, absent on the iMac):
    /// at the beginning, or again on the same state folder after <see cref="PresenceAgent.SimulateCrashAsync"/>.
    /// </summary>
    protected async Task<PresenceAgent> StartAgentAsync(string host)
    {
        var (state, program) = host == "basement" ? ("running", binary) : ("absent", ImacBinary(binary));
        var agent = new PresenceAgent(new AgentOptions
        {
            Host = host,
            Hypervisor = "qemu",
            Mqtt = { Host = "127.0.0.1", Port = server.MqttPort, ReconnectDelay = TimeSpan.FromMilliseconds(200) },
            Resources = { Cpus = 2, MemoryMb = 1024, LinkMbps = 1000 },
            StateDirectory = Path.Combine(scratch, host),
            // As an enrolled computer is: given the house's key, not reading it from the server's folder.
            Trust = { ServerKey = await Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions.GetRequiredService<Presence.Server.Signing.HouseKeys>(server.Services).PublicKeyAsync(CancellationToken.None) },
            Vms =
            {
                new VmOptions
                {
                    Name = "alice-desktop",
                    MemoryMb = GuestMemoryMb,
                    State = state,
                    // A second monitor for the test, so it can ask qemu itself while the agent holds the first.
                    QemuArguments = ["-drive", $"file={image},format=raw", "-serial", "none", "-monitor", "none", "-qmp", $"unix:{ObserverSocket(host)},server=on,wait=off"],
                },
            },
            Qemu = new QemuOptions
            {
                Binary = program,
                Accelerator = "tcg",
                PollInterval = TimeSpan.FromMilliseconds(50),
                KeepMigratedSource = KeepMigratedSource,
                StopVmsOnExit = true,
            },
        });
        await agent.StartAsync(CancellationToken.None);
        return agent;
    }

    /// <summary>The test's own QMP socket of the host's qemu.</summary>
    protected string ObserverSocket(string host) => Path.Combine(scratch, host + "-observer.qmp");

    /// <summary>Dies without a goodbye (its qemu processes live on, as after a SIGKILL); disposed at the end.</summary>
    protected async Task CrashAsync(PresenceAgent agent)
    {
        await agent.SimulateCrashAsync();
        stopped.Add(agent);
    }

    public async Task DisposeAsync()
    {
        try
        {
            await imac.DisposeAsync();
            await basement.DisposeAsync();
            foreach (var agent in stopped)
            {
                await agent.DisposeAsync();
            }

            await server.DisposeAsync();

            // Whatever the agents did not stop (a failed test), no qemu outlives the test.
            foreach (var pidFile in Directory.EnumerateFiles(scratch, "*.pid", SearchOption.AllDirectories))
            {
                if (int.TryParse(File.ReadAllText(pidFile).Trim(), out var pid))
                {
                    try
                    {
                        using var process = Process.GetProcessById(pid);
                        process.Kill();
                    }
                    catch (ArgumentException)
                    {
                    }
                }
            }

            Directory.Delete(scratch, recursive: true);
        }
        finally
        {
            machine?.Dispose();
        }
    }

    protected async Task LogInAtTheImacAsync()
    {
        await using var emitter = await MqttProbe.ConnectAsAsync(server.MqttPort, "imac-emitter", "imac");
        await emitter.PublishAsync("presence/hosts/imac/signals/session", """{"id":"qemu-login","user":"alice","state":"login"}""");
    }

    protected async Task<IReadOnlyList<object>> StreamAsync()
    {
        await using var session = server.Store.QuerySession();
        return (await session.Events.FetchStreamAsync("alice")).Select(e => e.Data).ToList();
    }

    /// <summary>A real-mode loop that keeps incrementing a byte in each 4 KiB page from 64 KiB to 640 KiB.</summary>
    private static byte[] BootSector()
    {
        byte[] code = [0xFA, 0xB8, 0x00, 0x10, 0x8E, 0xD8, 0xFE, 0x06, 0x00, 0x00, 0x05, 0x00, 0x01, 0x3D, 0x00, 0xA0, 0x72, 0xF2, 0xEB, 0xED];
        var sector = new byte[512];
        code.CopyTo(sector, 0);
        sector[510] = 0x55;
        sector[511] = 0xAA;
        return sector;
    }
}
