using System.Runtime.CompilerServices;
using JasperFx.Events.Documents;
using Marten;
using Marten.Services;
using Presence.Domain.Users;
using Presence.Server.Hosting;

namespace Presence.Server.Users;

/// <summary>
/// Every user's saga as this node last wrote or read it, with the stream version it is at, so that an input can be
/// decided without reading it first (issue 11 §6: the read before deciding was 1–2 ms of a warm login's 8). Nothing
/// kept is trusted at commit: an append is made under the version kept (Marten's MT003 when another writer came
/// first), and what a decision took of other sagas and of the house is checked unchanged in the same transaction
/// (<see cref="KeptReading"/>); either failure is a conflict, and the input is decided again on what is read.
/// </summary>
/// <remarks>
/// A saga a session took from here counts as being decided until that session committed: an input of that user that
/// comes meanwhile, or after the session failed, reads it from the database, and the commit that follows keeps it
/// again. Kept per store options (a test process runs several servers).
/// </remarks>
public sealed class KeptSagas
{
    private static readonly ConditionalWeakTable<object, KeptSagas> PerOptions = new();

    private readonly Lock gate = new();
    private readonly Dictionary<string, KeptSaga> kept = new(StringComparer.Ordinal);
    private readonly HashSet<string> deciding = new(StringComparer.Ordinal);

    /// <summary>Whether every saga stored was read once: only then can the sagas a seat concerns be told from here.</summary>
    public bool Complete { get; private set; }

    public static StoreOptions Keep(StoreOptions opts)
    {
        var sagas = new KeptSagas();
        PerOptions.AddOrUpdate(opts, sagas);
        opts.Listeners.Add(new Committed(sagas));
        return opts;
    }

    public static KeptSagas Of(IDocumentStore store) =>
        TryOf(store) ?? throw new InvalidOperationException("KeptSagas.Keep was not configured");

    public static KeptSagas? TryOf(IDocumentStore store) => PerOptions.TryGetValue(store.Options, out var sagas) ? sagas : null;

    /// <summary>
    /// The saga of <paramref name="user"/> kept at exactly <paramref name="version"/> of its stream, for a reader that
    /// found that version stored (Home Assistant's publisher): what this node committed need not be read back.
    /// </summary>
    public UserSaga? At(string user, long version)
    {
        lock (gate)
        {
            return kept.TryGetValue(user, out var known) && known.Version == version ? known.Saga : null;
        }
    }

    /// <summary>
    /// The kept sagas of <paramref name="users"/>, taken for one session, and for each seat the kept sagas it concerns
    /// (<see cref="SagaIndex"/>'s rule); null when any user's is not kept or is being decided, or a seat is asked and
    /// not every saga was read.
    /// </summary>
    public (IReadOnlyList<KeptSaga> Sagas, IReadOnlyDictionary<string, IReadOnlyList<KeptSaga>> Seats)? TryTake(
        IReadOnlyCollection<string> users, IReadOnlyCollection<string> seats)
    {
        lock (gate)
        {
            if ((seats.Count > 0 && !Complete) || users.Any(u => deciding.Contains(u) || !kept.ContainsKey(u)))
            {
                return null;
            }

            var taken = new List<KeptSaga>(users.Count);
            foreach (var user in users)
            {
                deciding.Add(user);
                taken.Add(kept[user]);
            }

            var bySeat = new Dictionary<string, IReadOnlyList<KeptSaga>>(StringComparer.Ordinal);
            foreach (var seat in seats)
            {
                bySeat[seat] = [.. kept.Values.Where(k => k.Involves is { } involves && SagaIndex.Concerns(involves, seat))];
            }

            return (taken, bySeat);
        }
    }

    /// <summary>
    /// Sagas as a read found them (SagaIndex): kept unless this node already keeps a later version. With
    /// <paramref name="complete"/>, every saga stored: from then on the kept sagas are all there are, as far as this
    /// node knows, and the assertions at commit say when another node wrote one.
    /// </summary>
    public void Load(IReadOnlyList<KeptSaga> read, bool complete)
    {
        lock (gate)
        {
            foreach (var row in read)
            {
                if (!kept.TryGetValue(row.Saga.Id, out var known) || known.Version < row.Version)
                {
                    kept[row.Saga.Id] = row;
                }
            }

            Complete |= complete;
        }
    }

    /// <summary>
    /// Forgets every saga kept, as a node that just started: the next decisions read, and the next read of every saga
    /// fills it again.
    /// </summary>
    public void Forget()
    {
        lock (gate)
        {
            kept.Clear();
            Complete = false;
        }
    }

    /// <summary>What a session's commit left: each saga it wrote or read for writing, at the version it left.</summary>
    private void Keep(IEnumerable<SagaStream> streams)
    {
        lock (gate)
        {
            foreach (var stream in streams)
            {
                deciding.Remove(stream.User);
                if (stream.Saga is { } saga)
                {
                    var version = stream.Version + stream.Appended;
                    if (!kept.TryGetValue(stream.User, out var known) || known.Version <= version)
                    {
                        // The list as Marten's upsert writes it into the index column.
                        kept[stream.User] = new KeptSaga(saga, version, saga.Involves);
                    }
                }
            }
        }
    }

    private sealed class Committed(KeptSagas sagas) : DocumentSessionListenerBase
    {
        public override Task AfterCommitAsync(IDocumentSession session, IChangeSet commit, CancellationToken token)
        {
            // A session whose transaction is rolled back after its save (SignalWarmup's) is told "committed" too; it
            // never takes a kept saga (DecisionReads), so it has nothing to give back either.
            if (SessionReads.Existing(session) is { RollsBack: false, Sagas.Count: > 0 } reads)
            {
                sagas.Keep(reads.Sagas.Values);
            }

            return Task.CompletedTask;
        }
    }
}

/// <summary>
/// A saga as stored: its stream version, and its list of hosts as the index column holds it (null: not filled, a saga
/// stored before the column existed).
/// </summary>
public sealed record KeptSaga(UserSaga Saga, long Version, IReadOnlyList<string>? Involves)
{
    /// <summary>How a check at commit names it (<see cref="KeptReading"/>): "id:version".</summary>
    public string Key => Saga.Id + ":" + Version.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
