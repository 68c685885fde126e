using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using NodaTime;
using Microsoft.Extensions.Logging;
using Presence.Agent.Configuration;
using Presence.Contracts.Agents;
using Presence.Contracts.Wire;
using Xunit.Abstractions;

namespace Presence.Agent.Tests.Support;

/// <summary>
/// One test's world: a broker, a watcher in the server's place, a scratch folder, and the agents started in it
/// (all stopped at the end). Topics live under a root other than the default, to prove it is honoured.
/// </summary>
public sealed class House : IAsyncDisposable
{
    public const string Root = "test-house";

    private readonly List<PresenceAgent> agents = [];
    private readonly ILoggerFactory loggers;
    private readonly XunitLoggerProvider logs;

    private House(TestBroker broker, Watcher watcher, ITestOutputHelper output)
    {
        Broker = broker;
        Watcher = watcher;
        Scratch = Directory.CreateTempSubdirectory("presence-agent-tests-").FullName;
        logs = new XunitLoggerProvider(output);
        loggers = LoggerFactory.Create(b => b.AddProvider(logs).SetMinimumLevel(LogLevel.Information));
    }

    /// <summary>The house's command-signing key, the server's in these tests; the agents are given its public half.</summary>
    public ECDsa ServerKey { get; } = HouseKey.Create();

    /// <summary>What the agents logged (information and up), oldest first.</summary>
    public IReadOnlyCollection<string> LogLines => logs.Lines;

    public TestBroker Broker { get; }
    public Watcher Watcher { get; }
    public string Scratch { get; }
    public Topics Topics { get; } = new(Root);

    public static async Task<House> StartAsync(ITestOutputHelper output)
    {
        var broker = await TestBroker.StartAsync();
        var watcher = await Watcher.ConnectAsync(broker.Port, $"{Root}/#");
        return new House(broker, watcher, output);
    }

    public static VmOptions Vm(string name, int memoryMb, string state = "running") =>
        new() { Name = name, MemoryMb = memoryMb, State = state, DisplayUri = $"spice://{name}-host:5901" };

    /// <summary>Options for a simulated computer with 16 GiB; migrations run 50 times faster than real time.</summary>
    public AgentOptions Options(string host, params VmOptions[] vms) => new()
    {
        Host = host,
        Mqtt = { Host = "127.0.0.1", Port = Broker.Port, TopicRoot = Root, ReconnectDelay = TimeSpan.FromMilliseconds(200) },
        Resources = { Cpus = 4, MemoryMb = 16384, LinkMbps = 1000 },
        Vms = [.. vms],
        StateDirectory = Path.Combine(Scratch, host),
        Trust = { ServerKey = HouseKey.ExportPublicKey(ServerKey) },
        Simulated =
        {
            BandwidthMbps = 1000,
            ProgressInterval = TimeSpan.FromMilliseconds(30),
            DirtyPagesRate = 1000,
            SpeedFactor = 50,
        },
    };

    /// <summary>Starts an agent and waits until its online status is out.</summary>
    public async Task<PresenceAgent> StartAgentAsync(AgentOptions options)
    {
        var agent = new PresenceAgent(options, loggers);
        agents.Add(agent);
        var since = Watcher.Messages.Count;
        await agent.StartAsync();
        await Watcher.WaitForAsync(
            m => m.Index >= since && m.Topic == Topics.AgentStatus(options.Host) && m.Text.Contains("\"online\""),
            $"{options.Host} online");
        return agent;
    }

    public Task<PresenceAgent> StartAgentAsync(string host, params VmOptions[] vms) => StartAgentAsync(Options(host, vms));

    /// <summary>Sends a command as the server would, signed now; property names are the wire's (command_id, type, vm, …).</summary>
    public async Task<string> SendAsync(string host, object command)
    {
        var json = JsonSerializer.Serialize(command);
        await SendRawAsync(host, json);
        return json;
    }

    /// <summary>Sends these exact bytes as a command, signed by the server now.</summary>
    public Task SendRawAsync(string host, string payload) => SendSignedAsync(host, payload, ServerKey, DateTimeOffset.UtcNow);

    /// <summary>Sends a command signed with <paramref name="key"/> as of <paramref name="issuedAt"/>: what a replay or another house would send.</summary>
    public Task SendSignedAsync(string host, string payload, ECDsa key, DateTimeOffset issuedAt)
    {
        var topic = Topics.AgentCommands(host);
        var bytes = Encoding.UTF8.GetBytes(payload);
        return Watcher.PublishAsync(topic, bytes, CommandSignature.Sign(key, topic, Instant.FromDateTimeOffset(issuedAt), bytes));
    }

    /// <summary>Sends a command with no signature, as any client able to publish on the topic could.</summary>
    public Task SendUnsignedAsync(string host, string payload) => Watcher.PublishAsync(Topics.AgentCommands(host), payload);

    /// <summary>Every event of one command so far, parsed by the contract (so a malformed one fails the test).</summary>
    public IReadOnlyList<AgentEvent> Events(string host, string commandId) =>
        Watcher.Messages
            .Where(m => m.Topic == Topics.AgentEvents(host))
            .Select(m => AgentEvent.Parse(host, m.Payload))
            .Where(e => e.CommandId == commandId)
            .ToList();

    public async Task<AgentEvent> EventAsync(string host, string commandId, AgentEventState state)
    {
        var message = await Watcher.WaitForAsync(
            m => m.Topic == Topics.AgentEvents(host) && AgentEvent.Parse(host, m.Payload) is var e && e.CommandId == commandId && e.State == state,
            $"{host} event {ContractJson.WireName(state)} of {commandId}");
        return AgentEvent.Parse(host, message.Payload);
    }

    /// <summary>Waits for the outcome of a command (anything after accepted/progress) and returns it.</summary>
    public async Task<AgentEvent> OutcomeAsync(string host, string commandId)
    {
        var message = await Watcher.WaitForAsync(
            m => m.Topic == Topics.AgentEvents(host) && AgentEvent.Parse(host, m.Payload) is var e && e.CommandId == commandId
                 && e.State is not (AgentEventState.Accepted or AgentEventState.Progress),
            $"{host} outcome of {commandId}");
        return AgentEvent.Parse(host, message.Payload);
    }

    /// <summary>
    /// Waits until a published inventory of the host satisfies the condition; returns that inventory. Only messages
    /// from index <paramref name="since"/> on (<c>Watcher.Messages.Count</c> before a restart) count.
    /// </summary>
    public async Task<AgentInventory> InventoryAsync(string host, Func<AgentInventory, bool> until, string what, int since = 0)
    {
        var message = await Watcher.WaitForAsync(
            m => m.Index >= since && m.Topic == Topics.AgentInventory(host) && until(AgentInventory.Parse(host, m.Payload)),
            $"{host} inventory: {what}");
        return AgentInventory.Parse(host, message.Payload);
    }

    /// <summary>The latest inventory the host published.</summary>
    public AgentInventory LatestInventory(string host) =>
        AgentInventory.Parse(host, Watcher.Messages.Last(m => m.Topic == Topics.AgentInventory(host)).Payload);

    /// <summary>Polls the broker's retained status until it matches: what a server starting now would read.</summary>
    public async Task<AgentStatus> RetainedStatusAsync(string host, AgentState state)
    {
        var deadline = DateTime.UtcNow + Watcher.Patience;
        while (true)
        {
            if (await Broker.RetainedAsync(Topics.AgentStatus(host)) is { } text
                && AgentStatus.Parse(host, System.Text.Encoding.UTF8.GetBytes(text)) is var status
                && status.State == state)
            {
                return status;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"retained status of {host} never became {ContractJson.WireName(state)}");
            }

            await Task.Delay(20);
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var agent in agents)
        {
            await agent.DisposeAsync();
        }

        await Watcher.DisposeAsync();
        await Broker.DisposeAsync();
        loggers.Dispose();
        ServerKey.Dispose();
        try
        {
            Directory.Delete(Scratch, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
