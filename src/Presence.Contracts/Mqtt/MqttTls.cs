using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;
using MQTTnet;

namespace Presence.Contracts.Mqtt;

/// <summary>How a client trusts a broker over TLS, and which certificate (if any) it shows.</summary>
/// <param name="Fingerprint">SHA-256 of the broker's certificate: when set, it alone decides (whatever CA signed it).</param>
/// <param name="CaFile">PEM or DER file of the CA that signed an external broker's certificate; else the system's CAs.</param>
/// <param name="ClientCertificateFile">Certificate shown to brokers that ask for client certificates: a PFX with its key, or PEM.</param>
/// <param name="ClientCertificatePassword">The PFX's password, if it has one.</param>
/// <param name="ClientKeyFile">PEM private key of a PEM client certificate; empty: the key is in the certificate's own file.</param>
public sealed record MqttTrust(
    string? Fingerprint, string? CaFile = null, string? ClientCertificateFile = null, string? ClientCertificatePassword = null, string? ClientKeyFile = null);

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
        var client = trust.ClientCertificateFile is { Length: > 0 } file
            ? LoadClientCertificate(file, trust.ClientCertificatePassword, trust.ClientKeyFile)
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

    /// <summary>
    /// What is wrong with the files a TLS client section names (each checked by loading it, as the connection will),
    /// as one line naming the key under <paramref name="section"/> (e.g. Agent:Mqtt:Tls); null when all is well.
    /// </summary>
    public static string? ProblemWithFiles(string section, string? caFile, string? clientCertificate, string? clientKey, string? password)
    {
        foreach (var (key, file) in new[] { ("CaFile", caFile), ("ClientCertificate", clientCertificate), ("ClientKey", clientKey) })
        {
            if (file is { Length: > 0 } && !File.Exists(file))
            {
                return $"{section}:{key} '{file}' does not exist";
            }
        }

        if (clientKey is { Length: > 0 } && clientCertificate is not { Length: > 0 })
        {
            return $"{section}:ClientKey '{clientKey}' is set but {section}:ClientCertificate is not; name the certificate the key belongs to";
        }

        try
        {
            if (caFile is { Length: > 0 })
            {
                using var ca = LoadCa(caFile);
            }
        }
        catch (Exception e) when (e is CryptographicException or IOException or UnauthorizedAccessException)
        {
            return $"{section}:CaFile '{caFile}' is not a readable PEM or DER certificate: {e.Message}";
        }

        try
        {
            if (clientCertificate is { Length: > 0 })
            {
                using var client = LoadClientCertificate(clientCertificate, password, clientKey);
            }
        }
        catch (Exception e) when (e is CryptographicException or IOException or UnauthorizedAccessException or ArgumentException)
        {
            return $"{section}:ClientCertificate '{clientCertificate}'{(clientKey is { Length: > 0 } ? $" with ClientKey '{clientKey}'" : "")} cannot be loaded with its private key " +
                $"(a PFX and its ClientCertificatePassword, or PEM with the key in ClientKey or the same file): {e.Message}";
        }

        return null;
    }

    /// <summary>A CA certificate from a PEM or DER file (the first certificate of a PEM bundle).</summary>
    /// <exception cref="CryptographicException">The file holds no certificate.</exception>
    public static X509Certificate2 LoadCa(string path) => X509CertificateLoader.LoadCertificate(
        IsPem(path)
            ? X509Certificate2.CreateFromPem(File.ReadAllText(path)).RawData
            : File.ReadAllBytes(path));

    /// <summary>
    /// A client certificate with its private key: a PFX (with <paramref name="password"/>), or PEM with the key in
    /// <paramref name="keyFile"/> or in the same file (what mosquitto and openssl users have at hand).
    /// </summary>
    /// <exception cref="CryptographicException">Not a certificate, a wrong password, or no private key that fits it.</exception>
    public static X509Certificate2 LoadClientCertificate(string path, string? password, string? keyFile)
    {
        if (!IsPem(path))
        {
            var pfx = X509CertificateLoader.LoadPkcs12FromFile(path, password);
            return pfx.HasPrivateKey ? pfx : throw new CryptographicException($"'{path}' holds no private key");
        }

        using var pem = string.IsNullOrEmpty(password)
            ? X509Certificate2.CreateFromPemFile(path, keyFile is { Length: > 0 } ? keyFile : null)
            : X509Certificate2.CreateFromEncryptedPemFile(path, password, keyFile is { Length: > 0 } ? keyFile : null);
        // A key read from PEM is ephemeral, which TLS stacks may refuse to sign with; a PKCS#12 round trip gives it a home.
        return X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
    }

    private static bool IsPem(string path)
    {
        var start = new byte[4096];
        using var file = File.OpenRead(path);
        var read = file.Read(start);
        return System.Text.Encoding.ASCII.GetString(start, 0, read).Contains("-----BEGIN", StringComparison.Ordinal);
    }
}
