using System.Security.Cryptography;
using System.Text;
using NodaTime;
using NodaTime.Text;

namespace Presence.Contracts.Agents;

/// <summary>
/// How the server proves to an agent that a command is its own (CONTRACT.md §3, §5): an ECDSA P-256 / SHA-256
/// signature, carried beside the payload as MQTT 5 user properties so the JSON payload stays as the contract has it.
/// What is signed is <c>topic + "\n" + issued_at + "\n" + payload</c>, byte for byte as they travel: nothing is
/// re-serialised before checking, so there is no canonical form to get wrong; the topic binds a command to the
/// one agent it was sent to, and issued_at lets the agent refuse a command replayed later.
/// <code>
/// var properties = CommandSignature.Sign(houseKey, topic, clock.GetCurrentInstant(), payload);   // server
/// var refusal = verifier.Check(topic, properties, payload, clock.GetCurrentInstant());          // agent: null = genuine
/// </code>
/// </summary>
public static class CommandSignature
{
    /// <summary>When the server signed the command: an ISO-8601 instant (<c>2026-12-04T14:50:55.123Z</c>).</summary>
    public const string IssuedAtProperty = "presence-issued-at";

    /// <summary>The signature, base64 of the 64-byte IEEE P1363 form (r ‖ s).</summary>
    public const string SignatureProperty = "presence-signature";

    public static string FormatInstant(Instant instant) => InstantPattern.ExtendedIso.Format(instant);

    public static byte[] SignedBytes(string topic, string issuedAt, ReadOnlySpan<byte> payload)
    {
        var head = Encoding.UTF8.GetBytes($"{topic}\n{issuedAt}\n");
        var bytes = new byte[head.Length + payload.Length];
        head.CopyTo(bytes, 0);
        payload.CopyTo(bytes.AsSpan(head.Length));
        return bytes;
    }

    /// <summary>The user properties that go with <paramref name="payload"/> on <paramref name="topic"/>.</summary>
    public static IReadOnlyList<KeyValuePair<string, string>> Sign(ECDsa key, string topic, Instant issuedAt, ReadOnlySpan<byte> payload)
    {
        var at = FormatInstant(issuedAt);
        var signature = key.SignData(SignedBytes(topic, at, payload), HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
        return [new(IssuedAtProperty, at), new(SignatureProperty, Convert.ToBase64String(signature))];
    }
}

/// <summary>A house's key pair, or only its public half; the public key travels as base64 SubjectPublicKeyInfo.</summary>
public static class HouseKey
{
    /// <summary>A new P-256 key pair.</summary>
    public static ECDsa Create() => ECDsa.Create(ECCurve.NamedCurves.nistP256);

    public static string ExportPublicKey(ECDsa key) => Convert.ToBase64String(key.ExportSubjectPublicKeyInfo());

    /// <summary>Reads a public key as <see cref="ExportPublicKey"/> writes it.</summary>
    /// <exception cref="FormatException">Not base64, not a key, or not a P-256 ECDSA key; the message says which.</exception>
    public static ECDsa ImportPublicKey(string base64)
    {
        byte[] der;
        try
        {
            der = Convert.FromBase64String(base64.Trim());
        }
        catch (FormatException)
        {
            throw new FormatException("the server key is not base64 (it looks like MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE…)");
        }

        var key = ECDsa.Create();
        try
        {
            key.ImportSubjectPublicKeyInfo(der, out _);
        }
        catch (CryptographicException e)
        {
            key.Dispose();
            throw new FormatException($"the server key is not an ECDSA public key ({e.Message})");
        }

        if (key.KeySize != 256)
        {
            key.Dispose();
            throw new FormatException($"the server key is a {key.KeySize}-bit ECDSA key; Presence signs with P-256");
        }

        return key;
    }
}

/// <summary>Checks a command's signature and age against one server key; the agent's half of <see cref="CommandSignature"/>.</summary>
public sealed class CommandVerifier(ECDsa serverKey, Duration maxAge)
{
    /// <summary>Whether the command was signed by this key for this topic, whatever its age.</summary>
    /// <returns>Null when genuine; otherwise why not, in words for the refusal.</returns>
    public string? CheckSignature(string topic, IReadOnlyList<KeyValuePair<string, string>> properties, ReadOnlySpan<byte> payload)
    {
        var at = Single(properties, CommandSignature.IssuedAtProperty);
        var signature = Single(properties, CommandSignature.SignatureProperty);
        if (at is null || signature is null)
        {
            return $"command not signed by this house's server (no single {CommandSignature.IssuedAtProperty} and {CommandSignature.SignatureProperty})";
        }

        byte[] bytes;
        try
        {
            bytes = Convert.FromBase64String(signature);
        }
        catch (FormatException)
        {
            return "command not signed by this house's server (the signature is not base64)";
        }

        return serverKey.VerifyData(SignedBytes(topic, at, payload), bytes, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation)
            ? null
            : "command not signed by this house's server";
    }

    /// <summary>Whether a genuine command was issued within the window around <paramref name="now"/> (either side: clocks drift).</summary>
    public string? CheckAge(IReadOnlyList<KeyValuePair<string, string>> properties, Instant now)
    {
        var text = Single(properties, CommandSignature.IssuedAtProperty);
        if (text is null || InstantPattern.ExtendedIso.Parse(text) is not { Success: true } parsed)
        {
            return $"command has no valid {CommandSignature.IssuedAtProperty}";
        }

        var age = now - parsed.Value;
        if (age > maxAge)
        {
            return $"command issued at {text} is older than the {Minutes(maxAge)} a command stays valid (a replay, or a clock {Minutes(age)} behind)";
        }

        if (-age > maxAge)
        {
            return $"command issued at {text} is {Minutes(-age)} in the future; the clocks of this computer and the server differ too much";
        }

        return null;
    }

    private static byte[] SignedBytes(string topic, string at, ReadOnlySpan<byte> payload) => CommandSignature.SignedBytes(topic, at, payload);

    private static string Minutes(Duration d) => d.TotalMinutes >= 1 ? $"{d.TotalMinutes:0.#} min" : $"{d.TotalSeconds:0.#} s";

    /// <summary>A property given twice is as good as none: which one would count is the attacker's choice.</summary>
    private static string? Single(IReadOnlyList<KeyValuePair<string, string>> properties, string name)
    {
        string? found = null;
        foreach (var (key, value) in properties)
        {
            if (key == name)
            {
                if (found is not null)
                {
                    return null;
                }

                found = value;
            }
        }

        return found;
    }
}
