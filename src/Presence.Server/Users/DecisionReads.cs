using Marten;
using Presence.Domain.House;
using Presence.Domain.Users;
using Presence.Server.Hosting;

namespace Presence.Server.Users;

/// <summary>
/// Everything a handler's decisions read, in one round trip before any of them is decided: whether the inputs' ids
/// were seen, the users' sagas, the house, and for someone sitting down at a console the sagas that screen concerns.
/// The session keeps what came back (SessionReads), so the reads that follow find it there. The timelines are not
/// read: their lines are rows written blind (Dashboard/TimelineProjection).
/// Read one after the other they were five round trips before a console login was decided (issue 11 §6), and four
/// before an agent's answer that ends a move was. Most inputs need none: a node that keeps the sagas and the house
/// decides on those and checks them at commit (<see cref="KeptSagas"/>); the read also fills what it keeps, every
/// saga once.
/// </summary>
/// <param name="Seen">The inputs' topics and contract ids (SeenMessage).</param>
/// <param name="Users">Whose sagas are decided; users the house file does not name are left out.</param>
/// <param name="Seats">Consoles someone sits down at (SagaIndex.InvolvingAsync).</param>
public sealed record DecisionReads(
    IEnumerable<(string Topic, string? Id)> Seen,
    IEnumerable<string> Users,
    IEnumerable<string>? Seats = null)
{
    public async Task ReadAsync(IDocumentSession session, HousePolicy policy, CancellationToken ct)
    {
        var users = Users.Where(u => policy.User(u) is not null).Distinct().ToList();
        var seats = (Seats ?? []).Distinct().ToList();
        if (TryKept(session, policy, users, seats))
        {
            return;
        }

        var reads = session.CreateBatchQuery();
        List<Task> read =
        [
            SeenMessage.LookUpAsync(reads, session, Seen),
            SagaStreams.FetchAsync(reads, session, users),
            HouseReads.ReadAsync(reads, session, policy),
        ];
        foreach (var seat in seats)
        {
            read.Add(SagaIndex.InvolvingAsync(reads, session, seat));
        }

        if (!KeptSagas.Of(session.DocumentStore).Complete && !SessionReads.Of(session).RollsBack)
        {
            read.Add(SagaIndex.AllAsync(reads, session));
        }

        await reads.Execute(ct);
        await Task.WhenAll(read);
    }

    /// <summary>
    /// Decides on what this node kept, reading nothing, when it keeps every saga the inputs concern and the house: the
    /// contract ids are taken as new (a duplicate fails the commit on its key), each saga is appended to under the
    /// version kept, and the house and the sagas at each seat are asserted unchanged at commit (<see cref="KeptReading"/>).
    /// </summary>
    private bool TryKept(IDocumentSession session, HousePolicy policy, IReadOnlyCollection<string> users, IReadOnlyCollection<string> seats)
    {
        var reads = SessionReads.Of(session);
        if (users.Count == 0 || reads.RollsBack || reads.House is not null || reads.Sagas.Count > 0
            || HouseReads.Kept(session, policy) is not { } house
            || KeptSagas.Of(session.DocumentStore).TryTake(users, seats) is not { } kept)
        {
            return false;
        }

        foreach (var (topic, id) in Seen)
        {
            if (id is not null)
            {
                reads.Seen.TryAdd(SeenMessage.Key(topic, id), false);
            }
        }

        // Where Marten's inline projection looks for the saga it folds the appends onto, as FetchForWriting leaves it;
        // otherwise it would read it from the database at commit.
        var marten = (Marten.Internal.Sessions.QuerySession)session;
        marten.UseIdentityMapFor<UserSaga>();
        if (!marten.ItemMap.TryGetValue(typeof(UserSaga), out var map))
        {
            marten.ItemMap[typeof(UserSaga)] = map = new Dictionary<string, UserSaga>(StringComparer.Ordinal);
        }

        foreach (var saga in kept.Sagas)
        {
            reads.Sagas[saga.Saga.Id] = SagaStream.FromKept(session, saga);
            ((Dictionary<string, UserSaga>)map)[saga.Saga.Id] = saga.Saga;
        }

        reads.House = house.House;
        KeptReading.HouseUnchanged(session, house.Rows);
        foreach (var (seat, sagas) in kept.Seats)
        {
            reads.Involving[seat] = [.. sagas.Select(s => s.Saga)];
            KeptReading.SeatUnchanged(session, seat, sagas);
        }

        return true;
    }
}
