using JasperFx.Events.Projections;
using Marten;
using Wolverine;

namespace Presence.Server.Users;

/// <summary>The users' sagas: their stream's projection and the scheduled waits and timeouts that drive them.</summary>
public static class Configuration
{
    /// <summary>The local queue the on-time copies of waits and timeouts run on (see <see cref="ConfigureUsers(WolverineOptions)"/>).</summary>
    public const string OnTimeQueue = "waits";

    public static StoreOptions ConfigureUsers(this StoreOptions opts)
    {
        opts.Projections.Add<UserSagaProjection>(ProjectionLifecycle.Inline);
        return opts;
    }

    // Waits that are on time (issue 11 §4). Checked in Wolverine 6.62 (XML docs of WolverineFx, RDBMS, Postgresql)
    // and measured with the drill Drills/waits_on_time (real server, real PostgreSQL, 2-core box):
    // - A scheduled message to a DURABLE local queue is a row in wolverine_incoming_envelopes (status Scheduled,
    //   written in the handler's transaction). Nothing fires it but a poller: every ScheduledJobPollingTime
    //   (default 5 s; first run after ScheduledJobFirstExecution, default random 0.5-5 s) one transaction takes an
    //   advisory lock and moves due rows (up to RecoveryBatchSize, 100) to a local queue. The same period also runs
    //   the recoverable inbox/outbox checks (DurabilitySettings.OrphanedMessageSweepPollingTime's doc: only the
    //   orphan sweep left that timer). So a wait fires up to one period late; at 1 s: 0.7-1.2 s late.
    // - Polling fast (option A) was measured at 25 ms: idle commits/s 20 -> 139, server CPU 5 % -> 41 % of a core,
    //   and still p95 0.4-1.5 s late under load on this box. Not taken.
    // - A scheduled message to a BUFFERED local queue goes to Wolverine's in-memory scheduler (one Task.Delay per
    //   envelope) instead: on time to the millisecond, no row, no poll, but gone if the process dies.
    //   (AlwaysMakeScheduledMessagesDurable, off by default, would send those to the inbox too: keep it off.)
    // Chosen (option C): every wait goes to both. The buffered copy fires on time; the durable copy is the backstop
    // for a restart or a crashed node (any node's poller picks it up) and arrives up to a poll later, when the saga
    // already dropped that wait, so it decides nothing and leaves no event. Cost: one no-op handler run per wait, and
    // the 1 s poll as before (about 3 commits/s of the idle figure). ScheduledJobFirstExecution 0: waits that fell due
    // while the server was down fire as it starts, not 0.5-5 s later. A display timeout guards nothing that can hang
    // (Phases.CanHang), so it gets the on-time copy only: no durable row for a no-op.
    public static WolverineOptions ConfigureUsers(this WolverineOptions opts)
    {
        opts.Durability.ScheduledJobPollingTime = TimeSpan.FromSeconds(1);
        opts.Durability.ScheduledJobFirstExecution = TimeSpan.Zero;
        opts.LocalQueue(OnTimeQueue).BufferedInMemory();
        return opts;
    }
}
