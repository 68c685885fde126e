using System.Text;
using NodaTime;
using Presence.Contracts.Agents;

namespace Presence.Contracts.Tests.Agents;

/// <summary>The server's signature on a command: over topic, issue time and the exact payload bytes.</summary>
public sealed class signing_commands : IDisposable
{
    private const string Topic = "presence/agents/basement/commands";
    private static readonly Instant Now = Instant.FromUtc(2026, 12, 4, 15, 0);
    private static readonly byte[] Payload = Encoding.UTF8.GetBytes("""{"command_id":"c1","type":"suspend","vm":"alice-desktop"}""");

    private readonly System.Security.Cryptography.ECDsa key = HouseKey.Create();
    private readonly CommandVerifier verifier;

    public signing_commands() => verifier = new CommandVerifier(HouseKey.ImportPublicKey(HouseKey.ExportPublicKey(key)), Duration.FromMinutes(5));

    public void Dispose() => key.Dispose();

    [Fact]
    public void a_signed_command_verifies_and_carries_its_issue_time()
    {
        var properties = CommandSignature.Sign(key, Topic, Now, Payload);

        Assert.Null(verifier.CheckSignature(Topic, properties, Payload));
        Assert.Null(verifier.CheckAge(properties, Now + Duration.FromMinutes(5)));
        Assert.Equal(("presence-issued-at", "2026-12-04T15:00:00Z"), (properties[0].Key, properties[0].Value));
    }

    [Fact]
    public void another_topic_another_time_or_a_changed_byte_do_not_verify()
    {
        var properties = CommandSignature.Sign(key, Topic, Now, Payload);
        var later = properties.Select(p => p.Key == CommandSignature.IssuedAtProperty ? KeyValuePair.Create(p.Key, "2026-12-04T15:04:00Z") : p).ToList();
        var changed = (byte[])Payload.Clone();
        changed[^2] ^= 1;

        Assert.Equal("command not signed by this house's server", verifier.CheckSignature("presence/agents/imac/commands", properties, Payload));
        Assert.Equal("command not signed by this house's server", verifier.CheckSignature(Topic, later, Payload));
        Assert.Equal("command not signed by this house's server", verifier.CheckSignature(Topic, properties, changed));
    }

    [Fact]
    public void a_missing_or_doubled_property_is_no_signature()
    {
        var properties = CommandSignature.Sign(key, Topic, Now, Payload);
        var doubled = properties.Append(KeyValuePair.Create(CommandSignature.SignatureProperty, "AAAA")).ToList();

        Assert.StartsWith("command not signed by this house's server (no single", verifier.CheckSignature(Topic, [], Payload));
        Assert.StartsWith("command not signed by this house's server (no single", verifier.CheckSignature(Topic, doubled, Payload));
    }

    [Fact]
    public void a_command_outside_the_window_either_way_is_too_old_or_too_far_ahead()
    {
        var properties = CommandSignature.Sign(key, Topic, Now, Payload);

        Assert.Contains("is older than the 5 min", verifier.CheckAge(properties, Now + Duration.FromMinutes(6)));
        Assert.Contains("in the future", verifier.CheckAge(properties, Now - Duration.FromMinutes(6)));
    }

    [Fact]
    public void a_key_that_is_not_p256_is_refused_naming_why()
    {
        using var rsa = System.Security.Cryptography.RSA.Create(2048);
        using var p384 = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP384);

        Assert.Contains("not an ECDSA public key", Assert.Throws<FormatException>(() => HouseKey.ImportPublicKey(Convert.ToBase64String(rsa.ExportSubjectPublicKeyInfo()))).Message);
        Assert.Contains("384-bit", Assert.Throws<FormatException>(() => HouseKey.ImportPublicKey(Convert.ToBase64String(p384.ExportSubjectPublicKeyInfo()))).Message);
    }
}
