using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;
using MQTTnet;

namespace Presence.Contracts.Mqtt;

/// <summary>How a client trusts a broker over TLS, and which certificate (if any) it shows.</summary>
/// <param name="Fingerprint">SHA-256 of the broker's certificate: when set, it alone decides (whatever CA signed it).</param>
/// <param name="CaFile">PEM or DER file of the CA that signed an external broker's certificate; else the system's CAs.</param>
/// <param name="ClientCertificateFile">PFX shown to brokers that ask for client certificates.</param>
/// <param name="ClientCertificatePassword">The PFX's password, if it has one.</param>
public sealed record MqttTrust(string? Fingerprint, string? CaFile = null, string? ClientCertificateFile = null, string? ClientCertificatePassword = null);

/// <summary>
/// TLS for <see cref="MqttConnection"/>'s clients. The embedded broker's certificate is self-signed, so no CA can
/// vouch for it: the agent pins its SHA-256 fingerprint (printed by the server on start and by `enroll`).
/// </summary>
public static class MqttTls
{
    /// <summary>SHA-256 of the certificate's DER bytes, as colon-separated upper-case hex (the way openssl prints it).</summary>
    public static string Fingerprint(X509Certificate certificate) =>
        string.Join(':', SHA256.HashData(certificate.GetRawCertData()).Select(b => b.ToString("X2")));

    /// <summary>A fingerprint as typed (colons, spaces, any case) reduced to bare upper-case hex, or null if it is not 64 hex digits.</summary>
    public static string? NormalizeFingerprint(string? text)
    {
        if (text is null)
        {
            return null;
        }

        var hex = new string(text.Where(c => c is not (':' or ' ' or '-')).ToArray()).ToUpperInvariant();
        return hex.Length == 64 && hex.All(Uri.IsHexDigit) ? hex : null;
    }

    /// <summary>Connects with TLS, trusting the broker as <paramref name="trust"/> says; a refusal is logged naming both fingerprints.</summary>
    public static MqttClientOptionsBuilder WithTrust(this MqttClientOptionsBuilder builder, string targetHost, MqttTrust trust, ILogger logger)
    {
        var pin = trust.Fingerprint is null ? null : NormalizeFingerprint(trust.Fingerprint)
            ?? throw new ArgumentException($"the MQTT TLS fingerprint '{trust.Fingerprint}' is not a SHA-256 (64 hex digits, colons allowed)");
        var ca = trust.CaFile is { Length: > 0 } caFile ? LoadCa(caFile) : null;
        var client = trust.ClientCertificateFile is { Length: > 0 } pfx
            ? X509CertificateLoader.LoadPkcs12FromFile(pfx, trust.ClientCertificatePassword)
            : null;
        return builder.WithTlsOptions(tls =>
        {
            tls.UseTls().WithTargetHost(targetHost).WithCertificateValidationHandler(e => Check(e.Certificate, e.Chain, e.SslPolicyErrors, targetHost, pin, ca, logger));
            if (client is not null)
            {
                tls.WithClientCertificates(new X509Certificate2Collection(client));
            }
        });
    }

    private static bool Check(X509Certificate? presented, X509Chain? chain, SslPolicyErrors errors, string host, string? pin, X509Certificate2? ca, ILogger logger)
    {
        if (presented is null)
        {
            logger.LogError("MQTT broker {Host} showed no TLS certificate; refusing it", host);
            return false;
        }

        var seen = Fingerprint(presented);
        if (pin is not null)
        {
            // The pin alone decides: a self-signed certificate has no chain and need not name the host.
            if (seen.Replace(":", "") == pin)
            {
                return true;
            }

            logger.LogError(
                "MQTT broker {Host} showed a TLS certificate with SHA-256 {Seen}, but Tls:Fingerprint pins {Pinned}; refusing it (a different broker, or its certificate was replaced: take the new one from the server's start log or `enroll`)",
                host, seen, string.Join(':', Enumerable.Range(0, 32).Select(i => pin.Substring(i * 2, 2))));
            return false;
        }

        if (ca is not null)
        {
            if ((errors & ~SslPolicyErrors.RemoteCertificateChainErrors) != SslPolicyErrors.None)
            {
                logger.LogError("MQTT broker {Host}'s TLS certificate ({Seen}) does not fit: {Errors}", host, seen, errors);
                return false;
            }

            using var custom = new X509Chain();
            custom.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            custom.ChainPolicy.CustomTrustStore.Add(ca);
            custom.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            if (chain is not null)
            {
                custom.ChainPolicy.ExtraStore.AddRange(chain.ChainPolicy.ExtraStore);
            }

            if (custom.Build(new X509Certificate2(presented)))
            {
                return true;
            }

            logger.LogError("MQTT broker {Host}'s TLS certificate ({Seen}) is not signed by the CA in Tls:CaFile; refusing it", host, seen);
            return false;
        }

        if (errors == SslPolicyErrors.None)
        {
            return true;
        }

        logger.LogError("MQTT broker {Host}'s TLS certificate ({Seen}) is not trusted ({Errors}); pin it with Tls:Fingerprint={Seen} or name its CA in Tls:CaFile",
            host, seen, errors, seen);
        return false;
    }

    private static X509Certificate2 LoadCa(string path) => X509CertificateLoader.LoadCertificate(
        File.ReadAllText(path).Contains("-----BEGIN", StringComparison.Ordinal)
            ? X509Certificate2.CreateFromPem(File.ReadAllText(path)).RawData
            : File.ReadAllBytes(path));
}
