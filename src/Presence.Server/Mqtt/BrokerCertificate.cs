using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using NodaTime;
using Presence.Contracts.Mqtt;
using Presence.Server.Configuration;
using Presence.Server.Hosting;

namespace Presence.Server.Mqtt;

/// <summary>
/// The embedded broker's TLS certificate: self-signed (no CA in a home), ECDSA P-256, made on first start and
/// kept, so the fingerprint agents pin stays the same across restarts. The PFX holds the private key, so it is
/// readable by the server's user alone; nothing of it but the fingerprint is ever logged.
/// </summary>
public static class BrokerCertificate
{
    public const string FileName = "mqtt-broker.pfx";

    public static string EffectiveFile(MqttOptions mqtt, DatabaseOptions database) =>
        !string.IsNullOrWhiteSpace(mqtt.Tls.CertificateFile)
            ? Path.GetFullPath(mqtt.Tls.CertificateFile)
            : Path.Combine(Path.GetDirectoryName(Path.GetFullPath(database.DataDirectory ?? EmbeddedPostgres.DefaultDataDirectory()))!, FileName);

    /// <summary>Loads the certificate at <paramref name="path"/>, making it first if there is none.</summary>
    public static (X509Certificate2 Certificate, bool Created) LoadOrCreate(string path, MqttOptions mqtt, Instant now)
    {
        if (File.Exists(path))
        {
            try
            {
                var existing = X509CertificateLoader.LoadPkcs12FromFile(path, null);
                if (!existing.HasPrivateKey)
                {
                    throw new StartupException($"the MQTT TLS certificate {path} has no private key; give Mqtt:Tls:CertificateFile a PFX with one, or delete it to have a new one made");
                }

                return (existing, false);
            }
            catch (CryptographicException e)
            {
                throw new StartupException($"cannot read the MQTT TLS certificate {path} ({e.Message}); it must be a PFX without a password. Delete it to have a new one made (agents then need the new fingerprint)");
            }
        }

        var created = Create(HostNames(mqtt), now.ToDateTimeOffset());
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var pfx = created.Export(X509ContentType.Pfx);
        // Created with owner-only permissions rather than narrowed afterwards: no moment when others could read the key.
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using (var file = new FileStream(path, options))
        {
            file.Write(pfx);
        }

        CryptographicOperations.ZeroMemory(pfx);
        // Reloaded from the file, so a fresh start and a restart use the very same object kind (persisted key).
        return (X509CertificateLoader.LoadPkcs12FromFile(path, null), true);
    }

    public static string Fingerprint(X509Certificate2 certificate) => MqttTls.Fingerprint(certificate);

    private static IReadOnlyList<string> HostNames(MqttOptions mqtt)
    {
        if (mqtt.Tls.HostNames.Count > 0)
        {
            return mqtt.Tls.HostNames;
        }

        var names = new List<string> { "localhost", "127.0.0.1", Environment.MachineName.ToLowerInvariant() };
        if (IPAddress.TryParse(mqtt.Host, out var ip) && !ip.Equals(IPAddress.Any) && !ip.Equals(IPAddress.IPv6Any))
        {
            names.Add(mqtt.Host);
        }

        return names.Distinct(StringComparer.OrdinalIgnoreCase).ToList();
    }

    private static X509Certificate2 Create(IReadOnlyList<string> hostNames, DateTimeOffset now)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN=Presence MQTT broker ({Environment.MachineName.ToLowerInvariant()})", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        foreach (var name in hostNames)
        {
            if (IPAddress.TryParse(name, out var address))
            {
                san.AddIpAddress(address);
            }
            else
            {
                san.AddDnsName(name);
            }
        }

        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        // Pinned, not checked against a CA's calendar: a long life spares the house a yearly re-pinning of every agent.
        return request.CreateSelfSigned(now.AddDays(-1), now.AddYears(20));
    }
}
