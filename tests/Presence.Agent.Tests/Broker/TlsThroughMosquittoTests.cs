using System.Text;
using Microsoft.Extensions.Logging;
using NodaTime;
using Presence.Agent.Configuration;
using Presence.Agent.Tests.Support;
using Presence.Contracts.Agents;
using Presence.Contracts.Wire;
using Presence.Tests.Shared;
using Xunit.Abstractions;

namespace Presence.Agent.Tests.Broker;

/// <summary>
/// The agent at an external broker's TLS listener, with real TLS handshakes against a real mosquitto and a CA made
/// by the test: it trusts the broker through Agent:Mqtt:Tls:CaFile (and refuses one its CA did not sign), and shows
/// a client certificate (PFX, or PEM with its key) where mosquitto requires one. The watcher (the server's seat)
/// uses the plain loopback listener, so whatever an agent did was through TLS.
/// </summary>
public sealed class TlsThroughMosquittoTests : IDisposable
{
    private readonly string scratch = Directory.CreateTempSubdirectory("presence-agent-tls-").FullName;
    private readonly XunitLoggerProvider logs;
    private readonly System.Security.Cryptography.ECDsa serverKey = HouseKey.Create();
    private readonly ILoggerFactory loggers;

    public TlsThroughMosquittoTests(ITestOutputHelper output)
    {
        logs = new XunitLoggerProvider(output);
        loggers = LoggerFactory.Create(b => b.AddProvider(logs));
    }

    [Fact]
    public async Task An_agent_trusting_the_ca_file_carries_out_a_signed_command_over_tls()
    {
        var ca = TestCertificates.NewAuthority("house", Path.Combine(scratch, "house"));
        await using var mosquitto = await Mosquitto.StartAsync(ca.ForMosquitto(requireCertificate: false));
        await using var watcher = await Watcher.ConnectAsync(mosquitto.Port, "presence/agents/basement/#");
        await using var agent = await StartAgentAsync("basement", mosquitto, new AgentTlsOptions { Enabled = true, CaFile = ca.CaFile });

        await watcher.WaitForAsync(m => m.Topic == "presence/agents/basement/status" && m.Text.Contains("\"online\""), "basement online over TLS");
        var topic = new Topics("presence").AgentCommands("basement");
        var command = Encoding.UTF8.GetBytes("""{"command_id":"tls-1","type":"detach_display","vm":"alice-desktop"}""");
        await watcher.PublishAsync(topic, command, CommandSignature.Sign(serverKey, topic, SystemClock.Instance.GetCurrentInstant(), command));

        var outcome = await watcher.WaitForAsync(
            m => m.Topic == "presence/agents/basement/events" && AgentEvent.Parse("basement", m.Payload) is { CommandId: "tls-1", State: not (AgentEventState.Accepted or AgentEventState.Progress) },
            "the outcome of tls-1");
        Assert.Equal(AgentEventState.Completed, AgentEvent.Parse("basement", outcome.Payload).State);
        Assert.True(agent.IsConnected);
    }

    [Fact]
    public async Task An_agent_trusting_another_ca_refuses_the_broker_naming_the_ca_file()
    {
        var ca = TestCertificates.NewAuthority("house", Path.Combine(scratch, "house"));
        var other = TestCertificates.NewAuthority("other", Path.Combine(scratch, "other"));
        await using var mosquitto = await Mosquitto.StartAsync(ca.ForMosquitto(requireCertificate: false));
        await using var watcher = await Watcher.ConnectAsync(mosquitto.Port, "presence/agents/#");

        await using var agent = await StartAgentAsync("basement", mosquitto, new AgentTlsOptions { Enabled = true, CaFile = other.CaFile });

        await logs.WaitForLineAsync(l => l.Contains("is not signed by the CA in Tls:CaFile", StringComparison.Ordinal), "the broker's certificate refused");
        Assert.False(agent.IsConnected);
        Assert.DoesNotContain(watcher.Messages, m => m.Topic == "presence/agents/basement/status" && m.Text.Contains("\"online\""));
    }

    [Fact]
    public async Task Where_mosquitto_requires_client_certificates_agents_showing_one_get_in_and_one_without_is_turned_away()
    {
        var ca = TestCertificates.NewAuthority("house", Path.Combine(scratch, "house"));
        await using var mosquitto = await Mosquitto.StartAsync(ca.ForMosquitto(requireCertificate: true));
        await using var watcher = await Watcher.ConnectAsync(mosquitto.Port, "presence/agents/#");
        var (laptopCertificate, laptopKey) = ca.Client("laptop");

        // A PFX with a password, and PEM with the key beside it: the two forms people have at hand.
        await using var basement = await StartAgentAsync("basement", mosquitto,
            new AgentTlsOptions { Enabled = true, CaFile = ca.CaFile, ClientCertificate = ca.ClientPfx("basement", "pfx-secret"), ClientCertificatePassword = "pfx-secret" });
        await using var laptop = await StartAgentAsync("laptop", mosquitto,
            new AgentTlsOptions { Enabled = true, CaFile = ca.CaFile, ClientCertificate = laptopCertificate, ClientKey = laptopKey });
        await watcher.WaitForAsync(m => m.Topic == "presence/agents/basement/status" && m.Text.Contains("\"online\""), "basement (PFX) online");
        await watcher.WaitForAsync(m => m.Topic == "presence/agents/laptop/status" && m.Text.Contains("\"online\""), "laptop (PEM) online");

        await using var imac = await StartAgentAsync("imac", mosquitto, new AgentTlsOptions { Enabled = true, CaFile = ca.CaFile });

        await mosquitto.WaitForLogAsync("peer did not return a certificate", "the imac's TLS handshake refused");
        await logs.WaitForLineAsync(l => l.StartsWith("MQTT agent imac cannot reach", StringComparison.Ordinal), "imac knowing it was turned away");
        Assert.False(imac.IsConnected);
        Assert.DoesNotContain(watcher.Messages, m => m.Topic == "presence/agents/imac/status" && m.Text.Contains("\"online\""));
        Assert.True(basement.IsConnected && laptop.IsConnected);
    }

    public void Dispose()
    {
        loggers.Dispose();
        serverKey.Dispose();
        Directory.Delete(scratch, recursive: true);
    }

    private async Task<PresenceAgent> StartAgentAsync(string host, Mosquitto mosquitto, AgentTlsOptions tls)
    {
        var options = new AgentOptions
        {
            Host = host,
            Mqtt = { Host = "127.0.0.1", Port = mosquitto.TlsPort!.Value, ReconnectDelay = TimeSpan.FromMilliseconds(200), Tls = tls },
            Vms = host == "basement" ? [House.Vm("alice-desktop", 1024)] : [],
            StateDirectory = Path.Combine(scratch, host),
            Trust = { ServerKey = HouseKey.ExportPublicKey(serverKey) },
        };
        AgentOptionsValidator.ThrowIfInvalid(options);
        var agent = new PresenceAgent(options, loggers);
        await agent.StartAsync();
        return agent;
    }
}
