using JasperFx.Events;
using Marten;
using Marten.Services.BatchQuerying;
using Marten.Events;
using Presence.Domain.Users;
using Presence.Server.Hosting;

namespace Presence.Server.Users;

/// <summary>
/// A user's stream as a session writes to it: the saga its appends so far leave, and the stream's version it was read
/// at. Fetched for writing (Marten's FetchForWriting: the version and the saga read in one round trip), or taken from
/// what this node kept after its last commit for the user (<see cref="KeptSagas"/>), which reads nothing; either way
/// the append is made under the version read, so a stale saga fails the commit (Marten's MT003) and the input is
/// decided again on what is stored.
/// </summary>
public sealed class SagaStream
{
    private readonly IEventStream<UserSaga>? fetched;

    /// <summary>
    /// The saga as read (null: a new stream), which Marten's inline projection folds this session's appends onto at
    /// commit.
    /// </summary>
    private readonly UserSaga? started;

    private SagaStream(string user, IEventStream<UserSaga>? fetched, UserSaga? saga, long version)
    {
        User = user;
        this.fetched = fetched;
        Saga = saga;
        started = saga;
        Version = version;
    }

    public string User { get; }

    /// <summary>The saga as the session's appends so far leave it (null: the user has none yet).</summary>
    public UserSaga? Saga { get; private set; }

    /// <summary>The stream's version when it was read, before this session's appends.</summary>
    public long Version { get; }

    /// <summary>Events appended in this session.</summary>
    public int Appended { get; private set; }

    public static SagaStream Fetched(string user, IEventStream<UserSaga> stream) =>
        new(user, stream, stream.Aggregate, stream.StartingVersion ?? 0);

    /// <summary>
    /// A kept saga's stream, asserted at the version kept when the session commits, whether or not anything is appended
    /// to it: an input the saga as kept gives nothing to do (an agent's answer to a command it never saw) may be one the
    /// stored saga, written meanwhile by another node, has to act on.
    /// </summary>
    public static SagaStream FromKept(IDocumentSession session, KeptSaga kept)
    {
        var action = session.Events.Append(kept.Saga.Id, Array.Empty<object>());
        action.ExpectedVersionOnServer = kept.Version;
        action.AlwaysEnforceConsistency = true;
        return new SagaStream(kept.Saga.Id, null, kept.Saga, kept.Version);
    }

    /// <summary>
    /// Appends the decider's events, and keeps <paramref name="after"/>, the saga they leave (UserDecider.DecideAndFold
    /// folds them as it emits them, as the inline projection will on commit), for the session's next decision.
    /// </summary>
    public void Append(IDocumentSession session, IReadOnlyCollection<object> events, UserSaga after)
    {
        if (fetched is not null)
        {
            fetched.AppendMany(events);
        }
        else
        {
            // Into the stream action made when the saga was taken (FromKept), under the version kept: the append
            // function compares it with the stream's (MT003 when another writer came first, a conflict StoreRetries
            // runs again).
            session.Events.Append(User, events);
        }

        Appended += events.Count;
        Saga = after;
        if (events.Count > 0)
        {
            var last = events.Last();
            UserSagaProjection.Remember(last is IEvent e ? e.Data : last, started, after, Appended);
        }
    }
}

/// <summary>
/// The sagas a session has fetched for writing, as its appends so far leave them. A batch of one user's inputs
/// (SignalsArrived) decides each on the saga the ones before it left: fetching the stream again would read the stored
/// saga, without them, and append a second time under the same expected version.
/// </summary>
public static class SagaStreams
{
    public static async Task<SagaStream> FetchAsync(IDocumentSession session, string user, CancellationToken ct)
    {
        var fetched = SessionReads.Of(session).Sagas;
        if (!fetched.TryGetValue(user, out var known))
        {
            fetched[user] = known = SagaStream.Fetched(user, await session.Events.FetchForWriting<UserSaga>(user, ct));
        }

        // Here rather than where a batch fetched the sagas: that runs while the batch still reads on the connection.
        await HousePrintsStore.Of(session.DocumentStore).ResolveAsync(session, known.Saga, ct);
        return known;
    }

    /// <summary>
    /// Fetches the sagas of <paramref name="users"/> for writing in <paramref name="batch"/>, so that a batch of several
    /// users' inputs reads them all in one round trip; complete once the batch has run.
    /// </summary>
    public static async Task FetchAsync(IBatchedQuery batch, IDocumentSession session, IEnumerable<string> users)
    {
        var fetching = users.Distinct().Select(user => (User: user, Stream: batch.Events.FetchForWriting<UserSaga>(user))).ToList();
        var fetched = SessionReads.Of(session).Sagas;
        foreach (var (user, stream) in fetching)
        {
            fetched[user] = SagaStream.Fetched(user, await stream);
        }
    }
}
