using System.Runtime.CompilerServices;
using Marten;
using Presence.Domain.House;
using Presence.Domain.Users;
using Presence.Server.Users;

namespace Presence.Server.Hosting;

/// <summary>
/// What one session (one handler's transaction) has read for the inputs it handles, so that a batch of inputs
/// (SignalsArrived) reads each thing once and decides each input on what the ones before it left: the contract ids
/// looked up (<see cref="SeenMessage"/>) and those it stores, the house (Users/HouseReads), and each user's saga as
/// fetched for writing and as the session's appends so far leave it (Users/SagaStreams). Kept beside the session, not
/// in it: Marten's sessions have no place for a handler's own state, and the generated handler code hands the session
/// around, not a context.
/// </summary>
internal sealed class SessionReads
{
    private static readonly ConditionalWeakTable<IQuerySession, SessionReads> PerSession = new();

    /// <summary>The ids this session stores and their documents, the values of its one insert (<see cref="StoreSeen"/>).</summary>
    private (List<string> Keys, List<string> Documents)? storing;

    /// <summary>The session's reads, made on first use.</summary>
    public static SessionReads Of(IQuerySession session) => PerSession.GetOrCreateValue(session);

    /// <summary>The session's reads if it made any.</summary>
    public static SessionReads? Existing(IQuerySession session) => PerSession.TryGetValue(session, out var reads) ? reads : null;

    /// <summary>Contract keys looked up, and whether each is stored (or being stored by this session's transaction).</summary>
    public Dictionary<string, bool> Seen { get; } = [];

    /// <summary>
    /// Stores a contract id as seen, in the session's transaction: the ids of all its inputs in one statement. Marten
    /// writes each document with a statement of its own, and a batch of a burst's signals (SignalsArrived) stores one
    /// id per signal: those statements were a tenth of PostgreSQL's time in an ingestion run. A plain insert, as
    /// Marten's was: an id a concurrent delivery stored first fails the transaction on the primary key, and the
    /// conflict retry (StoreRetries) then finds it stored. The id counts as <see cref="Seen"/> from here on.
    /// </summary>
    /// <remarks>
    /// The statement is queued with the first id and its arrays grow with the next ones: Marten binds a queued
    /// statement's values when the session saves, and a session saves nothing that has nothing queued, so an id
    /// queued only at the save (a session listener) would be lost with a session that changed nothing else.
    /// </remarks>
    public void StoreSeen(IDocumentSession session, SeenMessage seen)
    {
        if (storing is not { } lists)
        {
            lists = (new List<string>(), new List<string>());
            storing = lists;
            DocumentRows.QueueInsert(session, typeof(SeenMessage), lists.Keys, lists.Documents);
        }

        lists.Keys.Add(seen.Id);
        lists.Documents.Add(session.DocumentStore.Options.Serializer().ToJson(seen));
        Seen[seen.Id] = true;
    }

    /// <summary>The house as this session read it: a batch is decided as of one reading.</summary>
    public HouseSnapshot? House { get; set; }

    /// <summary>
    /// Whether the session saves into a transaction that is then rolled back (Users/HousePrints.WillRollBack).
    /// </summary>
    public bool RollsBack { get; set; }

    /// <summary>The sagas involved with a host, read ahead for someone sitting down at it (Users/SagaIndex).</summary>
    public Dictionary<string, IReadOnlyList<UserSaga>> Involving { get; } = [];

    /// <summary>Each user's stream fetched for writing, and the saga as the session's appends leave it.</summary>
    public Dictionary<string, SagaStream> Sagas { get; } = [];
}
