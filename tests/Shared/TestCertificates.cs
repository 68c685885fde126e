using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Presence.Tests.Shared;

/// <summary>
/// A throwaway certificate authority for TLS tests against a real mosquitto: a CA, a broker certificate for
/// 127.0.0.1 and localhost, and client certificates, all written as PEM (what mosquitto reads) into a folder of the
/// test's own. Made fresh by each test with <see cref="CertificateRequest"/>, so no key is ever checked in.
/// Linked into each test project that needs it (tests/Shared is no project of its own).
/// </summary>
public sealed class TestCertificates
{
    private readonly X509Certificate2 ca;
    private readonly ECDsa caKey;
    private readonly string directory;

    private TestCertificates(string name, X509Certificate2 ca, string directory)
    {
        this.ca = ca;
        caKey = ca.GetECDsaPrivateKey() ?? throw new InvalidOperationException("the test CA has no key");
        this.directory = directory;
        CaFile = Path.Combine(directory, $"{name}-ca.pem");
        File.WriteAllText(CaFile, ca.ExportCertificatePem());
    }

    /// <summary>The CA's certificate (PEM): what a client trusts, and what mosquitto checks client certificates against.</summary>
    public string CaFile { get; }

    /// <summary>A new CA named <paramref name="name"/> whose files go into <paramref name="directory"/>.</summary>
    public static TestCertificates NewAuthority(string name, string directory)
    {
        Directory.CreateDirectory(directory);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN=Presence test CA {name}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        var now = DateTimeOffset.UtcNow;
        return new TestCertificates(name, request.CreateSelfSigned(now.AddMinutes(-5), now.AddDays(1)), directory);
    }

    /// <summary>A TLS listener for mosquitto with a broker certificate from this CA, which also vouches for client certificates.</summary>
    /// <param name="requireCertificate">mosquitto's require_certificate: clients without a certificate from this CA are turned away.</param>
    public MosquittoTls ForMosquitto(bool requireCertificate)
    {
        var (certificateFile, keyFile) = Broker();
        return new MosquittoTls(CaFile, certificateFile, keyFile, requireCertificate);
    }

    /// <summary>A broker certificate for 127.0.0.1 and localhost signed by this CA: (certificate PEM, key PEM).</summary>
    public (string CertificateFile, string KeyFile) Broker(string name = "broker") =>
        Issue(name, serverAuth: true);

    /// <summary>A client certificate with CN=<paramref name="identity"/> signed by this CA: (certificate PEM, key PEM).</summary>
    public (string CertificateFile, string KeyFile) Client(string identity) =>
        Issue(identity, serverAuth: false);

    /// <summary>The same client certificate and key as one PFX (what the agent's and server's ClientCertificate take besides PEM).</summary>
    public string ClientPfx(string identity, string? password)
    {
        var (certificateFile, keyFile) = Client(identity);
        using var pem = X509Certificate2.CreateFromPemFile(certificateFile, keyFile);
        var pfx = Path.Combine(directory, $"{identity}.pfx");
        File.WriteAllBytes(pfx, pem.Export(X509ContentType.Pkcs12, password));
        return pfx;
    }

    private (string CertificateFile, string KeyFile) Issue(string name, bool serverAuth)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyAgreement, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
            [serverAuth ? new Oid("1.3.6.1.5.5.7.3.1") : new Oid("1.3.6.1.5.5.7.3.2")], false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(ca, includeKeyIdentifier: true, includeIssuerAndSerial: false));
        if (serverAuth)
        {
            var names = new SubjectAlternativeNameBuilder();
            names.AddIpAddress(IPAddress.Loopback);
            names.AddDnsName("localhost");
            request.CertificateExtensions.Add(names.Build());
        }

        var now = DateTimeOffset.UtcNow;
        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7F;
        using var certificate = request.Create(ca.SubjectName, X509SignatureGenerator.CreateForECDsa(caKey), now.AddMinutes(-5), now.AddDays(1), serial);
        var certificateFile = Path.Combine(directory, $"{name}.pem");
        var keyFile = Path.Combine(directory, $"{name}.key");
        File.WriteAllText(certificateFile, certificate.ExportCertificatePem());
        File.WriteAllText(keyFile, key.ExportPkcs8PrivateKeyPem());
        return (certificateFile, keyFile);
    }

}

/// <summary>A mosquitto TLS listener's files, as mosquitto.conf lines.</summary>
public sealed record MosquittoTls(string CaFile, string CertificateFile, string KeyFile, bool RequireCertificate)
{
    /// <summary>The listener block; it goes after the global settings, which (per_listener_settings false) hold for it too.</summary>
    public string Listener(int port) => $"""
        listener {port} 127.0.0.1
        cafile {CaFile}
        certfile {CertificateFile}
        keyfile {KeyFile}
        require_certificate {(RequireCertificate ? "true" : "false")}

        """;
}
