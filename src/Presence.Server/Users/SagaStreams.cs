using JasperFx.Events;
using Marten;
using Marten.Services.BatchQuerying;
using Marten.Events;
using Presence.Domain.Users;
using Presence.Server.Hosting;

namespace Presence.Server.Users;

/// <summary>
/// The sagas a session has fetched for writing, as its appends so far leave them. A batch of one user's inputs
/// (SignalsArrived) decides each on the saga the ones before it left: fetching the stream again would read the stored
/// saga, without them, and append a second time under the same expected version. Folded with the domain's Evolve, as
/// the inline projection folds them on commit (UserSagaProjection).
/// </summary>
public static class SagaStreams
{
    public static async Task<(IEventStream<UserSaga> Stream, UserSaga? Saga)> FetchAsync(IDocumentSession session, string user, CancellationToken ct)
    {
        var fetched = SessionReads.Of(session).Sagas;
        if (!fetched.TryGetValue(user, out var known))
        {
            var stream = await session.Events.FetchForWriting<UserSaga>(user, ct);
            fetched[user] = known = (stream, stream.Aggregate);
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
            var fetchedStream = await stream;
            fetched[user] = (fetchedStream, fetchedStream.Aggregate);
        }
    }

    /// <summary>
    /// Keeps <paramref name="after"/>, the saga the decider's events leave (UserDecider.DecideAndFold folds them as it
    /// emits them, as the inline projection will on commit), for the session's next decision for the user.
    /// </summary>
    public static UserSaga Appended(IDocumentSession session, string user, UserSaga after)
    {
        var fetched = SessionReads.Of(session).Sagas;
        fetched[user] = (fetched[user].Stream, after);
        return after;
    }
}
