using Marten;
using Presence.Domain.House;
using Presence.Server.Hosting;

namespace Presence.Server.Users;

/// <summary>
/// Everything a handler's decisions read, in one round trip before any of them is decided: whether the inputs' ids
/// were seen, the users' sagas, the house, and for someone sitting down at a console the sagas that screen concerns.
/// The session keeps what came back (SessionReads), so the reads that follow find it there. The timelines are not
/// read: their lines are rows written blind (Dashboard/TimelineProjection).
/// Read one after the other they were five round trips before a console login was decided (issue 11 §6), and four
/// before an agent's answer that ends a move was.
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
        var reads = session.CreateBatchQuery();
        List<Task> read =
        [
            SeenMessage.LookUpAsync(reads, session, Seen),
            SagaStreams.FetchAsync(reads, session, Users.Where(u => policy.User(u) is not null)),
            HouseReads.ReadAsync(reads, session, policy),
        ];
        foreach (var seat in (Seats ?? []).Distinct())
        {
            read.Add(SagaIndex.InvolvingAsync(reads, session, seat));
        }

        await reads.Execute(ct);
        await Task.WhenAll(read);
    }
}
