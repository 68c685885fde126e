using System.Text;
using Microsoft.Extensions.Logging;
using NodaTime;
using Presence.Agent.Configuration;
using Presence.Agent.Tests.Support;
using Presence.Contracts.Agents;
using Presence.Contracts.Wire;
using Xunit.Abstractions;

namespace Presence.Agent.Tests.Commands;

/// <summary>The signature travels as MQTT 5 user properties: mosquitto relays them, so signed commands work through it too.</summary>
public sealed class SignedThroughMosquittoTests(ITestOutputHelper output)
{
    [Fact]
    public async Task A_signed_command_through_mosquitto_is_carried_out_and_an_unsigned_one_is_refused()
    {
        await using var mosquitto = await Mosquitto.StartAsync();
        await using var watcher = await Watcher.ConnectAsync(mosquitto.Port, "presence/agents/basement/#");
        using var serverKey = HouseKey.Create();
        using var loggers = LoggerFactory.Create(b => b.AddProvider(new XunitLoggerProvider(output)));
        var scratch = Directory.CreateTempSubdirectory("presence-agent-mosquitto-").FullName;
        await using var agent = new PresenceAgent(new AgentOptions
        {
            Host = "basement",
            Mqtt = { Host = "127.0.0.1", Port = mosquitto.Port, ReconnectDelay = TimeSpan.FromMilliseconds(200) },
            Vms = [House.Vm("alice-desktop", 1024)],
            StateDirectory = scratch,
            Trust = { ServerKey = HouseKey.ExportPublicKey(serverKey) },
        }, loggers);
        await agent.StartAsync();
        await watcher.WaitForAsync(m => m.Topic == "presence/agents/basement/status" && m.Text.Contains("\"online\""), "basement online");
        var topic = new Topics("presence").AgentCommands("basement");
        var signed = Encoding.UTF8.GetBytes("""{"command_id":"through-1","type":"detach_display","vm":"alice-desktop"}""");

        await watcher.PublishAsync(topic, signed, CommandSignature.Sign(serverKey, topic, SystemClock.Instance.GetCurrentInstant(), signed));
        await watcher.PublishAsync(topic, """{"command_id":"through-2","type":"suspend","vm":"alice-desktop"}""");

        Assert.Equal(AgentEventState.Completed, await OutcomeAsync(watcher, "through-1"));
        Assert.Equal(AgentEventState.Failed, await OutcomeAsync(watcher, "through-2"));
        Assert.Equal(VmState.Running, Assert.Single(agent.Inventory.Vms).State);
    }

    private static async Task<AgentEventState> OutcomeAsync(Watcher watcher, string commandId)
    {
        var message = await watcher.WaitForAsync(
            m => m.Topic == "presence/agents/basement/events" && AgentEvent.Parse("basement", m.Payload) is { State: not (AgentEventState.Accepted or AgentEventState.Progress) } e
                 && e.CommandId == commandId,
            $"outcome of {commandId}");
        return AgentEvent.Parse("basement", message.Payload).State;
    }
}
