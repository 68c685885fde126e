using System.Security.Cryptography;
using System.Text;

namespace Presence.Server.Identities;

/// <summary>A stored secret: PBKDF2-SHA-256 with its own salt and work factor, so a stolen database gives no password.</summary>
public sealed record HashedSecret(string Algorithm, int Iterations, byte[] Salt, byte[] Hash);

/// <summary>
/// Generates identity secrets and checks them. The work factor follows OWASP's advice for PBKDF2-SHA-256 (600,000),
/// which makes each check slow on purpose: callers cache a successful check instead of running it per connect.
/// </summary>
public static class SecretHash
{
    public const string Algorithm = "PBKDF2-SHA256";
    public const int Iterations = 600_000;
    private const int SaltBytes = 16;
    private const int HashBytes = 32;

    /// <summary>256 random bits as URL-safe Base64 (43 characters): safe in JSON, a shell and a mosquitto password file.</summary>
    public static string NewSecret() => Base64Url(RandomNumberGenerator.GetBytes(32));

    public static HashedSecret Hash(string secret)
    {
        var salt = RandomNumberGenerator.GetBytes(SaltBytes);
        return new HashedSecret(Algorithm, Iterations, salt, Derive(secret, salt, Iterations));
    }

    /// <summary>Constant-time in the hash compared, so timing tells nothing about how close a guess came.</summary>
    public static bool Verify(string? secret, HashedSecret stored)
    {
        if (string.IsNullOrEmpty(secret) || stored.Algorithm != Algorithm || stored.Iterations < 1 || stored.Hash.Length == 0)
        {
            return false;
        }

        var derived = Derive(secret, stored.Salt, stored.Iterations, stored.Hash.Length);
        return CryptographicOperations.FixedTimeEquals(derived, stored.Hash);
    }

    /// <summary>A fast fingerprint of a presented password, to remember a successful slow check without keeping the password.</summary>
    public static string Fingerprint(string secret, HashedSecret stored) =>
        Convert.ToHexString(SHA256.HashData([.. stored.Hash, .. Encoding.UTF8.GetBytes(secret)]));

    private static byte[] Derive(string secret, byte[] salt, int iterations, int length = HashBytes) =>
        Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(secret), salt, iterations, HashAlgorithmName.SHA256, length);

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
