using System.Collections.Concurrent;
using Marten;
using NodaTime;

namespace Presence.Server.Identities;

/// <summary>What a check of a presented secret found.</summary>
public enum Proof { Proven, Wrong, Throttled }

/// <summary>
/// The enrolled identities as the broker sees them: read from the store at start and polled, because `enroll` and
/// `revoke` run in another process. A successful check of a secret is remembered for the life of the process (by a
/// fingerprint of the password and the stored hash, never the password), so a reconnect does not cost a PBKDF2 run,
/// and re-enrolling (a new hash) makes the old secret fail at once.
/// </summary>
/// <remarks>
/// Each PBKDF2 check costs about 0.3 s of CPU, so wrong guesses are rationed: one check runs at a time, and after a
/// few wrong secrets for a name, further unproven secrets for that name are turned away unchecked for a while that doubles
/// with each failure (up to <see cref="MaxBackoff"/>). A client on the Wi-Fi cannot keep the server's CPU busy, and an
/// agent that already proved its secret in this process still reconnects at once.
/// </remarks>
public sealed class Enrolments(IDocumentStore store, IClock clock)
{
    public static readonly Duration FirstBackoff = Duration.FromSeconds(1);
    public static readonly Duration MaxBackoff = Duration.FromSeconds(30);
    public const int FreeFailures = 2;

    private readonly ConcurrentDictionary<string, byte> verified = new();
    private readonly ConcurrentDictionary<string, (int Failures, Instant Until)> failed = new();
    private readonly SemaphoreSlim oneAtATime = new(1, 1);
    private volatile IReadOnlyDictionary<string, Enrolment> current = new Dictionary<string, Enrolment>();
    private long slowChecks;

    public IReadOnlyDictionary<string, Enrolment> Current => current;

    /// <summary>How many PBKDF2 checks ran in this process: what guessing costs the server.</summary>
    public long SlowChecks => Interlocked.Read(ref slowChecks);

    public Enrolment? Find(string name) => current.GetValueOrDefault(name);

    public async Task RefreshAsync(CancellationToken ct)
    {
        await using var session = store.QuerySession();
        var all = await session.Query<Enrolment>().ToListAsync(ct);
        current = all.ToDictionary(e => e.Id);
    }

    /// <summary>Until when unproven secrets for <paramref name="name"/> are turned away unchecked; null when they are not.</summary>
    public Instant? ThrottledUntil(string name) =>
        failed.TryGetValue(name, out var f) && f.Until > clock.GetCurrentInstant() ? f.Until : null;

    public async Task<Proof> VerifyAsync(Enrolment enrolment, string? password)
    {
        if (string.IsNullOrEmpty(password))
        {
            return Proof.Wrong;
        }

        var key = enrolment.Id + "\n" + SecretHash.Fingerprint(password, enrolment.Secret);
        if (verified.ContainsKey(key))
        {
            return Proof.Proven;
        }

        if (ThrottledUntil(enrolment.Id) is not null)
        {
            return Proof.Throttled;
        }

        await oneAtATime.WaitAsync();
        try
        {
            // Another wrong guess may have finished while this one waited.
            if (ThrottledUntil(enrolment.Id) is not null)
            {
                return Proof.Throttled;
            }

            Interlocked.Increment(ref slowChecks);
            // Slow by design (hundreds of milliseconds): off the broker's connection thread.
            var ok = await Task.Run(() => SecretHash.Verify(password, enrolment.Secret));
            if (ok)
            {
                verified[key] = 0;
                failed.TryRemove(enrolment.Id, out _);
                return Proof.Proven;
            }

            var now = clock.GetCurrentInstant();
            failed.AddOrUpdate(enrolment.Id, _ => (1, now + Backoff(1)), (_, f) => (f.Failures + 1, now + Backoff(f.Failures + 1)));
            return Proof.Wrong;
        }
        finally
        {
            oneAtATime.Release();
        }
    }

    /// <summary>
    /// A person who mistyped, or an agent handed a new secret after a re-enrolment, gets <see cref="FreeFailures"/>
    /// checks without waiting; guessing on from there waits ever longer.
    /// </summary>
    private static Duration Backoff(int failures)
    {
        if (failures <= FreeFailures)
        {
            return Duration.Zero;
        }

        var doubled = FirstBackoff * Math.Pow(2, Math.Min(failures - FreeFailures - 1, 16));
        return doubled < MaxBackoff ? doubled : MaxBackoff;
    }
}
