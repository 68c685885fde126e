using System.Text.Json.Serialization;
using Presence.Contracts.Agents;
using Presence.Contracts.Wire;
using Presence.Domain.Migration;
using Presence.Server.Agents;
using Presence.Server.Mqtt;
using Presence.Server.Telemetry;

namespace Presence.Server.Migration;

/// <summary>A command for an agent, queued in the same transaction as the events that called for it.</summary>
public sealed record SendAgentCommand(CommandToAgent Command) : IPublished
{
    /// <summary>Per agent: the order one agent's commands were decided in is the order it gets them.</summary>
    [JsonIgnore] public string Lane => "agent:" + Command.Host;
}

public static class SendAgentCommandHandler
{
    public static Task Handle(SendAgentCommand message, MqttOutbound mqtt, HostAddresses addresses, ILogger<SendAgentCommand> logger, CancellationToken ct)
    {
        var c = message.Command;
        // Checked when the target answered ready; checked again here, since the house file may have changed since.
        // Not sent, the move runs into its phase timeout, which compensates with the VM where it was.
        if (c.Kind == CommandKind.Migrate && addresses.Refusal(c.TargetHost!, c.TargetUri) is { } refusal)
        {
            logger.LogError("Not signing migrate {CommandId} of {Vm} to {Target}: {Refusal}", c.CommandId, c.Vm, c.TargetHost, refusal);
            return Task.CompletedTask;
        }

        var wire = ToContract(c);
        return PublishAsync(mqtt, c.Host, wire, ct);
    }

    private static async Task PublishAsync(MqttOutbound mqtt, string host, AgentCommand wire, CancellationToken ct)
    {
        await mqtt.PublishSignedAsync(mqtt.Topics.AgentCommands(host), ContractJson.Serialize(wire), ct);
        PresenceTelemetry.CommandSent(wire.CommandId, wire.Type.ToString());
    }

    public static AgentCommand ToContract(CommandToAgent c) => new()
    {
        CommandId = c.CommandId,
        Type = c.Kind.ToContract(),
        Vm = c.Vm,
        MemoryMb = c.MemoryMb,
        Definition = c.Kind == CommandKind.PrepareIncoming ? c.Vm : null,
        TargetHost = c.TargetHost,
        TargetUri = c.TargetUri,
        Mode = c.Kind == CommandKind.Migrate ? MigrationMode.Live : null,
        MaxBandwidthMbps = c.MaxBandwidthMbps,
        DowntimeLimitMs = c.DowntimeLimitMs,
        Of = c.Of,
        DisplayUri = c.DisplayUri,
        To = c.To,
        From = c.From,
        InhibitSleep = c.InhibitSleep ? true : null,
    };
}
