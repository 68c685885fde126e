using JasperFx.Events.Projections;
using Marten;
using Wolverine;

namespace Presence.Server.Users;

/// <summary>
/// The users' sagas: their stream's projection, the house prints their documents refer to, and the scheduled waits
/// and timeouts that drive them.
/// </summary>
public static class Configuration
{
    /// <summary>The local queue the on-time copies of waits and timeouts run on (see <see cref="ConfigureUsers(WolverineOptions)"/>).</summary>
    public const string OnTimeQueue = "waits";

    /// <summary>
    /// How long after the on-time copy of a wait its durable backstop is due: one poll, so the two do not meet in
    /// the same stream (one would fail on the stream's version and run again 50 ms or more later).
    /// </summary>
    public static readonly TimeSpan BackstopAfter = TimeSpan.FromSeconds(1);

    /// <summary>The hourly clean-up of the house prints no saga refers to (<see cref="HousePrintsCleanup"/>).</summary>
    public static IServiceCollection AddUsers(this IServiceCollection services) => services.AddHostedService<HousePrintsCleanup>();

    public static StoreOptions ConfigureUsers(this StoreOptions opts)
    {
        opts.Projections.Add<UserSagaProjection>(ProjectionLifecycle.Inline);
        opts.IndexSagasByHost();
        HousePrintsStore.KeepPrintsById(opts);
        KeptSagas.Keep(opts);
        HouseReads.NoticeHostChanges(opts);
        return opts;
    }

    // Waits that are on time (issue 11 §4). Checked in Wolverine 6.62 (its XML docs; the defaults and the queue modes
    // below are asserted against the running server by EndToEnd/waits_on_time.the_server_schedules_waits_as_its_notes_say)
    // and measured on a shared 2-core box (real server, real PostgreSQL; EndToEnd/waits_on_time, Drills/idle_cost_of_waiting):
    // - A scheduled message to a DURABLE local queue is a row in wolverine_incoming_envelopes (status Scheduled,
    //   written in the handler's transaction). Nothing fires it but a poller: every ScheduledJobPollingTime
    //   (default 5 s; first run after ScheduledJobFirstExecution, default random 0.5-5 s) one transaction takes an
    //   advisory lock and moves due rows (up to RecoveryBatchSize, 100) to a local queue. The same period also runs
    //   the recoverable inbox/outbox checks (DurabilitySettings.OrphanedMessageSweepPollingTime's doc: only the
    //   orphan sweep left that timer). So a wait fires up to one period late; at 1 s: p50 0.8-0.9 s, p95 1.0-1.2 s.
    // - Polling fast (option A), measured at 25 ms: idle commits/s 1.4-2.2 -> 38 (about one per poll; 7-8 -> 112-121
    //   when every return to the pool ran DISCARD ALL, itself a transaction), its PostgreSQL backends' CPU 0.6-1.2 % ->
    //   5-7 % of a core (the server's own CPU too noisy on the shared box), and still p50 31-34 ms, p95 0.4-1.5 s late
    //   on the loaded box. Not taken.
    // - A scheduled message to a BUFFERED local queue goes to Wolverine's in-memory scheduler (one Task.Delay per
    //   envelope) instead: measured p50 5-11 ms late (the handler's own work included), no row, no poll, but gone if
    //   the process dies.
    //   (AlwaysMakeScheduledMessagesDurable, off by default, would send those to the inbox too: keep it off.)
    // Chosen (option C): every wait goes to both. The buffered copy fires on time; the durable copy is the backstop
    // for a restart or a crashed node (any node's poller picks it up), due BackstopAfter (1 s) later, when the saga
    // already dropped that wait, so it decides nothing and leaves no event (were both to meet, the stream's optimistic
    // concurrency fails one and RetryStoreTrouble runs it again, as a no-op). So a wait not yet due at a restart fires
    // 1-2 s late, one that fell due while the server was down as it starts. Cost: one no-op handler run per wait, and
    // the 1 s poll as before (about one commit/s of the idle figure). ScheduledJobFirstExecution 0: waits that fell due
    // while the server was down fire as it starts, not 0.5-5 s later. A display timeout guards nothing that can hang
    // (Phases.CanHang), so it gets the on-time copy only: no durable row for a no-op. Lost in a crash, the saga keeps
    // that pending display until the next attach replaces it or its host goes offline; nothing waits on it meanwhile.
    public static WolverineOptions ConfigureUsers(this WolverineOptions opts)
    {
        opts.Durability.ScheduledJobPollingTime = TimeSpan.FromSeconds(1);
        opts.Durability.ScheduledJobFirstExecution = TimeSpan.Zero;
        opts.LocalQueue(OnTimeQueue).BufferedInMemory();
        return opts;
    }
}
