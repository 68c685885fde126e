using System.Globalization;
using Marten;
using NodaTime;
using Presence.Domain.Hosts;
using Presence.Domain.House;
using Presence.Domain.Migration;
using Presence.Domain.Users;
using Presence.Server.Hosting;

namespace Presence.Server.Dashboard;

/// <summary>What `GET /api/house` answers: the house as the dashboard draws it, from the projections alone.</summary>
public sealed record HouseView(
    string TimeZone,
    IReadOnlyList<HostView> Hosts,
    IReadOnlyList<UserView> Users,
    IReadOnlyList<MoveView> Moves,
    IReadOnlyList<ProposalView> Proposals);

/// <param name="Seated">Users the server believes sit at this host.</param>
/// <param name="Vms">VMs running here: users' VMs where their saga places them, then any other VM the agent reports running.</param>
public sealed record HostView(
    string Name,
    HostRole Role,
    bool CanRunVms,
    bool AgentOnline,
    bool InMaintenance,
    string? MaintenanceReason,
    int MemoryMb,
    int MemoryFreeMb,
    bool OnBattery,
    int? BatteryPercent,
    IReadOnlyList<string> Seated,
    IReadOnlyList<VmView> Vms);

/// <param name="ShownOn">The seat whose screen shows the VM (thin-client mode), when not the host itself.</param>
public sealed record VmView(string Name, string? Owner, string? ShownOn);

/// <param name="Automation">The level that holds now: set while Presence ran, or the house file's.</param>
/// <param name="AllowedHosts">Where the house file lets the user's VM run: the computers the dashboard offers to bring it to.</param>
/// <param name="TimelineVersion">Changes whenever the user's timeline gained a line; the page refetches it then.</param>
public sealed record UserView(
    string Name,
    string Vm,
    string? Seat,
    double SeatConfidence,
    string? VmHost,
    string? DisplayedOn,
    SessionMode Mode,
    bool Held,
    AutomationLevel Automation,
    IReadOnlyList<string> AllowedHosts,
    string? SuspendedFrom,
    string? ResumeOn,
    string? SettlingFor,
    string? SettlingUntil,
    LastDecision? LastDecision,
    long TimelineVersion);

/// <param name="Kind">migration, suspend or resume.</param>
/// <param name="Percent">Null until the source reports progress (and always for suspend and resume).</param>
public sealed record MoveView(string User, string Vm, string Id, string Kind, string? Source, string Target, string Phase, double? Percent);

public sealed record ProposalView(string User, string DecisionId, string Vm, string? From, string To, string Mode, string Rule, string Reason);

/// <summary>The projections a view of the house is drawn from, each by name (user or host).</summary>
/// <param name="TimelineHeads">Each user's newest timeline line's number (users without a line left out).</param>
/// <param name="Gained">The timeline lines written since a kept reader's last read, oldest first: none for its first
/// read or a one-off read.</param>
public sealed record HouseDocuments(
    IReadOnlyDictionary<string, UserSaga> Sagas,
    IReadOnlyDictionary<string, long> TimelineHeads,
    IReadOnlyDictionary<string, HostState> Hosts,
    IReadOnlyList<TimelineRow> Gained);

public static class HouseViews
{
    public static async Task<HouseView> LoadAsync(IQuerySession session, HousePolicy policy, CancellationToken ct)
    {
        var documents = await ReadAsync(session, policy, ct);
        return Build(policy, documents.Sagas, documents.TimelineHeads, documents.Hosts);
    }

    /// <summary>
    /// Every user's saga and newest timeline line's number, and every host's state the house names: one round trip.
    /// </summary>
    public static async Task<HouseDocuments> ReadAsync(IQuerySession session, HousePolicy policy, CancellationToken ct)
    {
        var names = policy.Users.Select(u => u.Name).ToArray();
        var batch = session.CreateBatchQuery();
        var sagas = batch.LoadMany<UserSaga>().ById(names);
        var heads = batch.AddItem(TimelineReads.Heads.Of(session, names));
        var hosts = batch.LoadMany<HostState>().ById(policy.Hosts.Select(h => HostState.StreamId(h.Name)).ToArray());
        await batch.Execute(ct);
        return new HouseDocuments((await sagas).ToDictionary(s => s.Id), await heads, (await hosts).ToDictionary(h => h.Name), []);
    }

    /// <summary>
    /// The same documents for a reader that reads them again and again (Home Assistant's publisher, up to ten times a
    /// second under a burst): one round trip that returns only the documents written since its last read, and the
    /// timeline lines. In a 500-seat office a whole read was 1,500 documents.
    /// </summary>
    public sealed class Kept
    {
        // The sagas by their stream's version and without their documents: most changed ones under a burst are what
        // this node just committed and keeps (KeptSagas), and reading each back was its 3.5 KB of JSON sent by
        // PostgreSQL and parsed here, for hundreds of sagas at each look. Only the others are read whole.
        private readonly KeptRows<UserSaga> sagas = new(RowVersion.Stream, withDocuments: false);
        private readonly KeptRows<HostState> hosts = new();

        // Each user's newest line as last read; null until the first read, which reads only these.
        private Dictionary<string, long>? heads;

        public async Task<HouseDocuments> ReadAsync(IQuerySession session, HousePolicy policy, CancellationToken ct)
        {
            var names = policy.Users.Select(u => u.Name).ToArray();
            string[] hostIds = [.. policy.Hosts.Select(h => HostState.StreamId(h.Name))];
            var gained = new List<TimelineRow>();
            while (true)
            {
                var batch = session.CreateBatchQuery();
                var sagaRows = batch.AddItem(sagas.Query(session, names));
                var hostRows = batch.AddItem(hosts.Query(session, hostIds));
                var known = heads;
                var first = known is null ? batch.AddItem(TimelineReads.Heads.Of(session, names)) : null;
                var lines = known is null ? null
                    : batch.AddItem(TimelineReads.Gained.Of(session, names.ToDictionary(n => n, n => known.GetValueOrDefault(n))));
                await batch.Execute(ct);

                heads = first is null ? known : new Dictionary<string, long>(await first, StringComparer.Ordinal);
                foreach (var line in lines is null ? [] : await lines)
                {
                    heads![line.UserName] = line.Id;
                    gained.Add(line);
                }

                // A kept document gone (or no longer asked for) is read again with the rest of its table; the lines
                // already read are kept.
                if (sagas.Take(await FilledAsync(session, await sagaRows, ct)) is { } s && hosts.Take(await hostRows) is { } h)
                {
                    return new HouseDocuments(s, new Dictionary<string, long>(heads!, StringComparer.Ordinal), h.Values.ToDictionary(x => x.Name), gained);
                }
            }
        }

        /// <summary>
        /// The changed sagas with their documents: the ones this node keeps at the version stored taken from there, the
        /// rest read whole (null, as from the read, when one of those is gone meanwhile).
        /// </summary>
        private async Task<IReadOnlyList<VersionedRow<UserSaga>>?> FilledAsync(
            IQuerySession session, IReadOnlyList<VersionedRow<UserSaga>>? changed, CancellationToken ct)
        {
            if (changed is not { Count: > 0 })
            {
                return changed;
            }

            var keptHere = Users.KeptSagas.TryOf(session.DocumentStore);
            var filled = new List<VersionedRow<UserSaga>>(changed.Count);
            List<string>? missing = null;
            foreach (var row in changed)
            {
                if (keptHere?.At(row.Id, long.Parse(row.Version, CultureInfo.InvariantCulture)) is { } saga)
                {
                    filled.Add(row with { Document = saga });
                }
                else
                {
                    (missing ??= []).Add(row.Id);
                }
            }

            if (missing is null)
            {
                return filled;
            }

            var batch = session.CreateBatchQuery();
            var whole = batch.AddItem(sagas.Whole(session, [.. missing]));
            await batch.Execute(ct);
            if (await whole is not { } read || read.Count != missing.Count)
            {
                return null;
            }

            filled.AddRange(read);
            return filled;
        }
    }

    public static HouseView Build(
        HousePolicy policy,
        IReadOnlyDictionary<string, UserSaga> sagas,
        IReadOnlyDictionary<string, long> timelineHeads,
        IReadOnlyDictionary<string, HostState> hosts)
    {
        var zone = DateTimeZoneProviders.Tzdb.GetZoneOrNull(policy.Settings.TimeZone) ?? DateTimeZone.Utc;
        Dictionary<string, string>? runningOn = null;
        var users = new List<(UserSpec Spec, UserSaga Saga, UserView View)>(policy.Users.Count);
        foreach (var u in policy.Users)
        {
            var saga = sagas.GetValueOrDefault(u.Name) ?? UserSaga.Start(u.Name, u.Vm);

            // Before the user's first decision the saga knows nothing of the VM; the agents' inventories do.
            var vmHost = saga.VmHost ?? (saga.Suspended is null ? (runningOn ??= RunningOn(hosts.Values)).GetValueOrDefault(saga.Vm ?? u.Vm) : null);
            users.Add((u, saga, new UserView(
                u.Name,
                saga.Vm ?? u.Vm,
                saga.Seat,
                saga.SeatConfidence,
                vmHost,
                saga.DisplayedOn,
                saga.Mode,
                saga.Held,
                UserDecider.AutomationOf(saga, u),
                u.AllowedHosts,
                saga.Suspended?.From,
                saga.Suspended?.ResumeOn,
                saga.Settling?.Seat,
                saga.Settling is { } s ? s.DueAt.InZone(zone).ToString("HH:mm:ss", CultureInfo.InvariantCulture) : null,
                saga.LastDecision,
                timelineHeads.GetValueOrDefault(u.Name))));
        }

        // Each host's VMs and seated users, in the users' order, gathered in one pass: asked of every user for every
        // host, a 500-seat office's view took 250,000 comparisons twice, up to ten times a second (Home Assistant).
        var claimed = new HashSet<string>(StringComparer.Ordinal);
        var vmsOn = new Dictionary<string, List<VmView>>(StringComparer.Ordinal);
        var seatedAt = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var (spec, _, view) in users)
        {
            claimed.Add(view.Vm);
            if (view.VmHost is { } vmHost)
            {
                At(vmsOn, vmHost).Add(new VmView(view.Vm, spec.Name, view.DisplayedOn is { } seat && seat != vmHost ? seat : null));
            }

            if (view.Seat is { } seated)
            {
                At(seatedAt, seated).Add(spec.Name);
            }
        }

        var hostViews = new List<HostView>(policy.Hosts.Count);
        foreach (var spec in policy.Hosts)
        {
            var state = hosts.GetValueOrDefault(spec.Name);
            var vms = vmsOn.GetValueOrDefault(spec.Name) ?? [];
            foreach (var vm in state?.Vms ?? [])
            {
                if (vm.State == VmRunState.Running && !claimed.Contains(vm.Name))
                {
                    vms.Add(new VmView(vm.Name, null, null));
                }
            }

            hostViews.Add(new HostView(
                spec.Name,
                spec.Role,
                spec.CanRunVms,
                state?.AgentOnline ?? false,
                state?.InMaintenance ?? false,
                state?.MaintenanceReason,
                state?.MemoryMb ?? 0,
                state?.MemoryFreeMb ?? 0,
                state?.OnBattery ?? false,
                state?.BatteryPercent,
                seatedAt.GetValueOrDefault(spec.Name) ?? [],
                vms));
        }

        var moves = users.Select(u => Move(u.Saga, u.View.Vm)).OfType<MoveView>().ToList();
        var proposals = users.Where(u => u.Saga.Proposal is not null).Select(u => u.Saga.Proposal!)
            .Select(p => new ProposalView(p.User, p.DecisionId, p.Vm, p.From, p.To, System.Text.Json.JsonNamingPolicy.SnakeCaseLower.ConvertName(p.Mode.ToString()), p.Rule, p.Reason))
            .ToList();
        return new HouseView(zone.Id, hostViews, users.Select(u => u.View).ToList(), moves, proposals);

        static List<T> At<T>(Dictionary<string, List<T>> lists, string key) =>
            lists.TryGetValue(key, out var list) ? list : lists[key] = [];
    }

    private static MoveView? Move(UserSaga saga, string vm) => (saga.Migration, saga.Operation) switch
    {
        ({ } m, _) => new MoveView(saga.Id, m.Vm, m.Id, "migration", m.Source, m.Target, m.Phase, m.Percent),
        (_, { Kind: PendingOperation.Suspend } o) => new MoveView(saga.Id, vm, o.Id, "suspend", o.Host, o.ResumeOn ?? "shared storage", Phases.Suspending, null),
        (_, { } o) => new MoveView(saga.Id, vm, o.Id, "resume", saga.Suspended?.From, o.Host, Phases.Resuming, null),
        _ => null,
    };

    /// <summary>Each running VM by name, with the first host (in the order given) that reports it running.</summary>
    private static Dictionary<string, string> RunningOn(IEnumerable<HostState> hosts)
    {
        var running = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var host in hosts)
        {
            foreach (var vm in host.Vms)
            {
                if (vm.State == VmRunState.Running)
                {
                    running.TryAdd(vm.Name, host.Name);
                }
            }
        }

        return running;
    }
}
