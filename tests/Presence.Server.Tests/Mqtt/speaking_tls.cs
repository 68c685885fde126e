using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;
using MQTTnet;
using Presence.Contracts.Mqtt;
using Presence.Domain.Users;
using Presence.Server.Tests.Infrastructure;

namespace Presence.Server.Tests.Mqtt;

/// <summary>
/// The embedded broker's TLS endpoint, with real TLS handshakes: agents pinning the self-signed certificate's
/// fingerprint move a VM end to end; a wrong pin and a plain client are turned away; the certificate (and so the
/// pin) survives a restart; its private key stays in an owner-only file and out of the log.
/// </summary>
public sealed class speaking_tls
{
    private static readonly string[] Tls = ["--Mqtt:Tls:Enabled=true"];

    private static string FingerprintOf(TestServer server)
    {
        using var certificate = X509CertificateLoader.LoadPkcs12FromFile(TestServer.CertificateFile(server.Directory), null);
        return MqttTls.Fingerprint(certificate);
    }

    [Fact]
    public async Task agents_pinning_the_fingerprint_move_a_vm_over_tls()
    {
        await using var server = await TestServer.StartAsync(settings: Tls);
        var fingerprint = FingerprintOf(server);
        // Only the TLS port is given to the agents and the watcher: whatever works below went through TLS.
        await using var basement = await TestAgents.StartOverTlsAsync("basement", server.TlsPort, fingerprint, server.Directory, ("alice-desktop", 2048));
        await using var imac = await TestAgents.StartOverTlsAsync("imac", server.TlsPort, fingerprint, server.Directory);
        await using var probe = await MqttProbe.ConnectWithAsync(server.TlsPort, "probe-tls", "presence-cli", null, new MqttTrust(fingerprint), "presence/#");
        await probe.WaitForAsync(m => m.Topic == "presence/agents/imac/status" && m.Payload.Contains("online"), TimeSpan.FromSeconds(30), "imac online");
        await probe.WaitForAsync(m => m.Topic == "presence/agents/basement/status" && m.Payload.Contains("online"), TimeSpan.FromSeconds(30), "basement online");
        await server.AgentsKnownAsync(["imac", "basement"]);

        // The imac's session sensor, as the imac's own identity, over TLS too.
        await using (var sensor = await MqttProbe.ConnectWithAsync(server.TlsPort, "imac-emitter-tls", "imac", null, new MqttTrust(fingerprint)))
        {
            await sensor.PublishAsync("presence/hosts/imac/signals/session", """{"id":"tls-login-1","user":"alice","state":"login","seat":"console"}""");
        }

        await probe.WaitForAsync(
            m => m.Topic == "presence/users/alice/state" && m.Json.GetProperty("vm_host").GetString() == "imac",
            TimeSpan.FromSeconds(60), "alice's VM moved to the imac by the agents over TLS");
        await using var session = server.Store.QuerySession();
        var stream = await session.Events.FetchStreamAsync("alice");
        Assert.Single(stream, e => e.Data is Presence.Domain.Signals.SignalRecorded);
        Assert.Equal("imac", (await session.LoadAsync<UserSaga>("alice"))!.VmHost);
    }

    [Fact]
    public async Task enroll_prints_the_fingerprint_and_the_tls_port_an_agent_needs()
    {
        await using var server = await TestServer.StartAsync(settings: Tls);

        var run = await PresenceCli.AgainstAsync(server, "enroll", "imac", "--Mqtt:Tls:Enabled=true",
            $"--Mqtt:Tls:CertificateFile={TestServer.CertificateFile(server.Directory)}", $"--Mqtt:Tls:Port={server.TlsPort}");

        Assert.True(run.ExitCode == 0, run.Output);
        var mqtt = System.Text.Json.JsonDocument.Parse(run.Stdout).RootElement.GetProperty("Agent").GetProperty("Mqtt");
        Assert.Equal(FingerprintOf(server), mqtt.GetProperty("Tls").GetProperty("Fingerprint").GetString());
        Assert.True(mqtt.GetProperty("Tls").GetProperty("Enabled").GetBoolean());
        Assert.Equal(server.TlsPort, mqtt.GetProperty("Port").GetInt32());
    }

    [Fact]
    public async Task a_wrong_fingerprint_is_refused_naming_both()
    {
        await using var server = await TestServer.StartAsync(settings: Tls);
        var right = FingerprintOf(server);
        var wrong = string.Join(':', Enumerable.Repeat("AB", 32));
        var logs = new CapturedLogs();
        using var client = new MqttClientFactory().CreateMqttClient();
        var options = new MqttClientOptionsBuilder()
            .WithTcpServer("127.0.0.1", server.TlsPort)
            .WithClientId("presence-agent-imac")
            .WithTimeout(TimeSpan.FromSeconds(10))
            .WithTrust("127.0.0.1", new MqttTrust(wrong), logs.CreateLogger("agent"))
            .Build();

        await Assert.ThrowsAnyAsync<Exception>(() => client.ConnectAsync(options));

        Assert.False(client.IsConnected);
        var refusal = Assert.Single(logs.Lines, l => l.StartsWith("Error", StringComparison.Ordinal));
        Assert.Contains(right, refusal);
        Assert.Contains(wrong, refusal);
        // The right pin, typed in lower case without colons, gets in.
        await using var pinned = await MqttProbe.ConnectWithAsync(server.TlsPort, "probe-right", "presence-cli", null, new MqttTrust(right.Replace(":", "").ToLowerInvariant()));
        Assert.True(pinned.IsConnected);
    }

    [Fact]
    public async Task a_plain_client_at_the_tls_port_gets_nowhere()
    {
        await using var server = await TestServer.StartAsync(settings: Tls);

        await Assert.ThrowsAnyAsync<Exception>(() => MqttProbe.ConnectWithAsync(server.TlsPort, "probe-plain", "presence-cli", null));
    }

    [Fact]
    public async Task without_a_pin_or_a_ca_the_self_signed_certificate_is_not_trusted()
    {
        await using var server = await TestServer.StartAsync(settings: Tls);

        await Assert.ThrowsAnyAsync<Exception>(() => MqttProbe.ConnectWithAsync(server.TlsPort, "probe-trusting", "presence-cli", null, new MqttTrust(null)));
    }

    [Fact]
    public async Task the_certificate_is_made_once_kept_private_and_only_its_fingerprint_is_logged()
    {
        var database = await PostgresCluster.NewDatabaseAsync("tls");
        var directory = PostgresCluster.NewScratchDirectory("tls");
        var logs = new CapturedLogs();
        string first;
        await using (var server = await TestServer.StartAsync(database, directory: directory, settings: Tls, services: logs.AddTo))
        {
            first = FingerprintOf(server);
        }

        await using var again = await TestServer.StartAsync(database, directory: directory, settings: Tls);

        Assert.Equal(first, FingerprintOf(again));
        var file = TestServer.CertificateFile(directory);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
        }

        Assert.Contains(logs.Lines, l => l.Contains($"Agent:Mqtt:Tls:Fingerprint={first}", StringComparison.Ordinal));
        using var certificate = X509CertificateLoader.LoadPkcs12FromFile(file, null, X509KeyStorageFlags.Exportable);
        var key = Convert.ToBase64String(certificate.GetECDsaPrivateKey()!.ExportPkcs8PrivateKey());
        var pfx = Convert.ToBase64String(await File.ReadAllBytesAsync(file));
        Assert.DoesNotContain(logs.Lines, l => l.Contains(key[..40], StringComparison.Ordinal) || l.Contains(pfx[..40], StringComparison.Ordinal) || l.Contains("PRIVATE KEY", StringComparison.Ordinal));
    }
}
