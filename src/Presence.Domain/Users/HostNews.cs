using Presence.Domain.House;
using Presence.Domain.Seating;
using Presence.Domain.Signals;

namespace Presence.Domain.Users;

/// <summary>
/// Who news about one computer concerns: a change of its agent or its maintenance, or a signal about the computer
/// itself (lid, Wi-Fi, power). Each concerned user's saga then decides whether it matters; these only choose whom to
/// ask, so asking one user too many costs a decision that does nothing, and one too few loses a move.
/// </summary>
public static class HostNews
{
    /// <summary>
    /// The hosts the saga has anything on: where the VM runs or the user sits, where the VM was evacuated from or
    /// waits frozen to wake, what a move, a suspend/resume or a display attach in flight involves, and what shows the
    /// VM. Every rule below asks about one of these hosts, so a store may pre-select sagas by it (the saga document
    /// keeps it as <see cref="UserSaga.Involves"/>, indexed); the rules still decide.
    /// </summary>
    public static IReadOnlyList<string> HostsInvolved(UserSaga saga)
    {
        string?[] hosts =
        [
            saga.VmHost, saga.Seat, saga.EvacuatedFrom, saga.Suspended?.ResumeOn, saga.Migration?.Source,
            saga.Migration?.Target, saga.Operation?.Host, saga.PendingDisplay?.Host, saga.ShownOn,
        ];
        return [.. hosts.OfType<string>().Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)];
    }

    /// <summary>True when the saga has anything on <paramref name="host"/> (<see cref="HostsInvolved"/>).</summary>
    public static bool IsConcernedBy(this UserSaga saga, string host) => HostsInvolved(saga).Contains(host);

    /// <summary>
    /// The users whose sagas <see cref="Concerns"/> must see for news about <paramref name="host"/>, beyond those
    /// involved with it: those whose VM the house shows running there (a user with no saga is concerned by that).
    /// </summary>
    public static IReadOnlyList<string> RunningOn(string host, HousePolicy policy, HouseSnapshot house) =>
        [.. policy.Users.Where(u => house.Host(host).Runs(u.Vm)).Select(u => u.Name)];

    /// <summary>
    /// True when the seat <paramref name="host"/> shows the VM from where it ran before it moved there: once the host's
    /// inventory reports the VM with a display address of its own, the seat switches to it (show first, then move).
    /// </summary>
    public static bool AwaitsLocalDisplayOn(this UserSaga saga, string host) =>
        !saga.Busy && saga.ShownOn == host && saga.VmHost == host && saga.ShownFrom is { } from && from != host;

    /// <summary>True when the saga waits for an answer from <paramref name="host"/>'s agent to a command it sent.</summary>
    public static bool WaitsOnAgentOf(this UserSaga saga, string host) =>
        saga.Migration?.Sent?.Host == host || saga.Operation?.Host == host;

    /// <summary>
    /// The house's users, in the house file's order, whom news about <paramref name="host"/> concerns. A user with
    /// no saga yet has only the agents' word: the news concerns them when <paramref name="house"/> shows their VM
    /// running on that host.
    /// </summary>
    public static IReadOnlyList<string> Concerns(string host, HousePolicy policy, IEnumerable<UserSaga> sagas, HouseSnapshot house)
    {
        var byUser = sagas.ToDictionary(s => s.Id);
        return policy.Users
            .Where(u => byUser.TryGetValue(u.Name, out var saga) ? saga.IsConcernedBy(host) : house.Host(host).Runs(u.Vm))
            .Select(u => u.Name)
            .ToList();
    }

    /// <summary>The house's users, in the house file's order, whose seat <paramref name="host"/> is to switch to their landed VM.</summary>
    public static IReadOnlyList<string> AwaitingLocalDisplay(string host, HousePolicy policy, IEnumerable<UserSaga> sagas)
    {
        var byUser = sagas.ToDictionary(s => s.Id);
        return policy.Users
            .Where(u => byUser.TryGetValue(u.Name, out var saga) && saga.AwaitsLocalDisplayOn(host))
            .Select(u => u.Name)
            .ToList();
    }

    /// <summary>
    /// The house's users, in the house file's order, waiting on <paramref name="host"/>'s agent: what an agent that
    /// announces itself again (and may have missed a command) concerns.
    /// </summary>
    public static IReadOnlyList<string> WaitingOn(string host, HousePolicy policy, IEnumerable<UserSaga> sagas)
    {
        var byUser = sagas.ToDictionary(s => s.Id);
        return policy.Users
            .Where(u => byUser.TryGetValue(u.Name, out var saga) && saga.WaitsOnAgentOf(host))
            .Select(u => u.Name)
            .ToList();
    }

    /// <summary>
    /// The host whose other users' sagas <see cref="SeatNews"/> must see: the console a person sits down at (the
    /// others there are among the sagas involved with it). Null when the evidence concerns only its person.
    /// </summary>
    public static string? SeatSharedBy(Evidence evidence) =>
        evidence.User is not null && SeatInference.SitsDown(evidence) ? evidence.Host : null;

    /// <summary>
    /// The users one person's evidence concerns, in the order they must be decided. Sitting down at a computer's
    /// console concerns, first, everyone else whose desktop that screen shows or may show, or who sits there: they
    /// lose the screen, and their desktop comes off it before the person's goes on (the commands leave in this order).
    /// Any other evidence concerns only the person it names; evidence about no person, nobody here.
    /// </summary>
    public static IReadOnlyList<string> SeatNews(Evidence evidence, HousePolicy policy, IEnumerable<UserSaga> sagas)
    {
        if (evidence.User is not { } person)
        {
            return [];
        }

        if (SeatSharedBy(evidence) is null)
        {
            return [person];
        }

        var byUser = sagas.ToDictionary(s => s.Id);
        var host = evidence.Host;
        return
        [
            .. policy.Users
                .Where(u => u.Name != person && byUser.TryGetValue(u.Name, out var saga) && (saga.ShownOn == host || saga.Seat == host))
                .Select(u => u.Name),
            person,
        ];
    }
}
