using System.Buffers;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Marten;
using Microsoft.Extensions.Configuration.Json;
using MQTTnet;
using NodaTime;
using Presence.Agent;
using Presence.Contracts.Wire;
using Presence.Domain.House;
using Presence.Domain.Hosts;
using Presence.Domain.Users;
using Presence.Domain.Words;
using Presence.Server.Configuration;
using Presence.Server.Hosting;
using Presence.Server.Mqtt;
using Wolverine;
using AgentOptions = Presence.Agent.Configuration.AgentOptions;
using AgentVm = Presence.Agent.Configuration.VmOptions;
using static System.FormattableString;

namespace Presence.Server.Demo;

/// <summary>
/// The whole house in one process: the real server (the same <see cref="PresenceApp"/> builder as
/// `dotnet run`, with its embedded broker), one simulated agent per computer with every VM on its owner's home
/// host, and a feed that prints the event store as it grows. <see cref="PlayAsync"/> tells a
/// <see cref="DemoScript"/> against it.
/// </summary>
public sealed class DemoHouse : IAsyncDisposable
{
    /// <summary>How long a step may take to reach its outcomes before the story goes on without them.</summary>
    public static readonly TimeSpan StepTimeout = TimeSpan.FromSeconds(30);

    private static readonly TimeSpan AgentsTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan SettleTimeout = TimeSpan.FromSeconds(30);

    private readonly WebApplication app;
    private readonly HousePolicy policy;
    private readonly TextWriter output;
    private readonly string scratch;
    private readonly List<PresenceAgent> agents = [];
    private readonly Dictionary<string, PresenceAgent> agentsByHost = [];
    private readonly CancellationTokenSource feedStop = new();
    private EventFeed feed = null!;
    private Task feedTask = Task.CompletedTask;
    private DemoStage stage = null!;
    private IMqttClient? errors;

    private DemoHouse(WebApplication app, HousePolicy policy, DemoOptions options, int mqttPort, TextWriter output, string scratch, DemoClock clock)
    {
        this.app = app;
        this.policy = policy;
        Options = options;
        MqttPort = mqttPort;
        this.output = output;
        this.scratch = scratch;
        Clock = clock;
    }

    public DemoOptions Options { get; }

    /// <summary>The house's clock: the server's and every agent's.</summary>
    public DemoClock Clock { get; }

    /// <summary>The policy the server decides with: the house's, with the demo's hold-downs and shared storage.</summary>
    public HousePolicy Policy => policy;

    /// <summary>The house as the server runs it (with the demo's changes), as a house file spells it: histories carry it.</summary>
    public required HouseOptions House { get; init; }

    /// <summary>Writes the history of each of <paramref name="users"/> that has one to <c>{directory}/{prefix}-{user}.jsonl</c>.</summary>
    public async Task<IReadOnlyList<string>> ExportAsync(string directory, string prefix, IEnumerable<string> users, CancellationToken ct)
    {
        var written = new List<string>();
        await using var session = Store.QuerySession();
        foreach (var user in users)
        {
            var history = await Audit.StoredHistory.LoadAsync(session, user, ct);
            if (history.Count > 0)
            {
                written.Add(Replay.HistoryTransfer.Write(Path.Combine(directory, $"{prefix}-{user}.jsonl"), user, House, Clock.GetCurrentInstant(), history));
            }
        }

        return written;
    }

    public int MqttPort { get; }

    public IDocumentStore Store => app.Services.GetRequiredService<IDocumentStore>();

    /// <summary>Ends when the host is asked to stop (Ctrl+C, SIGTERM).</summary>
    public CancellationToken Stopping => app.Lifetime.ApplicationStopping;

    /// <summary>
    /// Starts the server on <paramref name="connectionString"/>, then the agents, and returns once every agent is
    /// online and its inventory stored. The builder comes from <see cref="PresenceApp.CreateBuilder"/>, so
    /// `--config` and `--Key=value` shape the house; the demo only insists on its own broker on loopback, its own
    /// shared storage, hold-downs short enough for a minute's story, and a house clock that starts at
    /// <paramref name="morning"/> (default <see cref="DemoScript.Morning"/>) today in the house's time zone.
    /// </summary>
    public static async Task<DemoHouse> StartAsync(
        WebApplicationBuilder builder, string connectionString, TextWriter output, CancellationToken ct, LocalTime? morning = null)
    {
        // The feed, the error watcher and the steps all write.
        output = TextWriter.Synchronized(output);
        var configuration = builder.Configuration;
        var (_, house, mqtt, _) = PresenceApp.ReadSettings(configuration);
        var options = DemoOptions.Read(configuration);
        var scratch = Path.Combine(Path.GetTempPath(), $"presence-demo-{Guid.NewGuid():N}");

        if (mqtt.Broker != BrokerKind.Embedded)
        {
            output.WriteLine("  The house names an external MQTT broker; the demo runs its own, so it never talks to your real house.");
        }

        var mqttPort = DemoMachine.PortOrFree(mqtt.Port, out var mqttMoved);
        if (mqttMoved)
        {
            output.WriteLine($"  MQTT port {mqtt.Port} is busy (a Presence server or mosquitto?), so the demo's broker takes {mqttPort}.");
        }

        var overrides = new Dictionary<string, string?>
        {
            ["Mqtt:Broker"] = nameof(BrokerKind.Embedded),
            ["Mqtt:Host"] = IPAddress.Loopback.ToString(),
            ["Mqtt:Port"] = mqttPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Mqtt:NodeName"] = "demo",
            // The demo's agents are given the key directly; the house's own agents keep reading the real server's file.
            ["Signing:PublicKeyFile"] = Path.Combine(scratch, "server-key.pub"),
        };

        // The API on loopback too, on the configured port when it is free, so the printed address is the real one.
        var configuredHttp = Uri.TryCreate(configuration["Urls"]?.Split(';')[0], UriKind.Absolute, out var url) ? url.Port : 0;
        var httpPort = DemoMachine.PortOrFree(configuredHttp, out var httpMoved);
        overrides["Urls"] = $"http://127.0.0.1:{httpPort}";
        if (httpMoved)
        {
            output.WriteLine($"  HTTP port {configuredHttp} is busy, so the demo's API takes {httpPort}.");
        }

        // The house's rules, with the hold-downs scaled to the story's pace, and frozen VMs in a folder of its own
        // (the house's SharedStorage may not exist on this machine). Cooldown and quiet hours stay as they are:
        // they are part of the story.
        var holdDown = house.Policy.HoldDown;
        overrides["House:Policy:HoldDown:AttachDisplay"] = options.HoldDown(holdDown.AttachDisplay, "House:Policy:HoldDown:AttachDisplay");
        overrides["House:Policy:HoldDown:LiveMigration"] = options.HoldDown(holdDown.LiveMigration, "House:Policy:HoldDown:LiveMigration");
        overrides["House:Policy:HoldDown:SuspendResume"] = options.HoldDown(holdDown.SuspendResume, "House:Policy:HoldDown:SuspendResume");
        var shared = Path.Combine(scratch, "shared");
        overrides["House:Policy:SharedStorage"] = shared;

        configuration.AddInMemoryCollection(overrides);
        DemoMachine.QuietLogging(configuration);
        var (policy, effective, _, _) = PresenceApp.ReadSettings(configuration);
        var clock = new DemoClock(DateTimeZoneProviders.Tzdb[house.TimeZone], morning ?? DemoScript.Morning);

        PresenceApp.ConfigureServices(builder, connectionString, clock);
        // One process owns this database: no leader election to wait for.
        builder.Services.RunWolverineInSoloMode();
        // No faster poll of Wolverine's scheduled messages: waits fire on time from memory (Users.Configuration).
        var app = builder.Build();
        PresenceApp.MapEndpoints(app);
        Directory.CreateDirectory(shared);
        var demo = new DemoHouse(app, policy, options, mqttPort, output, scratch, clock) { House = effective };
        try
        {
            await app.StartAsync(ct);
            await app.Services.GetRequiredService<MqttBridge>().Connected.WaitAsync(TimeSpan.FromSeconds(30), ct);
            await app.Services.GetRequiredService<MqttOutbound>().Connected.WaitAsync(TimeSpan.FromSeconds(30), ct);
            await demo.StartPartsAsync(house, mqtt, ct);
            return demo;
        }
        catch
        {
            await demo.DisposeAsync();
            throw;
        }
    }

    private async Task StartPartsAsync(HouseOptions house, MqttOptions mqtt, CancellationToken ct)
    {
        var zone = DateTimeZoneProviders.Tzdb[house.TimeZone];
        feed = new EventFeed(Store, new DemoLines(zone, Options.EffectiveAgentSpeed), output);
        feedTask = Task.Run(() => feed.RunAsync(feedStop.Token), CancellationToken.None);

        var computers = policy.Hosts.ToDictionary(h => h.Name, Options.Computer);
        stage = new DemoStage(policy, mqtt, MqttPort, computers, output, Clock, agentsByHost, Store);
        errors = await WatchErrorsAsync(mqtt, stage.Controller, ct);

        output.WriteLine($"  MQTT: embedded broker on 127.0.0.1:{MqttPort}. Watch the traffic alongside with");
        output.WriteLine($"        mosquitto_sub -h 127.0.0.1 -p {MqttPort} -i watcher -u presence-cli -t '{mqtt.TopicRoot}/#' -v");
        output.WriteLine($"  HTTP: {app.Configuration["Urls"]}/ (the dashboard), {app.Configuration["Urls"]}/api/users");

        Directory.CreateDirectory(scratch);
        var serverKey = await app.Services.GetRequiredService<Signing.HouseKeys>().PublicKeyAsync(ct);
        foreach (var host in policy.Hosts)
        {
            var computer = computers[host.Name];
            var vms = policy.Vms.Where(v => policy.OwnerOfVm(v.Name)?.HomeHost == host.Name).ToList();
            var agent = new PresenceAgent(new AgentOptions
            {
                Host = host.Name,
                Mqtt =
                {
                    Host = IPAddress.Loopback.ToString(),
                    Port = MqttPort,
                    TopicRoot = mqtt.TopicRoot,
                    // The demo's broker is on loopback and its database fresh: a name is enough (see Mqtt/Admission).
                    Username = host.Name,
                    ReconnectDelay = TimeSpan.FromSeconds(1),
                },
                Resources =
                {
                    Cpus = computer.Cpus!.Value,
                    MemoryMb = computer.MemoryMb!.Value,
                    LinkMbps = host.LinkMbps,
                    OnBattery = computer.OnBattery ?? false,
                    BatteryPercent = computer.BatteryPercent,
                },
                Vms = vms.Select(v => new AgentVm { Name = v.Name, MemoryMb = v.MemoryMb, DisplayUri = v.DisplayUri }).ToList(),
                StateDirectory = Path.Combine(scratch, host.Name),
                Trust = { ServerKey = serverKey },
                Simulated =
                {
                    BandwidthMbps = host.LinkMbps,
                    SpeedFactor = Options.EffectiveAgentSpeed,
                    ProgressInterval = TimeSpan.FromMilliseconds(250),
                },
            }, app.Services.GetRequiredService<ILoggerFactory>(), Clock);
            agents.Add(agent);
            agentsByHost[host.Name] = agent;
            await agent.StartAsync(ct);
            var runs = vms.Count == 0 ? "no VMs yet" : "runs " + string.Join(", ", vms.Select(v => v.Name));
            var battery = computer.BatteryPercent is { } percent ? $", battery {percent} %{(computer.OnBattery == true ? " (on battery)" : "")}" : "";
            output.WriteLine(Invariant($"  Agent {host.Name}: {computer.Cpus} CPUs, {computer.MemoryMb / 1024.0:0.#} GiB, {host.LinkMbps} Mbit/s{battery}; {runs}"));
        }

        var rules = policy.Settings;
        output.WriteLine(Invariant($"  Simulated migrations run {Options.EffectiveAgentSpeed:0.#}× faster than the links would."));
        output.WriteLine($"  House clock: {Clock.Now.ToString("HH:mm, dddd d MMMM", CultureInfo.InvariantCulture)} ({house.TimeZone}), at real speed; the story moves it on.");
        output.WriteLine(Invariant($"  Policy: the house's, with its hold-downs × {Options.HoldDownScale / Options.Speed:0.###} to fit the story ") +
            $"(display {Wording.Duration(rules.HoldDown.AttachDisplay)}, live migration {Wording.Duration(rules.HoldDown.LiveMigration)}, " +
            $"suspend/resume {Wording.Duration(rules.HoldDown.SuspendResume)}); cooldown {Wording.Duration(rules.Cooldown)}, " +
            $"quiet hours {rules.QuietHours?.ToString() ?? "none"}, incoming VMs need {rules.LaptopMinBatteryPercent} % on a laptop's battery.");
        output.WriteLine($"  Frozen VMs go to {rules.SharedStorage}.");
        await WaitForAgentsAsync(ct);
    }

    /// <summary>Until the server has stored every agent's status and inventory, a login would find no VM to move.</summary>
    private async Task WaitForAgentsAsync(CancellationToken ct)
    {
        var deadline = DateTime.UtcNow + AgentsTimeout;
        while (true)
        {
            await using (var session = Store.QuerySession())
            {
                var hosts = (await session.Query<HostState>().ToListAsync(ct)).ToDictionary(h => h.Name);
                var ready = policy.Hosts.All(h => hosts.TryGetValue(h.Name, out var s) && s.AgentOnline && s.MemoryMb > 0)
                    && policy.Users.All(u => hosts.TryGetValue(u.HomeHost, out var s) && s.Vms.Any(v => v.Name == u.Vm));
                if (ready)
                {
                    return;
                }
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new StartupException($"the simulated agents did not all report to the server within {AgentsTimeout.TotalSeconds:0} s");
            }

            await Task.Delay(100, ct);
        }
    }

    /// <summary>Rejected messages store nothing, so the feed cannot show them; the errors topic does.</summary>
    private async Task<IMqttClient> WatchErrorsAsync(MqttOptions mqtt, string identity, CancellationToken ct)
    {
        var client = new MqttClientFactory().CreateMqttClient();
        client.ApplicationMessageReceivedAsync += e =>
        {
            try
            {
                using var json = JsonDocument.Parse(e.ApplicationMessage.Payload.ToArray());
                var topic = json.RootElement.TryGetProperty("topic", out var t) ? t.GetString() : "?";
                var error = json.RootElement.TryGetProperty("error", out var m) ? m.GetString() : "?";
                output.WriteLine($"      ! rejected {topic}: {error}");
            }
            catch (JsonException)
            {
                output.WriteLine($"      ! {e.ApplicationMessage.Topic}: {Encoding.UTF8.GetString(e.ApplicationMessage.Payload.ToArray())}");
            }

            return Task.CompletedTask;
        };
        await client.ConnectAsync(new MqttClientOptionsBuilder()
            .WithTcpServer(IPAddress.Loopback.ToString(), MqttPort)
            .WithClientId("demo-errors")
            .WithCredentials(identity, "")
            .WithProtocolVersion(MQTTnet.Formatter.MqttProtocolVersion.V500)
            .Build(), ct);
        await client.SubscribeAsync(new Topics(mqtt.TopicRoot).Errors, MQTTnet.Protocol.MqttQualityOfServiceLevel.AtLeastOnce, ct);
        return client;
    }

    /// <summary>
    /// Tells the story: each step's narration, its messages, then whatever the store records until the step's
    /// outcomes are there (or <see cref="StepTimeout"/> passed), then a pause to read.
    /// </summary>
    public async Task PlayAsync(DemoScript script, CancellationToken ct)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, Stopping);
        var token = linked.Token;
        for (var i = 0; i < script.Steps.Count; i++)
        {
            var step = script.Steps[i];
            await feed.PollAsync(token); // what the last pause left over is printed before the next narration
            output.WriteLine();
            output.WriteLine($"[{i + 1}/{script.Steps.Count}] {step.Narration}");
            var mark = await LastSequenceAsync(token);
            try
            {
                await step.Act(stage);
                await WaitForAsync(step.Until, mark, token);
            }
            catch (StepSkipped e)
            {
                output.WriteLine($"      (skipped: {e.Message})");
            }

            await feed.PollAsync(token);
            await Task.Delay(step.PauseAfter, token);
        }

        await SettleAsync(token);
        await feed.PollAsync(token);
    }

    private async Task<long> LastSequenceAsync(CancellationToken ct)
    {
        await using var session = Store.QuerySession();
        var last = await session.Events.QueryAllRawEvents().OrderByDescending(e => e.Sequence).Take(1).ToListAsync(ct);
        return last.Count == 0 ? 0 : last[0].Sequence;
    }

    /// <summary>Until every outcome has an event in its stream after <paramref name="mark"/>; says which did not come.</summary>
    private async Task WaitForAsync(IReadOnlyList<Outcome> outcomes, long mark, CancellationToken ct)
    {
        var missing = outcomes.ToList();
        var deadline = DateTime.UtcNow + StepTimeout;
        while (missing.Count > 0)
        {
            await using (var session = Store.QuerySession())
            {
                foreach (var stream in missing.Select(o => o.Stream).Distinct().ToList())
                {
                    // In the order they were appended: an outcome can be "a move ended after the last wait began", and
                    // PostgreSQL returns rows in no order without one (a rolled-back insert's space is reused).
                    var events = await session.Events.QueryAllRawEvents()
                        .Where(e => e.StreamKey == stream && e.Sequence > mark)
                        .OrderBy(e => e.Sequence)
                        .ToListAsync(ct);
                    var data = events.Select(e => e.Data).ToList();
                    missing.RemoveAll(o => o.Stream == stream && o.IsDoneBy(data));
                }
            }

            if (missing.Count == 0)
            {
                return;
            }

            if (DateTime.UtcNow > deadline)
            {
                await feed.PollAsync(ct);
                output.WriteLine($"      (after {StepTimeout.TotalSeconds:0} s the store holds no {string.Join(", no ", missing.Select(o => o.What))}; the story goes on)");
                return;
            }

            await Task.Delay(100, ct);
        }
    }

    /// <summary>Moves and display attaches still under way get their time to finish, so the summary is the end state.</summary>
    private async Task SettleAsync(CancellationToken ct)
    {
        var deadline = DateTime.UtcNow + SettleTimeout;
        var said = false;
        while (DateTime.UtcNow < deadline)
        {
            await using (var session = Store.QuerySession())
            {
                var busy = (await session.Query<UserSaga>().ToListAsync(ct)).Where(s => s.Migration is not null || s.PendingDisplay is not null).ToList();
                if (busy.Count == 0)
                {
                    return;
                }

                if (!said)
                {
                    output.WriteLine($"  (waiting for {string.Join(", ", busy.Select(s => s.Id))} to finish…)");
                    said = true;
                }
            }

            await Task.Delay(EventFeed.Interval, ct);
        }
    }

    /// <summary>Where every VM runs now, as the agents' stored inventories say, with each user's seat and display.</summary>
    public async Task PrintSummaryAsync(CancellationToken ct)
    {
        await using var session = Store.QuerySession();
        var hosts = await session.Query<HostState>().ToListAsync(ct);
        var sagas = (await session.Query<UserSaga>().ToListAsync(ct)).ToDictionary(s => s.Id);
        var count = await session.Events.QueryAllRawEvents().CountAsync(ct);

        output.WriteLine();
        output.WriteLine("Where everything is now (from the event store):");
        foreach (var user in policy.Users)
        {
            var runsOn = hosts.Where(h => h.Vms.Any(v => v.Name == user.Vm && v.State is VmRunState.Running or VmRunState.Paused))
                .Select(h => h.Name).ToList();
            var where = runsOn.Count == 0 ? "runs nowhere" : $"runs on {string.Join(" and ", runsOn)}";
            var saga = sagas.GetValueOrDefault(user.Name);
            var line = new StringBuilder($"  {user.Name,-8}  {user.Vm,-14}  {where}");
            if (saga?.VmHost is { } believed && !runsOn.Contains(believed))
            {
                line.Append($" (Presence believes {believed})");
            }

            if (saga?.DisplayedOn is { } shown && !runsOn.Contains(shown))
            {
                line.Append($", shown on {shown}");
            }

            line.Append(saga?.Seat is { } seat ? $"; {user.Name} sits at {seat}" : $"; {user.Name} sits nowhere");
            if (saga?.Migration is { } m)
            {
                line.Append($"; still moving {m.Source} → {m.Target}");
            }

            output.WriteLine(line.ToString());
        }

        var maintenance = hosts.Where(h => h.InMaintenance).Select(h => h.Name).ToList();
        if (maintenance.Count > 0)
        {
            output.WriteLine($"  In maintenance: {string.Join(", ", maintenance)}");
        }

        output.WriteLine($"  {count} events recorded: every signal, decision, command and outcome above.");
    }

    public async ValueTask DisposeAsync()
    {
        await feedStop.CancelAsync();
        await feedTask;
        if (stage is not null)
        {
            await stage.DisposeAsync();
        }

        if (errors is not null)
        {
            if (errors.IsConnected)
            {
                await errors.DisconnectAsync();
            }

            errors.Dispose();
        }

        // Agents first: a migration they stop leaves its VM where it was, and they say goodbye to a broker still there.
        await Task.WhenAll(agents.Select(a => a.DisposeAsync().AsTask()));
        try
        {
            await app.StopAsync(CancellationToken.None);
        }
        finally
        {
            await app.DisposeAsync();
            feedStop.Dispose();
            DemoMachine.TryDelete(scratch);
        }
    }
}
