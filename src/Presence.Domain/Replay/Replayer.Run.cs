using NodaTime;
using Presence.Domain.Audit;
using Presence.Domain.House;
using Presence.Domain.Migration;
using Presence.Domain.Placement;
using Presence.Domain.Signals;
using Presence.Domain.Users;
using Presence.Domain.Words;

namespace Presence.Domain.Replay;

public static partial class Replayer
{
    /// <summary>A replay in progress: the replayed stream, the recorded one beside it, and what is due when.</summary>
    private sealed class Run
    {
        private readonly string user;
        private readonly HousePolicy policy;

        /// <summary>The recorded events in an array: folded one by one, and an indexer through the interface cost each its call.</summary>
        private readonly IDomainEvent[] recorded;
        private readonly List<Due> agenda = [];
        private readonly HashSet<string> sentByReplay = [];
        private readonly HashSet<string> sentByRecording = [];
        private readonly HashSet<string> planned = [];
        private readonly HashSet<string> scheduled = [];
        private readonly HashSet<string> simulated = [];

        /// <summary>Commands whose recorded answers went by before the replay had sent them (it decided later).</summary>
        private readonly HashSet<string> passed = [];

        /// <summary>The first recorded run-out of each wait and timeout: looked up each time the replay plans one.</summary>
        private readonly Dictionary<string, SettlingWaitRanOut> waitsRanOut = [];
        private readonly Dictionary<(string MoveId, string Phase), PhaseTimeoutRanOut> timeoutsRanOut = [];
        private UserSaga? state;
        private UserSaga? original;
        private PendingSettle? lastSettling;
        private PendingTimeout? lastTimeout;
        private int originalUpTo;
        private HouseSnapshot house = HouseSnapshot.Empty;
        private Duration lastEstimate = DefaultMove;
        private long order;

        public Run(string user, HousePolicy policy, IReadOnlyList<Recorded> history, int start)
        {
            this.user = user;
            this.policy = policy;

            // Sized for what a replay of the whole history holds (about as many events as recorded, a step for every two
            // of them), so neither list is regrown and copied as it fills: a year is thousands of replays.
            Steps = new List<ReplayStep>(history.Count / 2);
            Events = new List<IDomainEvent>(history.Count);
            recorded = new IDomainEvent[history.Count];
            for (var i = 0; i < history.Count; i++)
            {
                var r = history[i];
                recorded[i] = r.Data;
                foreach (var command in AgentCommands.For(r.Data))
                {
                    sentByRecording.Add(command.CommandId);
                    if (i < start)
                    {
                        // The replay starts where the recording stood before the window, with the same commands out.
                        sentByReplay.Add(command.CommandId);
                    }
                }

                switch (r.Data)
                {
                    case SettlingWaitRanOut w: waitsRanOut.TryAdd(w.SettleId, w); break;
                    case PhaseTimeoutRanOut t: timeoutsRanOut.TryAdd((t.MoveId, t.Phase), t); break;
                }
            }

            // And with the same saga (every event of it folded, where FoldOriginal later folds only what moves the VM)
            // and the same house.
            for (; originalUpTo < start; originalUpTo++)
            {
                Fold(recorded[originalUpTo]);
                house = HouseChanged.Fold(house, recorded[originalUpTo]);
            }

            state = original;
            Plan(Instant.MinValue);
        }

        public List<ReplayStep> Steps { get; }

        /// <summary>The events of the window, as the replay decided them.</summary>
        public List<IDomainEvent> Events { get; }

        public void Feed(Call call)
        {
            // The recorded side as it stood when this input came, to tell whether the replay has the VM elsewhere.
            FoldOriginal(call.FirstEvent - 1);
            var before = house;
            house = call.House;
            var recorded = Decisions(call.Events);
            UserInput? input = call.Input switch
            {
                SignalRecorded s => new ObserveEvidence { User = user, Evidence = s.Evidence, House = House(), Seed = s.Seed ?? Derived(s.Evidence.Id) },
                AgentReported a when sentByReplay.Contains(a.Report.CommandId) =>
                    new ObserveAgentReport { User = user, Report = a.Report, House = House(), Seed = a.Seed },
                SettlingWaitRanOut w when !OnAgenda("settle/" + w.SettleId) && scheduled.Remove("settle/" + w.SettleId) =>
                    new Settle { User = user, SettleId = w.SettleId, House = House(), Seed = w.Seed },
                PhaseTimeoutRanOut t when !OnAgenda("timeout/" + t.MoveId + "/" + t.Phase) && scheduled.Remove("timeout/" + t.MoveId + "/" + t.Phase) =>
                    new CheckTimeout { User = user, MoveId = t.MoveId, Phase = t.Phase, House = House(), Seed = t.Seed },
                HostChangeNoticed h => new ObserveHostChange { User = user, Host = h.Host, House = House(), Seed = h.Seed },
                HouseObserved h when Changed(before, h.Hosts) is { } host =>
                    new ObserveHostChange { User = user, Host = host, House = House(), Seed = Derived(host + "@" + h.At) },
                HouseChanged h when Changed(before, h.Hosts) is { } host =>
                    new ObserveHostChange { User = user, Host = host, House = House(), Seed = Derived(host + "@" + h.At) },
                _ => null,
            };
            FoldOriginal(call.LastEvent);

            if (input is null && call.Input is AgentReported unanswered)
            {
                passed.Add(unanswered.Report.CommandId);
            }

            if (input is null)
            {
                // An answer to a command the replay never sent, or a wait it never started: it does not happen.
                var note = KeyOf(call.Input) is { } key && OnAgenda(key) ? "runs later in the replay" : "does not happen in the replay";
                Steps.Add(new ReplayStep(call.Now, call.Input, recorded, [], note));
                return;
            }

            Steps.Add(new ReplayStep(call.Now, call.Input, recorded, Decisions(Decide(input, call.Now)), null));
        }

        /// <summary>Runs what the replay scheduled (waits, timeouts, assumed answers) up to <paramref name="until"/>.</summary>
        public void FireDue(Instant until, bool inclusive)
        {
            for (var guard = 0; guard < 10_000; guard++)
            {
                var at = Earliest();
                if (at < 0 || agenda[at].At > until || (!inclusive && agenda[at].At == until))
                {
                    return;
                }

                // By its place: removing the record by value compared it with every entry before it, field by field.
                var next = agenda[at];
                agenda.RemoveAt(at);
                if (next.Key is { } key)
                {
                    scheduled.Remove(key);
                }

                var input = next.Input(House());
                Steps.Add(new ReplayStep(next.At, next.Text, [], Decisions(Decide(input, next.At)), next.Note));
            }

            throw new InvalidOperationException("the replay keeps scheduling itself: stopped after 10000 steps");
        }

        private IReadOnlyList<IDomainEvent> Decide(UserInput input, Instant now)
        {
            var (decided, after) = UserDecider.DecideAndFold(state, input, now, policy);
            IReadOnlyList<IDomainEvent> events = decided; // the decider's own list, no copy
            state = after;
            for (var i = 0; i < events.Count; i++)
            {
                var e = events[i];
                Events.Add(e);
                foreach (var command in AgentCommands.For(e))
                {
                    sentByReplay.Add(command.CommandId);
                }

                if (e is PlacementDecided d)
                {
                    lastEstimate = d.EstimatedDuration > Duration.Zero ? d.EstimatedDuration : DefaultMove;
                }
            }

            Plan(now);
            return events;
        }

        /// <summary>
        /// Puts on the agenda what the replayed saga now waits for: its settling wait and phase timeout (at their
        /// recorded moment when the recording has the same one, else when due), and an assumed answer to a command
        /// the recording never sent.
        /// </summary>
        private void Plan(Instant now)
        {
            if (state is null)
            {
                return;
            }

            // A wait or timeout the recording also ran is fed at its recorded moment, unless the replay waits longer
            // (other settings): then it runs when the replay's own wait is over, with the recorded seed.
            // The saga keeps the same wait (the same instance) through many decisions: its key is made only once.
            if (state.Settling is { } settling && !ReferenceEquals(settling, lastSettling))
            {
                lastSettling = settling;
                if (Once("settle/" + settling.SettleId))
                {
                    PlanSettle(settling);
                }
            }

            if (state.Timeout is { } timeout && !ReferenceEquals(timeout, lastTimeout))
            {
                lastTimeout = timeout;
                if (Once("timeout/" + timeout.MoveId + "/" + timeout.Phase))
                {
                    PlanTimeout(timeout);
                }
            }

            // Each answer is built only when it is to be assumed: Plan runs after every decision (issue 11 §7).
            var vm = state.Vm ?? "";
            if (state.PendingDisplay is { } display)
            {
                if (Assumes(display.CommandId))
                {
                    Assume(display.CommandId, now + QuickStep, new AgentReport(display.Host, display.CommandId, vm, ReportState.Completed, now + QuickStep));
                }
            }
            else if (state.Migration is { Phase: Phases.Preparing } preparing)
            {
                if (Assumes(preparing.PrepareCommandId))
                {
                    Assume(preparing.PrepareCommandId, now + QuickStep, new AgentReport(preparing.Target, preparing.PrepareCommandId, vm, ReportState.Ready, now + QuickStep)
                    {
                        IncomingUri = $"tcp:{preparing.Target}:49152",
                    });
                }
            }
            else if (state.Migration is { MigrateCommandId: { } migrate } migrating)
            {
                if (Assumes(migrate))
                {
                    var done = now + lastEstimate;
                    Assume(migrate, done, new AgentReport(migrating.Source, migrate, vm, ReportState.Completed, done)
                    {
                        TotalTimeMs = (long)lastEstimate.TotalMilliseconds,
                    });
                }
            }
            else if (state.Operation is { } operation && Assumes(operation.CommandId))
            {
                var done = now + lastEstimate;
                Assume(operation.CommandId, done, new AgentReport(operation.Host, operation.CommandId, vm, ReportState.Completed, done));
            }
        }

        private void PlanSettle(PendingSettle settling)
        {
            var ran = waitsRanOut.GetValueOrDefault(settling.SettleId);
            if (ran is null || ran.At < settling.DueAt)
            {
                Schedule(settling.DueAt, "settle/" + settling.SettleId, $"wait {settling.SettleId} runs out", Later(ran),
                    h => new Settle { User = user, SettleId = settling.SettleId, House = h, Seed = ran?.Seed ?? Derived(settling.SettleId) });
            }
        }

        private void PlanTimeout(PendingTimeout timeout)
        {
            var ran = timeoutsRanOut.GetValueOrDefault((timeout.MoveId, timeout.Phase));
            if (ran is null || ran.At < timeout.DueAt)
            {
                Schedule(timeout.DueAt, "timeout/" + timeout.MoveId + "/" + timeout.Phase, $"{timeout.Phase} timeout of {timeout.MoveId} runs out", Later(ran),
                    h => new CheckTimeout { User = user, MoveId = timeout.MoveId, Phase = timeout.Phase, House = h, Seed = ran?.Seed ?? Derived(timeout.MoveId + "/" + timeout.Phase) });
            }
        }

        /// <summary>Where on the agenda what is due first stands (-1: nothing); of two due at once, the one scheduled first.</summary>
        private int Earliest()
        {
            var first = -1;
            for (var i = 0; i < agenda.Count; i++)
            {
                var due = agenda[i];
                if (first < 0 || due.At < agenda[first].At || (due.At == agenda[first].At && due.Order < agenda[first].Order))
                {
                    first = i;
                }
            }

            return first;
        }

        private bool OnAgenda(string key)
        {
            foreach (var due in agenda)
            {
                if (due.Key == key)
                {
                    return true;
                }
            }

            return false;
        }

        /// <summary>Marks a wait or timeout as scheduled, once: one that did nothing when it ran must not come back.</summary>
        private bool Once(string key)
        {
            if (!planned.Add(key))
            {
                return false;
            }

            scheduled.Add(key);
            return true;
        }

        /// <summary>Whether an answer to this command is to be assumed now; once per command.</summary>
        private bool Assumes(string commandId) =>
            // The recording's own answer comes later in it, unless it came before the replay sent the command.
            !(sentByRecording.Contains(commandId) && !passed.Contains(commandId)) && simulated.Add(commandId);

        private void Assume(string commandId, Instant at, AgentReport report) =>
            Schedule(at, null, EventText.Report(report), passed.Contains(commandId) ? "assumed: the recording's answer came before the replay sent this command" : "assumed: the recording never sent this command",
                h => new ObserveAgentReport { User = user, Report = report, House = h, Seed = Derived(commandId + "/" + report.State) });

        private void Schedule(Instant at, string? key, string text, string? note, Func<HouseSnapshot, UserInput> input) =>
            agenda.Add(new Due(at, order++, key, text, note, input));

        private static string? Later(IDomainEvent? ran) => ran is null ? null : "later than recorded: the replay waits longer";

        /// <summary>
        /// Folds the recording up to <paramref name="through"/>, only as far as where it had the VM (all that
        /// <see cref="House"/> reads of it): the other events' copies of the saga were a sixth of the time deciding a
        /// year again (issue 11 §7).
        /// </summary>
        private void FoldOriginal(int through)
        {
            for (; originalUpTo <= through; originalUpTo++)
            {
                if (UserDecider.MayMoveTheVm(recorded[originalUpTo]))
                {
                    Fold(recorded[originalUpTo]);
                }
            }
        }

        /// <summary>The host whose facts differ in the newly observed house: the one whose change the saga heard of.</summary>
        private static string? Changed(HouseSnapshot before, IReadOnlyList<HostFacts> now)
        {
            for (var i = 0; i < now.Count; i++)
            {
                if (!before.Host(now[i].Name).SameAs(now[i]))
                {
                    return now[i].Name;
                }
            }

            return null;
        }

        private void Fold(IDomainEvent e) => original = UserDecider.Evolve(original ?? UserSaga.Start(user, null), e);

        /// <summary>
        /// The recorded house, except that where the replay has taken this user's VM somewhere else than the recording
        /// did, the agents' inventories say so: the replay must not be told the VM is where it no longer is.
        /// </summary>
        private HouseSnapshot House()
        {
            return state is null || original is null || (state.VmHost == original.VmHost && (state.Suspended is null) == (original.Suspended is null))
                ? house
                : Elsewhere(state);
        }

        /// <summary>The recorded house with this user's VM where the replay has it (a method of its own: its lambdas'
        /// closure is allocated on entry, and <see cref="House"/> runs at every step).</summary>
        private HouseSnapshot Elsewhere(UserSaga state)
        {
            var vm = state.Vm ?? "";
            var memory = policy.Vm(vm)?.MemoryMb ?? 0;
            var runsOn = state.Suspended is null ? state.VmHost : null;
            return new HouseSnapshot(house.Hosts.Select(h =>
            {
                var had = h.Vms.Any(v => v.Name == vm);
                var vms = h.Vms.Where(v => v.Name != vm).ToList();
                var free = h.MemoryFreeMb + (had ? memory : 0);
                if (h.Name == runsOn)
                {
                    vms.Add(new VmFact(vm, VmRunState.Running, memory, h.Vms.FirstOrDefault(v => v.Name == vm)?.DisplayUri));
                    free -= memory;
                }

                return h with { Vms = vms, MemoryFreeMb = Math.Max(0, free) };
            }).ToList());
        }

        private static string? KeyOf(IDomainEvent input) => input switch
        {
            SettlingWaitRanOut w => "settle/" + w.SettleId,
            PhaseTimeoutRanOut t => "timeout/" + t.MoveId + "/" + t.Phase,
            _ => null,
        };

        private sealed record Due(Instant At, long Order, string? Key, string Text, string? Note, Func<HouseSnapshot, UserInput> Input);
    }

    /// <summary>A seed for an input the recording does not have, the same on every replay.</summary>
    private static Guid Derived(string label) => new Ids(Guid.Empty).Derive("replay/" + label);
}
