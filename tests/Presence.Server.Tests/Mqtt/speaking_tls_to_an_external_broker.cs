using Microsoft.Extensions.Logging;
using Presence.Contracts.Mqtt;
using Presence.Domain.Signals;
using Presence.Server.Configuration;
using Presence.Server.Hosting;
using Presence.Server.Mqtt;
using Presence.Server.Tests.Infrastructure;
using Presence.Tests.Shared;

namespace Presence.Server.Tests.Mqtt;

/// <summary>
/// The server's own connections to an external broker over TLS, with real TLS handshakes against a real mosquitto
/// (password file and the shipped ACL as always, plus a TLS listener with a CA made by the test): trusting the CA
/// and showing a client certificate where mosquitto requires one, signals arrive and are stored; a broker whose
/// certificate the CA did not sign, or that is not the pinned one, is refused with a log line saying so; TLS
/// settings that cannot work stop the server at start naming the key.
/// </summary>
public sealed class speaking_tls_to_an_external_broker : IDisposable
{
    private readonly string scratch = PostgresCluster.NewScratchDirectory("external-tls");

    public void Dispose()
    {
        try
        {
            Directory.Delete(scratch, recursive: true);
        }
        catch (IOException)
        {
            // The run's folder goes at the end of the run anyway.
        }
    }

    [Fact]
    public async Task trusting_the_ca_and_showing_a_client_certificate_the_server_stores_a_signal_sent_through_mosquitto()
    {
        var ca = TestCertificates.NewAuthority("house", Path.Combine(scratch, "house"));
        await using var broker = await ExternalBroker.StartAsync(tls: ca.ForMosquitto(requireCertificate: true));
        var (certificate, key) = ca.Client("presence-server");
        var logs = new CapturedLogs();

        // Mqtt:Port points nowhere: the server can only have reached the broker at its TLS port. No Tls:Enabled
        // either: on loopback, naming a CA file is what turns TLS on.
        await using var server = await TestServer.StartAsync(externalBrokerPort: broker.Port, nodeName: "tls", mqttLogin: broker.ServerLogin, services: logs.AddTo, settings:
        [
            $"--Mqtt:Port={Ports.Free()}",
            $"--Mqtt:Tls:Port={broker.TlsPort}",
            $"--Mqtt:Tls:CaFile={ca.CaFile}",
            $"--Mqtt:Tls:ClientCertificate={certificate}",
            $"--Mqtt:Tls:ClientKey={key}",
        ]);
        await using var emitter = await MqttProbe.ConnectAsync(broker, "imac-tls", "imac");
        await emitter.PublishAsync("presence/hosts/imac/signals/session", """{"id":"over-tls-1","user":"alice","state":"login","seat":"console"}""");

        await Eventually.TrueAsync(async () =>
        {
            await using var session = server.Store.QuerySession();
            var events = await session.Events.FetchStreamAsync("alice");
            return events.Select(e => e.Data).OfType<SignalRecorded>().Any(s => s.Evidence.Id == "over-tls-1");
        }, "the signal stored by the server that reads mosquitto over TLS", TimeSpan.FromSeconds(30));
        Assert.Contains($"on port {broker.TlsPort}", broker.Log);
        Assert.Contains(logs.Lines, l => l.Contains($"over TLS (Mqtt:Tls:Port), trusting the CA in {ca.CaFile}, showing the client certificate {certificate}", StringComparison.Ordinal));
        Assert.DoesNotContain(logs.Lines, l => l.Contains(broker.ServerLogin.Password, StringComparison.Ordinal));
    }

    [Fact]
    public async Task a_broker_certificate_the_ca_did_not_sign_is_refused_saying_so()
    {
        var ca = TestCertificates.NewAuthority("house", Path.Combine(scratch, "house"));
        var other = TestCertificates.NewAuthority("other", Path.Combine(scratch, "other"));
        await using var broker = await ExternalBroker.StartAsync(tls: ca.ForMosquitto(requireCertificate: false));
        var logs = new CapturedLogs();

        await using var connection = await ConnectAsync(broker, new MqttTlsOptions { Port = broker.TlsPort!.Value, CaFile = other.CaFile }, logs);

        var refusal = await Eventually.GetAsync(
            () => Task.FromResult(logs.Lines.FirstOrDefault(l => l.StartsWith("Error", StringComparison.Ordinal) && l.Contains("is not signed by the CA in Tls:CaFile", StringComparison.Ordinal))),
            "the broker's certificate refused");
        Assert.Contains("127.0.0.1", refusal);
        Assert.False(connection.IsConnected);
    }

    [Fact]
    public async Task a_broker_certificate_that_is_not_the_pinned_one_is_refused_naming_both_fingerprints()
    {
        var ca = TestCertificates.NewAuthority("house", Path.Combine(scratch, "house"));
        var tls = ca.ForMosquitto(requireCertificate: false);
        await using var broker = await ExternalBroker.StartAsync(tls: tls);
        using var brokerCertificate = System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPem(await File.ReadAllTextAsync(tls.CertificateFile));
        var actual = MqttTls.Fingerprint(brokerCertificate);
        var pinned = string.Join(':', Enumerable.Repeat("5A", 32));
        var logs = new CapturedLogs();

        await using (var wrong = await ConnectAsync(broker, new MqttTlsOptions { Port = broker.TlsPort!.Value, Fingerprint = pinned }, logs))
        {
            var refusal = await Eventually.GetAsync(
                () => Task.FromResult(logs.Lines.FirstOrDefault(l => l.StartsWith("Error", StringComparison.Ordinal) && l.Contains("Tls:Fingerprint pins", StringComparison.Ordinal))),
                "the unpinned certificate refused");
            Assert.Contains(actual, refusal);
            Assert.Contains(pinned, refusal);
            Assert.False(wrong.IsConnected);
        }

        // The right pin decides alone, whatever the CA: no CaFile given.
        await using var right = await ConnectAsync(broker, new MqttTlsOptions { Port = broker.TlsPort!.Value, Fingerprint = actual }, new CapturedLogs());
        await right.Connected.WaitAsync(TimeSpan.FromSeconds(20));
        Assert.True(right.IsConnected);
    }

    [Fact]
    public void tls_settings_that_cannot_work_stop_the_server_at_start_naming_the_key()
    {
        var ca = TestCertificates.NewAuthority("house", Path.Combine(scratch, "house"));
        var (certificate, _) = ca.Client("presence-server");
        var missing = Path.Combine(scratch, "nowhere", "ca.pem");

        Assert.Contains($"Mqtt:Tls:CaFile '{missing}' does not exist", Refusal("--Mqtt:Broker=external", $"--Mqtt:Tls:CaFile={missing}"));
        Assert.Contains($"Mqtt:Tls:CaFile '{certificate.Replace(".pem", ".key")}' is not a readable PEM or DER certificate",
            Refusal("--Mqtt:Broker=external", $"--Mqtt:Tls:CaFile={certificate.Replace(".pem", ".key")}"));
        Assert.Contains($"Mqtt:Tls:ClientCertificate '{certificate}' cannot be loaded with its private key",
            Refusal("--Mqtt:Broker=external", $"--Mqtt:Tls:ClientCertificate={certificate}"));
        Assert.Contains("Mqtt:Tls:Fingerprint 'AB:CD' must be a SHA-256", Refusal("--Mqtt:Broker=external", "--Mqtt:Tls:Fingerprint=AB:CD"));
        Assert.Contains("Mqtt:Tls:Enabled is false but Mqtt:Tls:Fingerprint, CaFile or ClientCertificate is set",
            Refusal("--Mqtt:Broker=external", "--Mqtt:Tls:Enabled=false", $"--Mqtt:Tls:CaFile={ca.CaFile}"));
        Assert.Contains("Mqtt:Tls:Port must be the external broker's TLS port", Refusal("--Mqtt:Broker=external", "--Mqtt:Host=mqtt.home.arpa", "--Mqtt:Tls:Port=0"));
        Assert.Contains("Mqtt:Tls:CaFile is for an external broker (Mqtt:Broker=external)", Refusal("--Mqtt:Broker=embedded", $"--Mqtt:Tls:CaFile={ca.CaFile}"));
    }

    [Fact]
    public void an_external_broker_beyond_loopback_is_reached_with_tls_unless_turned_off_out_loud()
    {
        var beyond = new MqttOptions { Broker = BrokerKind.External, Host = "mqtt.home.arpa" };
        var loopback = new MqttOptions { Broker = BrokerKind.External, Host = "127.0.0.1" };
        var plainBeyond = new MqttOptions { Broker = BrokerKind.External, Host = "mqtt.home.arpa", Tls = { Enabled = false } };

        Assert.True(ServerSession.ExternalTls(beyond));
        Assert.False(ServerSession.PlainBeyondLoopback(beyond));
        Assert.False(ServerSession.ExternalTls(loopback));
        Assert.False(ServerSession.PlainBeyondLoopback(loopback));
        Assert.False(ServerSession.ExternalTls(new MqttOptions { Broker = BrokerKind.External, Host = "localhost" }));
        Assert.False(ServerSession.ExternalTls(plainBeyond));
        Assert.True(ServerSession.PlainBeyondLoopback(plainBeyond));
    }

    /// <summary>The server's own connection (what MqttBridge and MqttOutbound use), as the server identity at this mosquitto.</summary>
    private static async Task<MqttConnection> ConnectAsync(ExternalBroker broker, MqttTlsOptions tls, CapturedLogs logs)
    {
        var (user, password) = broker.ServerLogin;
        var options = new MqttOptions
        {
            Broker = BrokerKind.External,
            Host = "127.0.0.1",
            Port = Ports.Free(),
            Username = user,
            Password = password,
            NodeName = "tls-check",
            Tls = tls,
        };
        Assert.True(ServerSession.ExternalTls(options));
        var connection = ServerSession.Connection("in", options, new ServerSecret(user), logs.CreateLogger("server"));
        await connection.StartAsync(CancellationToken.None);
        return connection;
    }

    private static string Refusal(params string[] arguments)
    {
        var builder = PresenceApp.CreateBuilder(arguments);
        return Assert.Throws<StartupException>(() => PresenceApp.ReadSettings(builder.Configuration)).Message;
    }
}
