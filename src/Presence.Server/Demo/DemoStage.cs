using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Marten;
using MQTTnet;
using MQTTnet.Protocol;
using Presence.Contracts.Requests;
using Presence.Contracts.Signals;
using NodaTime;
using Presence.Agent;
using Presence.Contracts.Wire;
using Presence.Domain.Hosts;
using Presence.Domain.House;
using Presence.Server.Configuration;

namespace Presence.Server.Demo;

/// <summary>A step names a computer or person this house does not have; the demo says so and goes on.</summary>
public sealed class StepSkipped(string message) : Exception(message);

/// <summary>
/// What a step acts on: MQTT clients in the roles of the house's emitters and of Home Assistant, each with its
/// own client id and identity (CONTRACT.md §5: a computer speaks only about itself, requests and maintenance
/// come from a controller). It prints every message it sends, so a reader can send the same with mosquitto_pub.
/// It also holds the house's <see cref="DemoClock"/> and the simulated agents, for what an emitter cannot say on
/// its own: the time of day, and a laptop's power supply as its agent reports it.
/// </summary>
public sealed class DemoStage(
    HousePolicy policy,
    MqttOptions mqtt,
    int port,
    IReadOnlyDictionary<string, ComputerOptions> computers,
    TextWriter output,
    DemoClock clock,
    IReadOnlyDictionary<string, PresenceAgent> agents,
    IDocumentStore store) : IAsyncDisposable
{
    private static readonly TimeSpan StoredTimeout = TimeSpan.FromSeconds(10);

    private readonly Topics topics = new(mqtt.TopicRoot);
    private readonly Dictionary<string, IMqttClient> clients = [];
    private int sent;

    /// <summary>The identity requests and maintenance come from: Home Assistant's, if it is a controller.</summary>
    public string Controller { get; } =
        mqtt.Controllers.Contains("homeassistant") ? "homeassistant" : mqtt.Controllers.FirstOrDefault() ?? "homeassistant";

    public ComputerOptions Computer(string host) =>
        computers.TryGetValue(host, out var computer) ? computer : throw new StepSkipped($"this house has no computer '{host}'");

    public DemoClock Clock => clock;

    /// <summary>The story skips ahead: the house's clocks (server and agents alike) move on to the next <paramref name="time"/>.</summary>
    public Task ClockToAsync(LocalTime time)
    {
        var now = clock.AdvanceTo(time);
        output.WriteLine($"      ⏲ the house's clocks move on to {now.ToString("HH:mm, dddd d MMMM", CultureInfo.InvariantCulture)}");
        return Task.CompletedTask;
    }

    /// <summary>Several console session signals, one after the other.</summary>
    public async Task SessionsAsync(SessionState state, params (string Host, string User)[] sessions)
    {
        foreach (var (host, user) in sessions)
        {
            await SessionAsync(host, user, state);
        }
    }

    /// <summary>
    /// The power cable comes out: the computer's agent reports it on battery in its inventory (what the battery rules
    /// and benefit points read), and once the server has stored that, its emitter sends the power signal (what tells
    /// Presence that someone may be leaving with it).
    /// </summary>
    public async Task UnplugAsync(string host, int batteryPercent)
    {
        RequireHost(host);
        if (!agents.TryGetValue(host, out var agent))
        {
            throw new StepSkipped($"no simulated agent runs on '{host}'");
        }

        await agent.SetPowerAsync(onBattery: true, batteryPercent);
        output.WriteLine($"      ⇢ as {host} (its agent): {topics.AgentInventory(host)} {{\"on_battery\":true,\"battery_percent\":{batteryPercent},…}} (retained)");
        await StoredAsync(host, h => h.OnBattery && h.BatteryPercent == batteryPercent, $"{host} on battery");
        await PowerAsync(host, ac: false, batteryPercent);
    }

    /// <summary>Until the server's record of <paramref name="host"/> satisfies <paramref name="until"/>; says so if it never does.</summary>
    private async Task StoredAsync(string host, Func<HostState, bool> until, string what)
    {
        var deadline = DateTime.UtcNow + StoredTimeout;
        while (DateTime.UtcNow < deadline)
        {
            await using (var session = store.QuerySession())
            {
                if (await session.LoadAsync<HostState>(HostState.StreamId(host)) is { } state && until(state))
                {
                    return;
                }
            }

            await Task.Delay(50);
        }

        output.WriteLine($"      (the server has not stored {what} after {StoredTimeout.TotalSeconds:0} s; going on)");
    }

    /// <summary>A console session signal from <paramref name="host"/>'s own emitter.</summary>
    public Task SessionAsync(string host, string user, SessionState state)
    {
        if (policy.User(user) is null)
        {
            throw new StepSkipped($"this house has no user '{user}'");
        }

        return SignalAsync(host, "session", new JsonObject { ["user"] = user, ["state"] = ContractJson.WireName(state), ["seat"] = "console" });
    }

    public Task LidAsync(string host, LidState state) =>
        SignalAsync(host, "lid", new JsonObject { ["state"] = ContractJson.WireName(state) });

    public Task PowerAsync(string host, bool ac, int? batteryPercent)
    {
        var payload = new JsonObject { ["ac"] = ac };
        if (batteryPercent is { } percent)
        {
            payload["battery_percent"] = percent;
        }

        return SignalAsync(host, "power", payload);
    }

    /// <summary>
    /// Publishes a signal (CONTRACT.md §1) as the computer it is about, the only identity allowed to. Written as
    /// JSON here because the contract's Signal records do not serialize: each subclass's User/Kind override
    /// loses the base's [JsonIgnore] and collides with its "user" property.
    /// </summary>
    public Task SignalAsync(string host, string kind, JsonObject payload)
    {
        RequireHost(host);
        payload["id"] = NextId();
        return PublishAsync(host, topics.Signal(host, kind), payload.ToJsonString(ContractJson.Options));
    }

    /// <summary>Home Assistant switches a computer's maintenance mode.</summary>
    public Task MaintenanceAsync(string host, MaintenanceRequest.Switch state, string reason)
    {
        RequireHost(host);
        return PublishAsync(Controller, topics.Maintenance(host),
            ContractJson.Serialize(new MaintenanceRequest { State = state, Reason = reason, Id = NextId() }));
    }

    /// <summary>Home Assistant (or a person through it) asks something about a user's session.</summary>
    public Task RequestAsync(string user, RequestAction action, string? target = null)
    {
        if (policy.User(user) is null)
        {
            throw new StepSkipped($"this house has no user '{user}'");
        }

        return PublishAsync(Controller, topics.UserRequests(user),
            ContractJson.Serialize(new UserRequest { Action = action, Target = target, Id = NextId() }));
    }

    private void RequireHost(string host)
    {
        if (policy.Host(host) is null)
        {
            throw new StepSkipped($"this house has no computer '{host}'");
        }
    }

    // Ids let the server drop a QoS 1 redelivery; the demo's database is new each run, so they need only be unique in it.
    private string NextId() => $"demo-{Interlocked.Increment(ref sent):000}";

    private Task PublishAsync(string identity, string topic, byte[] json) => PublishAsync(identity, topic, Encoding.UTF8.GetString(json));

    private async Task PublishAsync(string identity, string topic, string json)
    {
        output.WriteLine($"      ⇢ as {identity}: {topic} {json}");
        var client = await ClientAsync(identity);
        var result = await client.PublishAsync(new MqttApplicationMessageBuilder()
            .WithTopic(topic)
            .WithPayload(Encoding.UTF8.GetBytes(json))
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce)
            .Build());
        if (!result.IsSuccess)
        {
            output.WriteLine($"      ! the broker refused it: {result.ReasonCode} {result.ReasonString}");
        }
    }

    private async Task<IMqttClient> ClientAsync(string identity)
    {
        if (clients.TryGetValue(identity, out var existing) && existing.IsConnected)
        {
            return existing;
        }

        var client = existing ?? new MqttClientFactory().CreateMqttClient();
        clients[identity] = client;
        await client.ConnectAsync(new MqttClientOptionsBuilder()
            .WithTcpServer("127.0.0.1", port)
            .WithClientId($"demo-{identity}")
            .WithCredentials(identity, "")
            .WithProtocolVersion(MQTTnet.Formatter.MqttProtocolVersion.V500)
            .Build());
        return client;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var client in clients.Values)
        {
            if (client.IsConnected)
            {
                await client.DisconnectAsync();
            }

            client.Dispose();
        }

        clients.Clear();
    }
}
