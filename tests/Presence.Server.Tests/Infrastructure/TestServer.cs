using Marten;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Presence.Contracts.Wire;
using Presence.Server.Hosting;
using Presence.Server.Mqtt;
using Wolverine;

namespace Presence.Server.Tests.Infrastructure;

/// <summary>
/// The real server (same builder as Program.cs) on a database of its own, with its embedded broker on a free
/// port, or pointed at an external broker.
/// </summary>
public sealed class TestServer : IAsyncDisposable
{
    private readonly WebApplication app;

    private TestServer(WebApplication app, int mqttPort, string connectionString, string directory)
    {
        this.app = app;
        MqttPort = mqttPort;
        ConnectionString = connectionString;
        Directory = directory;
    }

    public int MqttPort { get; }

    /// <summary>The embedded broker's TLS port, when TLS is on (Mqtt:Tls:Enabled=true or a broker beyond loopback).</summary>
    public int TlsPort { get; private init; }

    /// <summary>Where the embedded broker keeps its TLS certificate: in this server's scratch folder.</summary>
    public static string CertificateFile(string directory) => Path.Combine(directory, "mqtt-broker.pfx");
    public string ConnectionString { get; }
    public string Directory { get; }
    public IServiceProvider Services => app.Services;

    /// <summary>Where the HTTP API and dashboard listen: a free port Kestrel picked at start.</summary>
    public Uri HttpAddress => new(app.Urls.First());
    public IDocumentStore Store => app.Services.GetRequiredService<IDocumentStore>();
    public Rejections Rejections => app.Services.GetRequiredService<Rejections>();

    /// <summary>
    /// An idle signal from <paramref name="host"/> for <paramref name="user"/> handed to its handler as the bridge
    /// would, inline (no broker, no inbox): for tests of what handling one signal reads and writes.
    /// </summary>
    public async Task IdleAsync(string user, string id, string host = "basement")
    {
        var topics = new Topics();
        var bytes = System.Text.Encoding.UTF8.GetBytes($$"""{"id":"{{id}}","user":"{{user}}","idle_seconds":5}""");
        var parsed = InboundParser.Parse(
            topics, topics.Signal(host, "idle"), bytes, NodaTime.SystemClock.Instance.GetCurrentInstant(), NodaTime.Duration.FromMinutes(5));
        await Services.GetRequiredService<IMessageBus>().InvokeAsync(Arrived.From(parsed, topics.Root, bytes));
    }

    /// <summary>
    /// Until the server has taken in each host's agent status (online) and inventory, and, given
    /// <paramref name="running"/>, one of them runs that VM. Inputs from different computers are handled in parallel
    /// lanes (and MQTT never ordered them across publishers): a test whose login depends on an agent's inventory waits
    /// for it here rather than on the broker having passed it on. Online is not enough: a login decided before the
    /// inventory is stored finds the VM running nowhere, and what follows is no hold-down for a move (CI timed out so
    /// in three tests).
    /// </summary>
    public Task AgentsKnownAsync(IReadOnlyList<string> hosts, string? running = null) =>
        Eventually.TrueAsync(async () =>
        {
            await using var session = Store.QuerySession();
            var known = await session.LoadManyAsync<Presence.Domain.Hosts.HostState>([.. hosts.Select(Presence.Domain.Hosts.HostState.StreamId)]);
            return known.Count == hosts.Count && known.All(h => h is { AgentOnline: true, Cpus: > 0 })
                && (running is null || known.Any(h => h.Vms.Any(v => v.Name == running)));
        }, $"the server knowing the agents of {string.Join(", ", hosts)}{(running is null ? "" : $", one running {running}")}");

    /// <summary>Where the HTTP API listens (the test asks for a free port).</summary>
    public Uri BaseAddress => new(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());

    /// <summary>The house file the server was started with, for a CLI verb to read the same house.</summary>
    public string HouseFile => Path.Combine(Directory, "house.json");

    /// <summary>The real server at a real mosquitto, logged in as the server's identity there.</summary>
    public static Task<TestServer> StartAsync(ExternalBroker broker, string connectionString, string nodeName, string houseJson = TestHouse.Json) =>
        StartAsync(connectionString, broker.Port, nodeName, houseJson, mqttLogin: broker.ServerLogin);

    /// <summary>The public key the server writes on start for agents on this computer (what a loopback agent reads).</summary>
    public static string ServerKeyFile(string directory) => Path.Combine(directory, "server-key.pub");

    /// <param name="settings">More `--Key=value` settings, after the defaults so they win (e.g. --Mqtt:AllowAnonymous=true).</param>
    public static async Task<TestServer> StartAsync(
        string? connectionString = null,
        int? externalBrokerPort = null,
        string nodeName = "test",
        string houseJson = TestHouse.Json,
        string? directory = null,
        Action<IServiceCollection>? services = null,
        IEnumerable<string>? settings = null,
        (string User, string Password)? mqttLogin = null)
    {
        connectionString ??= await PostgresCluster.NewDatabaseAsync("server");
        directory ??= PostgresCluster.NewScratchDirectory("server");
        System.IO.Directory.CreateDirectory(directory);
        var house = Path.Combine(directory, "house.json");
        await File.WriteAllTextAsync(house, houseJson);

        var port = externalBrokerPort ?? Ports.Free();
        var tlsPort = Ports.Free();
        var args = Arguments(directory, "http://127.0.0.1:0", port, tlsPort, nodeName, external: externalBrokerPort is not null, mqttLogin);
        args.AddRange(settings ?? []);
        var builder = PresenceApp.CreateBuilder(args.ToArray());
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        PresenceApp.ConfigureServices(builder, connectionString);
        builder.Services.RunWolverineInSoloMode();
        services?.Invoke(builder.Services);
        var app = builder.Build();
        PresenceApp.MapEndpoints(app);
        await app.StartAsync();
        var server = new TestServer(app, port, connectionString, directory) { TlsPort = tlsPort };
        await app.Services.GetRequiredService<MqttBridge>().Connected.WaitAsync(TimeSpan.FromSeconds(30));
        await app.Services.GetRequiredService<MqttOutbound>().Connected.WaitAsync(TimeSpan.FromSeconds(30));
        return server;
    }

    /// <summary>
    /// For <see cref="StartAsync(string?, int?, string, string, string?, Action{IServiceCollection}?, IEnumerable{string}?, (string User, string Password)?)"/>'s
    /// services hook: a server without the start-up warm-up (SignalWarmup). Its rolled-back login of the house's first
    /// user goes through every Marten session listener, which a test's listener would take for the signal under test.
    /// </summary>
    public static void WithoutSignalWarmup(IServiceCollection services)
    {
        foreach (var warmup in services.Where(d => d.ServiceType == typeof(IHostedService) && d.ImplementationType == typeof(SignalWarmup)).ToList())
        {
            services.Remove(warmup);
        }
    }

    /// <summary>
    /// The settings every test server starts with, in process or as its own process: the house file in
    /// <paramref name="directory"/>, loopback addresses, and the key and certificate in that folder rather than this
    /// user's real data folder. The connection string is not among them.
    /// </summary>
    public static List<string> Arguments(string directory, string urls, int mqttPort, int tlsPort, string nodeName, bool external,
        (string User, string Password)? mqttLogin = null)
    {
        var args = new List<string>
        {
            "--config", Path.Combine(directory, "house.json"),
            $"--Urls={urls}",
            "--Mqtt:Host=127.0.0.1",
            $"--Mqtt:Port={mqttPort}",
            $"--Mqtt:NodeName={nodeName}",
            $"--Mqtt:Broker={(external ? "External" : "Embedded")}",
            // Where the agents of a loopback house read it (TestAgents), instead of this user's real data folder.
            $"--Signing:PublicKeyFile={ServerKeyFile(directory)}",
            // Never 8883 (parallel servers) nor the user's real data folder.
            $"--Mqtt:Tls:Port={tlsPort}",
            $"--Mqtt:Tls:CertificateFile={CertificateFile(directory)}",
            // The first-use work only: a test's server runs a few dozen signals, not a day, and the suite starts
            // hundreds of servers (each 50 logins would add ~0.6 s).
            "--Mqtt:WarmupLogins=2",
        };
        if (mqttLogin is var (user, password))
        {
            args.Add($"--Mqtt:Username={user}");
            args.Add($"--Mqtt:Password={password}");
        }

        return args;
    }

    public async Task<long> EventCountAsync()
    {
        await using var session = Store.QuerySession();
        return await session.Events.QueryAllRawEvents().CountAsync();
    }

    private int disposed;

    /// <summary>Once: a test may stop the server early (the house owning it disposes it again at the end).</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref disposed, 1) == 1)
        {
            return;
        }

        await app.StopAsync();
        await app.DisposeAsync();
    }
}
