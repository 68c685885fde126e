using Marten;
using NodaTime;
using Presence.Domain.Audit;
using Presence.Domain.House;
using Presence.Domain.Users;

namespace Presence.Server.Audit;

/// <summary>
/// The questions `presence explain|history|state` and the /api audit endpoints ask, answered from the event store
/// by the pure <see cref="UserHistory"/>. Bad questions throw <see cref="AuditException"/> naming what was wrong.
/// </summary>
public static class AuditQueries
{
    public static async Task<Explanation> ExplainAsync(IQuerySession session, HousePolicy policy, string id, string? user, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(id))
        {
            throw new AuditException(AuditProblem.UnknownId, "no id given: name a decision (d-…), migration (m-…) or operation (o-…)");
        }

        if (user is not null)
        {
            return (await LoadAsync(session, policy, user, ct)).Explain(id);
        }

        // A house has a handful of users: reading each stream is cheaper than keeping an index of ids.
        var users = await UsersAsync(session, policy, ct);
        foreach (var name in users)
        {
            var history = await LoadAsync(session, policy, name, ct);
            if (history.Knows(id))
            {
                return history.Explain(id);
            }
        }

        throw new AuditException(AuditProblem.UnknownId,
            $"'{id}' is not a decision, migration, operation or signal id in the history of any user ({string.Join(", ", users)}); " +
            "`presence history <user>` lists them");
    }

    public static async Task<HistoryWindow> HistoryAsync(IQuerySession session, HousePolicy policy, string user, string? since, string? until, CancellationToken ct)
    {
        var zone = Zone(policy);
        var from = Instants.ParseOptional(since, zone, "since");
        var to = Instants.ParseOptional(until, zone, "until");
        return (await LoadAsync(session, policy, user, ct)).Window(from, to);
    }

    public static async Task<StateAtInstant> StateAsync(IQuerySession session, HousePolicy policy, string user, string? at, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(at))
        {
            throw new AuditException(AuditProblem.BadInstant, $"at is required: the instant to look at, {Instants.Accepted}");
        }

        var instant = Instants.Parse(at, Zone(policy), "at");
        return (await LoadAsync(session, policy, user, ct)).StateAt(instant);
    }

    public static DateTimeZone Zone(HousePolicy policy) => Instants.Zone(policy.Settings.TimeZone);

    private static async Task<UserHistory> LoadAsync(IQuerySession session, HousePolicy policy, string user, CancellationToken ct)
    {
        // Host streams live beside user streams: only a user of the house, or one who was (a saga remains), counts.
        if (policy.User(user) is null && await session.LoadAsync<UserSaga>(user, ct) is null)
        {
            throw new AuditException(AuditProblem.UnknownUser,
                $"no user '{user}' in the house or its history; the users are {string.Join(", ", await UsersAsync(session, policy, ct))}");
        }

        var events = await StoredHistory.LoadAsync(session, user, ct);
        return new UserHistory(user, events, Zone(policy), policy.User(user)?.Vm);
    }

    private static async Task<IReadOnlyList<string>> UsersAsync(IQuerySession session, HousePolicy policy, CancellationToken ct)
    {
        var sagas = await session.Query<UserSaga>().Select(s => s.Id).ToListAsync(ct);
        return policy.Users.Select(u => u.Name).Concat(sagas).Distinct().ToList();
    }
}
