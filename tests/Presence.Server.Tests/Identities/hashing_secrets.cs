using System.Security.Cryptography;
using System.Text;
using Presence.Server.Identities;

namespace Presence.Server.Tests.Identities;

/// <summary>Only a slow, salted hash of a secret is kept; the secret itself is long and random.</summary>
public sealed class hashing_secrets
{
    [Fact]
    public void a_new_secret_carries_at_least_128_random_bits()
    {
        var secrets = Enumerable.Range(0, 20).Select(_ => SecretHash.NewSecret()).ToList();

        Assert.All(secrets, s => Assert.True(s.Length * 6 >= 128, $"'{s}' is too short"));
        Assert.All(secrets, s => Assert.Matches("^[A-Za-z0-9_-]+$", s));
        Assert.Equal(secrets.Count, secrets.Distinct().Count());
    }

    [Fact]
    public void the_hash_is_pbkdf2_sha256_with_600000_iterations_and_a_salt_of_its_own()
    {
        const string secret = "correct horse battery staple";
        var first = SecretHash.Hash(secret);
        var second = SecretHash.Hash(secret);

        Assert.Equal("PBKDF2-SHA256", first.Algorithm);
        Assert.True(first.Iterations >= 600_000);
        Assert.True(first.Salt.Length >= 16);
        Assert.NotEqual(first.Salt, second.Salt);
        Assert.NotEqual(first.Hash, second.Hash);
        Assert.Equal(Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(secret), first.Salt, first.Iterations, HashAlgorithmName.SHA256, first.Hash.Length), first.Hash);
    }

    [Fact]
    public void only_the_secret_itself_verifies()
    {
        var secret = SecretHash.NewSecret();
        var stored = SecretHash.Hash(secret);

        Assert.True(SecretHash.Verify(secret, stored));
        Assert.False(SecretHash.Verify(secret[..^1], stored));
        Assert.False(SecretHash.Verify(secret + "x", stored));
        Assert.False(SecretHash.Verify("", stored));
        Assert.False(SecretHash.Verify(null, stored));
        Assert.False(SecretHash.Verify(secret, stored with { Iterations = stored.Iterations - 1 }));
        Assert.False(SecretHash.Verify(secret, stored with { Algorithm = "MD5" }));
    }

    [Fact]
    public void a_remembered_check_belongs_to_one_stored_hash()
    {
        var secret = SecretHash.NewSecret();
        var stored = SecretHash.Hash(secret);
        var again = SecretHash.Hash(secret);

        Assert.Equal(SecretHash.Fingerprint(secret, stored), SecretHash.Fingerprint(secret, stored));
        Assert.NotEqual(SecretHash.Fingerprint(secret, stored), SecretHash.Fingerprint(secret, again));
        Assert.DoesNotContain(secret, SecretHash.Fingerprint(secret, stored));
    }
}
