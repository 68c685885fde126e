using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Presence.Agent.Displays;
using Presence.Agent.Hypervisors;
using Presence.Contracts.Agents;
using Presence.Contracts.Wire;

namespace Presence.Agent.Commands;

/// <summary>
/// Turns command payloads into hypervisor work and events (CONTRACT.md §3): <c>accepted</c> first, then the
/// outcome. Each command id is executed at most once: a finished one is answered with its recorded outcome,
/// a running one with its <c>accepted</c> again. Commands run in the background so that a long migration never
/// holds up the next command (a <c>cancel</c> for it, say).
/// </summary>
internal sealed class CommandProcessor(
    string host,
    string defaultSuspendDirectory,
    IHypervisorDriver driver,
    DisplaySeat seat,
    Power.SleepInhibitor inhibitor,
    CommandJournal journal,
    Whereabouts.VmWhereabouts? whereabouts,
    CommandTrust trust,
    Func<AgentEvent, Task<bool>> publish,
    ILogger logger)
{
    private readonly ConcurrentDictionary<string, RunningCommand> running = new(StringComparer.Ordinal);

    /// <summary>VMs a genuine prepare_incoming told this agent to expect: an abort_incoming may name them.</summary>
    private readonly ConcurrentDictionary<string, bool> expected = new(StringComparer.Ordinal);
    private volatile bool stopping;

    /// <summary>
    /// Handles one delivery, with its MQTT user properties (the server's signature). False means "do not
    /// acknowledge": it could not be recorded, or the agent is stopping. Nothing is looked at before the signature
    /// is: a forgery cannot even learn what this agent remembers.
    /// </summary>
    public async Task<bool> HandleAsync(string topic, ReadOnlyMemory<byte> payload, IReadOnlyList<KeyValuePair<string, string>> properties)
    {
        if (stopping)
        {
            // Unacknowledged, the broker keeps it for the next run of this agent.
            return false;
        }

        if (trust.CheckSignature(topic, properties, payload.Span) is { } forged)
        {
            await RejectAsync(payload, forged, refused: true);
            return true;
        }

        AgentCommand command;
        try
        {
            command = AgentCommand.Parse(payload.Span);
        }
        catch (ContractException e)
        {
            await RejectAsync(payload, e.Message);
            return true;
        }

        if (journal.Find(command.CommandId) is { } known)
        {
            logger.LogInformation("Command {CommandId} ({Type} {Vm}) is a duplicate; answering with what was recorded",
                command.CommandId, Wire(command.Type), command.Vm);
            await publish(known.Final ?? known.Accepted);
            return true;
        }

        if ((trust.CheckAge(properties) ?? trust.CheckScope(command, driver.ListVms(), expected.Keys.ToHashSet())) is { } refusal)
        {
            // The server's own command, refused: recorded like an outcome, so a copy arriving later (the server
            // sends a pending command again when an agent comes back) gets the same answer and is not run after
            // the server has already compensated for the refusal.
            var failed = Failed(command, refusal);
            journal.Remember(new CommandRecord(command.CommandId, command.Type, command.Vm, failed, failed));
            logger.LogWarning("Refused command {CommandId}: {Error}", command.CommandId, refusal);
            if (await publish(failed))
            {
                journal.MarkPublished(command.CommandId);
            }

            return true;
        }

        if (command.Type == CommandType.PrepareIncoming)
        {
            expected[command.Vm] = true;
        }

        var record = new CommandRecord(command.CommandId, command.Type, command.Vm, Event(command, AgentEventState.Accepted), null);
        try
        {
            journal.Begin(record);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            logger.LogError("Cannot record command {CommandId}; leaving it unacknowledged for redelivery: {Reason}", command.CommandId, e.Message);
            return false;
        }

        logger.LogInformation("Command {CommandId}: {Type} {Vm}", command.CommandId, Wire(command.Type), command.Vm);
        var run = new RunningCommand(command);
        running[command.CommandId] = run;
        await publish(record.Accepted);
        run.Completion = Task.Run(() => RunAsync(run));
        return true;
    }

    /// <summary>Publishes outcomes that could not be sent when they happened (no connection, or an earlier run).</summary>
    public async Task PublishPendingAsync()
    {
        foreach (var record in journal.Unpublished())
        {
            if (await publish(record.Final!))
            {
                journal.MarkPublished(record.CommandId);
            }
        }
    }

    /// <summary>Stops taking commands and ends the running ones (a migration stops, the VM stays here).</summary>
    public async Task StopAsync()
    {
        stopping = true;
        var runs = running.Values.ToList();
        foreach (var run in runs)
        {
            run.EndedBy = EndedBy.Stop;
            await run.Cancellation.CancelAsync();
        }

        await Task.WhenAll(runs.Select(r => r.Completion));
    }

    /// <summary>
    /// As a crash would: commands just stop, nothing more is published or recorded. <paramref name="letGo"/> runs
    /// once every command is marked crashed and before any is cancelled: a hypervisor whose VMs live in their own
    /// processes (qemu) lets go of them first, so that nothing is cancelled inside them, as after a SIGKILL.
    /// </summary>
    public async Task AbandonAsync(Func<ValueTask> letGo)
    {
        stopping = true;
        var runs = running.Values.ToList();
        foreach (var run in runs)
        {
            run.EndedBy = EndedBy.Crash;
        }

        await letGo();
        foreach (var run in runs)
        {
            run.Cancellation.Cancel();
        }
    }

    private async Task RunAsync(RunningCommand run)
    {
        var command = run.Command;
        AgentEvent final;
        try
        {
            final = await ExecuteAsync(command, run.Cancellation.Token);
        }
        // Once cancelled, however the operation ended up failing, it did not take effect: drivers guarantee that.
        catch (Exception) when (run.EndedBy == EndedBy.Cancel)
        {
            final = Event(command, AgentEventState.Cancelled);
        }
        catch (Exception) when (run.EndedBy == EndedBy.Stop)
        {
            final = Failed(command, $"the agent on {host} stopped before the command finished");
        }
        catch (Exception) when (run.EndedBy == EndedBy.Crash)
        {
            return;
        }
        catch (HypervisorException e)
        {
            final = Failed(command, e.Message);
        }
        catch (Exception e)
        {
            logger.LogError(e, "Command {CommandId} ({Type} {Vm}) failed unexpectedly", command.CommandId, Wire(command.Type), command.Vm);
            final = Failed(command, $"unexpected error on {host}: {e.Message}");
        }

        if (run.EndedBy == EndedBy.Crash)
        {
            return;
        }

        journal.Finish(command.CommandId, final);
        LogOutcome(final);
        if (await publish(final))
        {
            journal.MarkPublished(command.CommandId);
        }

        // Only now: a stop waits for everything in `running`, including this publish.
        running.TryRemove(command.CommandId, out _);
    }

    private async Task<AgentEvent> ExecuteAsync(AgentCommand command, CancellationToken cancellationToken)
    {
        var completed = Event(command, AgentEventState.Completed);
        // Taken before the VM leaves: its whereabouts keep its size for a simulated host that boots it again.
        var memoryBefore = driver.ListVms().FirstOrDefault(v => v.Name == command.Vm)?.MemoryMb ?? 0;
        switch (command.Type)
        {
            case CommandType.PrepareIncoming:
                var memory = command.MemoryMb ?? throw new HypervisorException("prepare_incoming needs memory_mb");
                if (command.InhibitSleep == true)
                {
                    inhibitor.Hold(command.Vm);
                }

                var uri = await driver.PrepareIncomingAsync(new IncomingRequest(command.Vm, memory, command.Definition), cancellationToken);
                return Event(command, AgentEventState.Ready) with { IncomingUri = uri };

            case CommandType.Migrate:
                var request = new MigrationRequest(
                    command.Vm,
                    command.TargetHost!,
                    command.TargetUri!,
                    command.MaxBandwidthMbps,
                    command.DowntimeLimitMs is { } ms ? TimeSpan.FromMilliseconds(ms) : null);
                // Progress never holds up the stream: while one is in flight later ones are dropped (all but the
                // last, which queues behind it), and the outcome waits for them so events stay in order.
                var progressSent = Task.CompletedTask;
                MigrationResult result;
                try
                {
                    result = await driver.MigrateAsync(
                        request,
                        progress =>
                        {
                            if (progressSent.IsCompleted || progress.RemainingBytes == 0)
                            {
                                progressSent = PublishAfterAsync(progressSent, Event(command, AgentEventState.Progress) with { Progress = progress });
                            }

                            return Task.CompletedTask;
                        },
                        cancellationToken);
                }
                finally
                {
                    await progressSent;
                }

                whereabouts?.Left(command.Vm, "migrated", command.TargetHost, memoryBefore);

                return completed with
                {
                    DowntimeMs = (long)Math.Round(result.Downtime.TotalMilliseconds),
                    TotalTimeMs = (long)Math.Round(result.TotalTime.TotalMilliseconds),
                };

            case CommandType.AbortIncoming:
                await driver.AbortIncomingAsync(command.Vm, cancellationToken);
                inhibitor.Release(command.Vm);
                expected.TryRemove(command.Vm, out _);
                return completed;

            case CommandType.Cancel:
                await CancelAsync(command);
                return completed;

            case CommandType.Suspend:
                var to = command.To ?? DefaultStateFile(command.Vm);
                await driver.SuspendAsync(command.Vm, to, cancellationToken);
                // The file holds the VM now and may be resumed on any host: booting it here again would run it twice.
                whereabouts?.Left(command.Vm, "suspended", to, memoryBefore);
                return completed;

            case CommandType.Resume:
                await driver.ResumeAsync(command.Vm, command.From ?? DefaultStateFile(command.Vm), cancellationToken);
                return completed;

            case CommandType.AttachDisplay:
                await seat.AttachAsync(command.Vm, command.DisplayUri!);
                return completed;

            case CommandType.DetachDisplay:
                await seat.DetachAsync(command.Vm);
                return completed;

            default:
                throw new HypervisorException($"command type {Wire(command.Type)} is not supported by this agent");
        }
    }

    private async Task PublishAfterAsync(Task previous, AgentEvent next)
    {
        await previous;
        await publish(next);
    }

    /// <summary>
    /// Completes when the cancelled command did not and will not take effect; fails when it already had.
    /// A command not seen yet is remembered as cancelled, so if it arrives late it is answered, not run.
    /// </summary>
    private async Task CancelAsync(AgentCommand cancel)
    {
        var of = cancel.Of!;
        if (of == cancel.CommandId)
        {
            throw new HypervisorException("a cancel cannot cancel itself");
        }

        if (running.TryGetValue(of, out var target))
        {
            target.EndedBy = EndedBy.Cancel;
            await target.Cancellation.CancelAsync();
            await target.Completion;
        }
        else if (journal.Find(of) is null)
        {
            var tombstone = Event(cancel, AgentEventState.Cancelled) with
            {
                CommandId = of,
                Error = $"cancelled by {cancel.CommandId} before it reached {host}",
            };
            journal.Remember(new CommandRecord(of, null, cancel.Vm, tombstone, tombstone, FinalPublished: true));
            return;
        }

        if (journal.Find(of)?.Final is { State: AgentEventState.Completed or AgentEventState.Ready } done)
        {
            throw new HypervisorException($"{of} had already {(done.State == AgentEventState.Ready ? "finished (ready)" : "completed")}; nothing to cancel");
        }
    }

    /// <param name="refused">Not a malformed command but one this agent will not carry out (forged, stale, out of bounds).</param>
    private async Task RejectAsync(ReadOnlyMemory<byte> payload, string error, bool refused = false)
    {
        var (commandId, vm) = ReadLeniently(payload);
        logger.LogWarning(refused ? "Refused command {CommandId}: {Error}" : "Unusable command {CommandId}: {Error}", commandId ?? "(no command_id)", error);
        // A forgery may borrow a genuine command's id: its answer must not overwrite the genuine one's.
        if (commandId is null || running.ContainsKey(commandId) || journal.Find(commandId) is not null)
        {
            return;
        }

        // The contract requires a vm on every event; "unknown" when the command did not name a usable one.
        await publish(new AgentEvent
        {
            CommandId = commandId,
            Vm = vm ?? "unknown",
            State = AgentEventState.Failed,
            Error = refused ? error : $"command rejected: {error}",
            Id = NewId(),
        });
    }

    private static (string? CommandId, string? Vm) ReadLeniently(ReadOnlyMemory<byte> payload)
    {
        try
        {
            using var document = JsonDocument.Parse(payload);
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                return (null, null);
            }

            static string? Text(JsonElement root, string name) =>
                root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

            var commandId = Text(document.RootElement, "command_id") is { Length: > 0 and <= PayloadReader.MaxIdLength } id ? id : null;
            var vm = Text(document.RootElement, "vm") is { } name && Topics.IsValidName(name) ? name : null;
            return (commandId, vm);
        }
        catch (JsonException)
        {
            return (null, null);
        }
    }

    private string DefaultStateFile(string vm) => Path.Combine(defaultSuspendDirectory, $"{vm}.json");

    private void LogOutcome(AgentEvent final)
    {
        if (final.State == AgentEventState.Failed)
        {
            logger.LogWarning("Command {CommandId} failed: {Error}", final.CommandId, final.Error);
        }
        else
        {
            logger.LogInformation("Command {CommandId}: {State}", final.CommandId, Wire(final.State));
        }
    }

    private static AgentEvent Event(AgentCommand command, AgentEventState state) =>
        new() { CommandId = command.CommandId, Vm = command.Vm, State = state, Id = NewId() };

    private static AgentEvent Failed(AgentCommand command, string error) => Event(command, AgentEventState.Failed) with { Error = error };

    /// <summary>Each event's own id: the server drops a re-published outcome it has already seen.</summary>
    private static string NewId() => Guid.NewGuid().ToString("N");

    private static string Wire<TEnum>(TEnum value) where TEnum : struct, Enum => ContractJson.WireName(value);

    private enum EndedBy { Nothing, Cancel, Stop, Crash }

    private sealed class RunningCommand(AgentCommand command)
    {
        public AgentCommand Command { get; } = command;
        public CancellationTokenSource Cancellation { get; } = new();
        public volatile EndedBy EndedBy;
        public Task Completion { get; set; } = Task.CompletedTask;
    }
}
