using System.Runtime.CompilerServices;
using Marten;
using JasperFx.Events;
using Presence.Domain.House;
using Presence.Domain.Users;

namespace Presence.Server.Hosting;

/// <summary>
/// What one session (one handler's transaction) has read for the inputs it handles, so that a batch of inputs
/// (SignalsArrived) reads each thing once and decides each input on what the ones before it left: the contract ids
/// looked up (<see cref="SeenMessage"/>), the house (Users/HouseReads), and each user's saga as fetched for writing and
/// as the session's appends so far leave it (Users/SagaStreams). Kept beside the session, not in it: Marten's sessions
/// have no place for a handler's own state, and the generated handler code hands the session around, not a context.
/// </summary>
internal sealed class SessionReads
{
    private static readonly ConditionalWeakTable<IQuerySession, SessionReads> PerSession = new();

    /// <summary>The session's reads, made on first use.</summary>
    public static SessionReads Of(IQuerySession session) => PerSession.GetOrCreateValue(session);

    /// <summary>Contract keys looked up, and whether each is stored (or being stored by this session's transaction).</summary>
    public Dictionary<string, bool> Seen { get; } = [];

    /// <summary>The house as this session read it: a batch is decided as of one reading.</summary>
    public HouseSnapshot? House { get; set; }

    /// <summary>Each user's stream fetched for writing, and the saga as the session's appends leave it.</summary>
    public Dictionary<string, (IEventStream<UserSaga> Stream, UserSaga? Saga)> Sagas { get; } = [];
}
