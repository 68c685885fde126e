using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Logging;
using Presence.Contracts.Agents;
using Presence.Contracts.Wire;

namespace Presence.Agent.Commands;

/// <summary>One command as remembered: the events that answer a duplicate of it. Type is null for a command cancelled before it arrived.</summary>
internal sealed record CommandRecord(
    string CommandId, CommandType? Type, string Vm, AgentEvent Accepted, AgentEvent? Final, bool FinalPublished = false)
{
    [JsonIgnore]
    public bool IsFinished => Final is not null;
}

/// <summary>
/// The commands this agent has taken on and how they ended, in <c>commands.json</c> in the state directory, so
/// that a command redelivered after a restart (MQTT QoS 1 does that) is answered instead of executed again.
/// Written before a command is acknowledged to the broker, when it ends and when its outcome is published; the
/// oldest finished and published commands are forgotten beyond the capacity.
/// </summary>
internal sealed class CommandJournal(string directory, int capacity, ILogger logger)
{
    private const string FileName = "commands.json";

    private readonly Lock gate = new();
    private readonly Dictionary<string, CommandRecord> records = new(StringComparer.Ordinal);
    private readonly List<string> order = [];

    public string FilePath { get; } = Path.Combine(directory, FileName);

    /// <summary>
    /// Reads what an earlier run left. Commands it left running can no longer finish: they end with the event
    /// <paramref name="interrupted"/> makes (failed), unpublished, so the server hears about them once connected.
    /// </summary>
    public void Load(Func<CommandRecord, AgentEvent> interrupted)
    {
        lock (gate)
        {
            Directory.CreateDirectory(directory);
            if (!File.Exists(FilePath))
            {
                return;
            }

            List<CommandRecord> stored;
            try
            {
                stored = JsonSerializer.Deserialize<JournalFile>(File.ReadAllBytes(FilePath), ContractJson.Options)?.Commands ?? [];
            }
            catch (JsonException e)
            {
                // Refusing to start would keep the computer out of the house for good; remembering nothing risks
                // only re-running commands that the server has long since given up on.
                var aside = $"{FilePath}.unreadable-{DateTime.UtcNow:yyyyMMddHHmmss}";
                File.Move(FilePath, aside);
                logger.LogError("Command journal {Path} is unreadable ({Reason}); moved to {Aside}, starting with none remembered",
                    FilePath, e.Message, aside);
                return;
            }

            var wasInterrupted = false;
            foreach (var record in stored)
            {
                var loaded = record;
                if (!record.IsFinished)
                {
                    loaded = record with { Final = interrupted(record), FinalPublished = false };
                    wasInterrupted = true;
                }

                if (records.TryAdd(loaded.CommandId, loaded))
                {
                    order.Add(loaded.CommandId);
                }
            }

            if (wasInterrupted)
            {
                Save();
            }
        }
    }

    public CommandRecord? Find(string commandId)
    {
        lock (gate)
        {
            return records.GetValueOrDefault(commandId);
        }
    }

    /// <summary>Remembers a command that starts now. Throws when it cannot be written: then it must not run.</summary>
    public void Begin(CommandRecord record)
    {
        lock (gate)
        {
            records.Add(record.CommandId, record);
            order.Add(record.CommandId);
            try
            {
                Save();
            }
            catch
            {
                records.Remove(record.CommandId);
                order.RemoveAt(order.Count - 1);
                throw;
            }
        }
    }

    /// <summary>Remembers a command as already over, e.g. one cancelled before it arrived.</summary>
    public void Remember(CommandRecord finished)
    {
        lock (gate)
        {
            if (records.TryAdd(finished.CommandId, finished))
            {
                order.Add(finished.CommandId);
                TrySave();
            }
        }
    }

    public void Finish(string commandId, AgentEvent final)
    {
        lock (gate)
        {
            records[commandId] = records[commandId] with { Final = final, FinalPublished = false };
            TrySave();
        }
    }

    /// <summary>Written too, so a restart re-publishes only what the server may really have missed.</summary>
    public void MarkPublished(string commandId)
    {
        lock (gate)
        {
            if (records.TryGetValue(commandId, out var record))
            {
                records[commandId] = record with { FinalPublished = true };
                TrySave();
            }
        }
    }

    public IReadOnlyList<CommandRecord> Unpublished()
    {
        lock (gate)
        {
            return order.Select(id => records[id]).Where(r => r is { IsFinished: true, FinalPublished: false }).ToList();
        }
    }

    private void TrySave()
    {
        try
        {
            Save();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The outcome still goes to the server; only a duplicate after a restart would find it missing.
            logger.LogError("Cannot write command journal {Path}: {Reason}", FilePath, e.Message);
        }
    }

    private void Save()
    {
        // Running commands and outcomes the server has not been told yet are never forgotten.
        static bool Forgettable(CommandRecord r) => r is { IsFinished: true, FinalPublished: true };
        var forgettable = order.Count(id => Forgettable(records[id]));
        for (var i = 0; forgettable > capacity && i < order.Count;)
        {
            if (Forgettable(records[order[i]]))
            {
                records.Remove(order[i]);
                order.RemoveAt(i);
                forgettable--;
            }
            else
            {
                i++;
            }
        }

        var file = new JournalFile(order.Select(id => records[id]).ToList());
        var temporary = FilePath + ".tmp";
        File.WriteAllBytes(temporary, JsonSerializer.SerializeToUtf8Bytes(file, ContractJson.Options));
        File.Move(temporary, FilePath, overwrite: true);
    }

    private sealed record JournalFile(List<CommandRecord> Commands);
}
