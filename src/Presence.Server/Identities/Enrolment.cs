using NodaTime;

namespace Presence.Server.Identities;

public enum IdentityRole { Host, Controller }

/// <summary>
/// An identity the house knows a secret for: only its hash is kept (<see cref="SecretHash"/>). The document's id is
/// the MQTT username; enrolling again replaces it, so the old secret stops working.
/// </summary>
public sealed class Enrolment
{
    public string Id { get; set; } = "";
    public IdentityRole Role { get; set; }
    public string Algorithm { get; set; } = SecretHash.Algorithm;
    public int Iterations { get; set; }
    public byte[] Salt { get; set; } = [];
    public byte[] Hash { get; set; } = [];
    public Instant EnrolledAt { get; set; }

    public HashedSecret Secret => new(Algorithm, Iterations, Salt, Hash);

    /// <summary>The enrolment of <paramref name="name"/> with a hash of <paramref name="secret"/>, never the secret.</summary>
    public static Enrolment Of(string name, IdentityRole role, string secret, Instant at)
    {
        var hashed = SecretHash.Hash(secret);
        return new Enrolment { Id = name, Role = role, Algorithm = hashed.Algorithm, Iterations = hashed.Iterations, Salt = hashed.Salt, Hash = hashed.Hash, EnrolledAt = at };
    }
}

/// <summary>For the audit: who was given a secret, and when. Never the secret, never its hash.</summary>
public sealed record IdentityEnrolled(string Name, IdentityRole Role, bool Replaced, Instant At);

/// <summary>For the audit: an identity whose secret no longer opens the broker.</summary>
public sealed record IdentityRevoked(string Name, IdentityRole Role, Instant At);

public static class IdentityStream
{
    /// <summary>A stream of its own; the colon keeps it apart from every user's stream (names allow none).</summary>
    public const string Id = "house:identities";
}
