using System.Text.Json;
using System.Text.Json.Nodes;
using JasperFx.CommandLine;
using Marten;
using Microsoft.Extensions.Options;
using NodaTime;
using Presence.Contracts.Wire;
using Presence.Domain.House;
using Presence.Server.Configuration;
using Presence.Server.Hosting;
using Presence.Server.Mqtt;
using Presence.Server.Signing;

namespace Presence.Server.Identities;

public class EnrollInput : NetCoreInput
{
    [Description("A host of the house (House:Hosts), or with --controller the MQTT username of a controller such as homeassistant")]
    public string Name { get; set; } = "";

    [Description("Enrol a controller (Home Assistant, presence-cli) that sends requests and maintenance switches, not a computer")]
    public bool ControllerFlag { get; set; }
}

[Description("Give a computer (or with --controller a controller) a new secret: prints its settings once and stores only a hash; enrolling again replaces the secret", Name = "enroll")]
public sealed class EnrollCommand : JasperFxAsyncCommand<EnrollInput>
{
    public EnrollCommand()
    {
        Usage("Enrol a host or a controller").Arguments(x => x.Name);
    }

    public override Task<bool> Execute(EnrollInput input) => IdentityVerb.RunAsync(input, "enroll", async services =>
    {
        var role = input.ControllerFlag ? IdentityRole.Controller : IdentityRole.Host;
        IdentityVerb.CheckName(services, input.Name, role);
        var secret = SecretHash.NewSecret();
        var now = services.GetRequiredService<IClock>().GetCurrentInstant();
        await using var session = services.GetRequiredService<IDocumentStore>().LightweightSession();
        var replaced = await session.LoadAsync<Enrolment>(input.Name) is not null;
        session.Store(Enrolment.Of(input.Name, role, secret, now));
        session.Events.Append(IdentityStream.Id, new IdentityEnrolled(input.Name, role, replaced, now));
        await session.SaveChangesAsync();

        // An agent needs the house's public key as much as its secret: without it, it acts on no command.
        var mqttSettings = new JsonObject { ["Username"] = input.Name, ["Password"] = secret };
        if (BrokerTls(services) is { } tls)
        {
            // The same certificate the broker will show: made here if the server has not started yet.
            mqttSettings["Port"] = tls.Port;
            mqttSettings["Tls"] = new JsonObject { ["Enabled"] = true, ["Fingerprint"] = tls.Fingerprint };
        }

        var settings = role == IdentityRole.Host
            ? new JsonObject
            {
                ["Agent"] = new JsonObject
                {
                    ["Host"] = input.Name,
                    ["Mqtt"] = mqttSettings,
                    ["Trust"] = new JsonObject { ["ServerKey"] = await services.GetRequiredService<HouseKeys>().PublicKeyAsync(CancellationToken.None) },
                },
            }
            : new JsonObject { ["Username"] = input.Name, ["Password"] = secret };
        var where = role == IdentityRole.Host ? $"into {input.Name}'s agent.json (beside its Mqtt:Host and Port)" : "into the controller's MQTT settings";
        Console.Error.WriteLine($"{(replaced ? "Replaced the secret of" : "Enrolled")} {(role == IdentityRole.Host ? "host" : "controller")} '{input.Name}'. " +
            $"Copy these settings {where}; the secret is shown only now (the house keeps a hash).");
        return settings.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    });

    /// <summary>The embedded broker's TLS port and certificate fingerprint, when it listens with TLS.</summary>
    private static (int Port, string Fingerprint)? BrokerTls(IServiceProvider services)
    {
        var mqtt = services.GetRequiredService<IOptions<MqttOptions>>().Value;
        if (mqtt.Broker != BrokerKind.Embedded || !mqtt.Tls.IsOn(EmbeddedBroker.IsLoopbackOnly(mqtt.Host)))
        {
            return null;
        }

        var file = BrokerCertificate.EffectiveFile(mqtt, services.GetRequiredService<IOptions<DatabaseOptions>>().Value);
        using var certificate = BrokerCertificate.LoadOrCreate(file, mqtt, services.GetRequiredService<IClock>().GetCurrentInstant()).Certificate;
        return (mqtt.Tls.Port, BrokerCertificate.Fingerprint(certificate));
    }
}

public class RevokeInput : NetCoreInput
{
    [Description("The enrolled host or controller whose secret stops working")]
    public string Name { get; set; } = "";
}

[Description("Take an identity's secret away: new connections with it are refused and its live sessions are ended within seconds", Name = "revoke")]
public sealed class RevokeCommand : JasperFxAsyncCommand<RevokeInput>
{
    public RevokeCommand()
    {
        Usage("Revoke a host's or controller's secret").Arguments(x => x.Name);
    }

    public override Task<bool> Execute(RevokeInput input) => IdentityVerb.RunAsync(input, "revoke", async services =>
    {
        await using var session = services.GetRequiredService<IDocumentStore>().LightweightSession();
        var enrolment = await session.LoadAsync<Enrolment>(input.Name)
            ?? throw new IdentityException($"'{input.Name}' is not enrolled: there is no secret to revoke");
        session.Delete(enrolment);
        session.Events.Append(IdentityStream.Id, new IdentityRevoked(input.Name, enrolment.Role, services.GetRequiredService<IClock>().GetCurrentInstant()));
        await session.SaveChangesAsync();
        return $"Revoked '{input.Name}': its secret no longer opens the broker.";
    });
}

/// <summary>A name that cannot be enrolled or revoked; the message says which and why.</summary>
public sealed class IdentityException(string message) : Exception(message);

/// <summary>What enroll and revoke share: the house's store, the answer alone on stdout, bad input on stderr with exit code 2.</summary>
internal static class IdentityVerb
{
    public const int BadInput = 2;

    public static async Task<bool> RunAsync(NetCoreInput input, string verb, Func<IServiceProvider, Task<string>> act)
    {
        var host = input.BuildHost();
        try
        {
            Console.Out.WriteLine(await act(host.Services));
            CommandExit.Code = 0;
            return true;
        }
        catch (Exception e) when (e is IdentityException or StartupException)
        {
            Console.Error.WriteLine($"presence {verb}: {e.Message}");
            CommandExit.Code = BadInput;
            return false;
        }
    }

    public static void CheckName(IServiceProvider services, string name, IdentityRole role)
    {
        var hosts = services.GetRequiredService<HousePolicy>().Hosts.Select(h => h.Name).ToList();
        var mqtt = services.GetRequiredService<IOptions<MqttOptions>>().Value;
        if (role == IdentityRole.Host && !hosts.Contains(name))
        {
            throw new IdentityException($"'{name}' is not a host of the house (House:Hosts: {string.Join(", ", hosts)}); for Home Assistant or another controller add --controller");
        }

        if (role == IdentityRole.Controller)
        {
            if (!Topics.IsValidName(name))
            {
                throw new IdentityException($"'{name}' is not a valid identity name: it must match [a-z0-9][a-z0-9_-]{{0,62}}");
            }

            if (hosts.Contains(name))
            {
                throw new IdentityException($"'{name}' is a host of the house; enrol it without --controller");
            }

            if (name == mqtt.ServerIdentity)
            {
                throw new IdentityException($"'{name}' is the server's own identity, which needs no enrolment");
            }
        }
    }
}
