using System.Collections.Concurrent;
using Marten;

namespace Presence.Server.Identities;

/// <summary>
/// The enrolled identities as the broker sees them: read from the store at start and polled, because `enroll` and
/// `revoke` run in another process. A successful check of a secret is remembered for the life of the process (by a
/// fingerprint of the password and the stored hash, never the password), so a reconnect does not cost a PBKDF2 run,
/// and re-enrolling (a new hash) makes the old secret fail at once.
/// </summary>
public sealed class Enrolments(IDocumentStore store)
{
    private readonly ConcurrentDictionary<string, byte> verified = new();
    private volatile IReadOnlyDictionary<string, Enrolment> current = new Dictionary<string, Enrolment>();

    public IReadOnlyDictionary<string, Enrolment> Current => current;

    public Enrolment? Find(string name) => current.GetValueOrDefault(name);

    public async Task RefreshAsync(CancellationToken ct)
    {
        await using var session = store.QuerySession();
        var all = await session.Query<Enrolment>().ToListAsync(ct);
        current = all.ToDictionary(e => e.Id);
    }

    public async Task<bool> VerifyAsync(Enrolment enrolment, string? password)
    {
        if (string.IsNullOrEmpty(password))
        {
            return false;
        }

        var key = enrolment.Id + "\n" + SecretHash.Fingerprint(password, enrolment.Secret);
        if (verified.ContainsKey(key))
        {
            return true;
        }

        // Slow by design (hundreds of milliseconds): off the broker's connection thread.
        var ok = await Task.Run(() => SecretHash.Verify(password, enrolment.Secret));
        if (ok)
        {
            verified[key] = 0;
        }

        return ok;
    }
}
