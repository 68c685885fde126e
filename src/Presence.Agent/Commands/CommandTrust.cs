using Microsoft.Extensions.Logging;
using NodaTime;
using Presence.Agent.Configuration;
using Presence.Contracts.Agents;
using Presence.Contracts.Wire;

namespace Presence.Agent.Commands;

/// <summary>
/// Whether a command comes from the house's server, recently, and asks for something this computer may do
/// (CONTRACT.md §5): the broker is not the only guard, since anyone who can publish on a command topic — a guest
/// on a misconfigured broker, a compromised broker — could otherwise move a VM's memory to an address of their
/// choosing. Every check answers null (go ahead) or the reason for refusing, in words for the `failed` event.
/// </summary>
internal sealed class CommandTrust
{
    private readonly string host;
    private readonly TrustOptions trust;
    private readonly bool brokerOnLoopback;
    private readonly IClock clock;
    private readonly ILogger logger;
    private readonly CommandVerifier? configured;
    private FileKey? fromFile;

    public CommandTrust(string host, TrustOptions trust, string brokerHost, IClock clock, ILogger logger)
    {
        this.host = host;
        this.trust = trust;
        this.clock = clock;
        this.logger = logger;
        brokerOnLoopback = MigrationUri.IsLoopback(brokerHost);
        if (!string.IsNullOrWhiteSpace(trust.ServerKey))
        {
            configured = new CommandVerifier(HouseKey.ImportPublicKey(trust.ServerKey), MaxAge);
        }
    }

    private Duration MaxAge => Duration.FromTimeSpan(trust.MaxAge);

    /// <summary>Where the server's key comes from, for the start-up log line.</summary>
    public string KeySource =>
        configured is not null ? "Agent:Trust:ServerKey"
        : brokerOnLoopback ? $"{trust.ServerKeyFile} (the broker is on loopback)"
        : "nowhere: set Agent:Trust:ServerKey (`presence server-key` on the server prints it); no command will be carried out";

    /// <summary>Signed by the house's server for this very topic (any age: a redelivered old command is still its own).</summary>
    public string? CheckSignature(string topic, IReadOnlyList<KeyValuePair<string, string>> properties, ReadOnlySpan<byte> payload)
    {
        if (Verifier() is not { } verifier)
        {
            return configured is null && brokerOnLoopback
                ? $"command refused: no server key in {trust.ServerKeyFile} (the server writes it on start) and no Agent:Trust:ServerKey"
                : "command refused: this agent has no Agent:Trust:ServerKey, so it cannot tell the server's commands from forgeries";
        }

        return verifier.CheckSignature(topic, properties, payload);
    }

    /// <summary>Issued within <see cref="TrustOptions.MaxAge"/> of now, either way: an old command replayed later is refused.</summary>
    public string? CheckAge(IReadOnlyList<KeyValuePair<string, string>> properties) =>
        (configured ?? fromFile?.Verifier)?.CheckAge(properties, clock.GetCurrentInstant());

    /// <summary>
    /// What a genuine command may ask of this computer: only its own VMs leave it, only to another host, and only
    /// to an address (the server vouched for it by signing).
    /// </summary>
    public string? CheckScope(AgentCommand command, IReadOnlyCollection<VmInventory> vms, IReadOnlySet<string> expected)
    {
        var here = vms.FirstOrDefault(v => v.Name == command.Vm);
        switch (command.Type)
        {
            case CommandType.Migrate:
                if (here is null || here.State == VmState.Incoming)
                {
                    return $"{command.Vm} is not on {host}";
                }

                if (command.TargetHost == host)
                {
                    return $"a migrate of {command.Vm} cannot target {host} itself";
                }

                if (MigrationUri.Address(command.TargetUri!) is null)
                {
                    return $"target_uri '{command.TargetUri}' names no address (tcp:<address>:<port>, or a URI with a host)";
                }

                return null;

            case CommandType.Suspend when here is null || here.State == VmState.Incoming:
                return $"{command.Vm} is not on {host}";

            case CommandType.AbortIncoming when here is null && !expected.Contains(command.Vm):
                return $"{host} was not told to expect {command.Vm}";

            default:
                return null;
        }
    }

    private CommandVerifier? Verifier()
    {
        if (configured is not null)
        {
            return configured;
        }

        if (!brokerOnLoopback)
        {
            return null;
        }

        // Read at every command: the server writes it on start, perhaps after this agent started, and a new house
        // (a fresh database) brings a new key.
        string text;
        try
        {
            text = File.ReadAllText(trust.ServerKeyFile).Trim();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }

        if (fromFile is { } cached && cached.Text == text)
        {
            return cached.Verifier;
        }

        try
        {
            var read = new FileKey(text, new CommandVerifier(HouseKey.ImportPublicKey(text), MaxAge));
            fromFile = read;
            logger.LogInformation("Agent {Host} trusts the server key in {File}", host, trust.ServerKeyFile);
            return read.Verifier;
        }
        catch (FormatException e)
        {
            logger.LogWarning("{File} holds no usable server key: {Reason}", trust.ServerKeyFile, e.Message);
            return null;
        }
    }

    private sealed record FileKey(string Text, CommandVerifier Verifier);
}
