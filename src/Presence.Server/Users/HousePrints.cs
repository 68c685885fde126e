using System.Collections;
using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Marten;
using Marten.Services;
using Presence.Domain.House;
using Presence.Domain.Users;
using Presence.Server.Hosting;

namespace Presence.Server.Users;

/// <summary>
/// The fingerprints of one state of the house (<see cref="HouseSeen.Prints"/>), stored once under their content's
/// hash. Every saga keeps a fingerprint per host, so a 500-seat office's saga document was 17.5 KB, 92 % of it
/// those prints, read and rewritten with each of its user's signals; yet all the people who looked at the house at
/// the same moment keep the same prints. So a saga document keeps the hash and the prints are stored once, here.
/// Only how a saga is stored changes: the decider sees the same prints, and a replay folds them from the stream.
/// </summary>
public sealed record HousePrints(string Id, IReadOnlyDictionary<string, string> Prints);

/// <summary>
/// One document store's house prints: a few recent ones kept in memory, written to PostgreSQL before a saga that
/// refers to them (<see cref="PrintsWritten"/>), read back for sagas fetched for a decision
/// (<see cref="ResolveAsync"/>).
/// </summary>
public sealed class HousePrintsStore
{
    private static readonly ConditionalWeakTable<object, HousePrintsStore> PerOptions = new();
    private static readonly ConditionalWeakTable<IReadOnlyDictionary<string, string>, string> Ids = new();

    /// <summary>The house's recent states, which all its people decide on; an older one costs a read.</summary>
    private const int Kept = 64;

    /// <summary>
    /// Prints this node stored or read, by id: stored then. Deleted since (<see cref="DeleteUnusedAsync"/>), a saga
    /// that refers to them gets them back from its stream.
    /// </summary>
    private readonly ConcurrentDictionary<string, IReadOnlyDictionary<string, string>> stored = new(StringComparer.Ordinal);

    /// <summary>Saga documents keep their prints by id; a listener stores new prints before their saga.</summary>
    public static StoreOptions KeepPrintsById(StoreOptions opts)
    {
        var prints = new HousePrintsStore();
        PerOptions.AddOrUpdate(opts, prints);
        opts.Schema.For<HousePrints>();
        opts.Listeners.Add(new PrintsWritten(prints));
        ((SystemTextJsonSerializer)opts.Serializer()).Configure(json =>
            json.TypeInfoResolver = (json.TypeInfoResolver ?? new DefaultJsonTypeInfoResolver()).WithAddedModifier(info =>
            {
                if (info.Type == typeof(HouseSeen))
                {
                    info.Properties.Single(p => p.Name == nameof(HouseSeen.Prints)).CustomConverter = new PrintsById(prints);
                }
            }));
        return opts;
    }

    public static HousePrintsStore Of(IDocumentStore store) =>
        PerOptions.TryGetValue(store.Options, out var prints)
            ? prints
            : throw new InvalidOperationException("house prints are not configured for this document store (HousePrintsStore.KeepPrintsById)");

    /// <summary>
    /// The hash of the prints, in name order: the same house gives the same id in every process. SHA-256 cut to
    /// 128 bits: two different houses under one id would mislead every saga that keeps it.
    /// </summary>
    public static string IdOf(IReadOnlyDictionary<string, string> prints) => prints is ById byId
        ? byId.Folded is { } folded ? IdOf(folded) : byId.Id
        : Ids.GetValue(prints, static p =>
        {
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            foreach (var name in p.Keys.Order(StringComparer.Ordinal))
            {
                hash.AppendData(Encoding.UTF8.GetBytes($"{name.Length}:{name}={p[name]};"));
            }

            return Convert.ToHexStringLower(hash.GetHashAndReset(), 0, 16);
        });

    /// <summary>
    /// Prints some session is inserting in its transaction (<see cref="PrintsWritten"/>): a saga may refer to them by
    /// id, since its own session inserts them too. An id stays here when its transaction failed; bounded as
    /// <see cref="stored"/> is.
    /// </summary>
    private readonly ConcurrentDictionary<string, byte> writing = new(StringComparer.Ordinal);

    /// <summary>
    /// Whether these prints are known to be committed: read back, or written by a session that committed.
    /// </summary>
    private bool IsCommitted(IReadOnlyDictionary<string, string> prints) =>
        prints is ById { Folded: null } || (prints.Count > 0 && stored.ContainsKey(IdOf(prints)));

    /// <summary>
    /// Whether a saga may refer to these prints by id: committed, or being inserted (empty ones are written out).
    /// </summary>
    private bool IsStored(IReadOnlyDictionary<string, string> prints) =>
        IsCommitted(prints) || (prints.Count > 0 && writing.ContainsKey(IdOf(prints)));

    private bool TryKept(string id, [NotNullWhen(true)] out IReadOnlyDictionary<string, string>? prints) => stored.TryGetValue(id, out prints);

    private void Keep(string id, IReadOnlyDictionary<string, string> prints)
    {
        if (stored.Count >= Kept)
        {
            stored.Clear();
        }

        stored[id] = prints;
    }

    /// <summary>
    /// Says that <paramref name="session"/> saves into a transaction that will be rolled back (SignalWarmup's): Marten
    /// tells its listeners "committed" after the save all the same, and prints taken for committed would have sagas
    /// refer to rows that never were (each read of such a saga then folds its whole stream to get them back).
    /// </summary>
    public static void WillRollBack(IDocumentSession session) => SessionReads.Of(session).RollsBack = true;

    /// <summary>Reads the prints the saga refers to by id, before anything decides on them or folds them.</summary>
    public async Task ResolveAsync(IQuerySession session, UserSaga? saga, CancellationToken ct)
    {
        if (saga?.HouseSeen.Prints is not ById { IsResolved: false } byId || byId.TryResolve())
        {
            return;
        }

        if (await session.LoadAsync<HousePrints>(byId.Id, ct) is { } prints)
        {
            Keep(prints.Id, prints.Prints);
            byId.Resolve(prints.Prints);
            return;
        }

        // Prints no longer stored (DeleteUnusedAsync took them while a saga was being written to refer to them): the
        // user's stream folds to the same prints, as the inline projection folded them.
        var folded = (await session.Events.FetchStreamAsync(saga.Id, token: ct))
            .Aggregate(UserSaga.Start(saga.Id, null), (state, e) => UserDecider.Evolve(state, e.Data));
        byId.Resolve(folded.HouseSeen.Prints, folded: true);
    }

    /// <summary>
    /// Deletes the prints no saga refers to that were written more than <paramref name="olderThan"/> ago: a house
    /// whose agents report changing facts makes new prints with every change. Safe at any time: a saga written to
    /// refer to prints deleted meanwhile gets them back from its stream (<see cref="ResolveAsync"/>); the age only
    /// keeps prints a session is about to refer to from being deleted and written again.
    /// </summary>
    /// <returns>How many were deleted.</returns>
    public static async Task<int> DeleteUnusedAsync(IDocumentStore store, TimeSpan olderThan, CancellationToken ct)
    {
        var prints = store.Options.FindOrResolveDocumentType(typeof(HousePrints)).TableName.QualifiedName;
        var sagas = store.Options.FindOrResolveDocumentType(typeof(UserSaga)).TableName.QualifiedName;
        await using var connection = store.Storage.Database.CreateConnection();
        await connection.OpenAsync(ct);
        await using var delete = new Npgsql.NpgsqlCommand(
            $"""
             delete from {prints} p where p.mt_last_modified < now() - $1
               and p.id not in (select s.data->'HouseSeen'->>'Prints' from {sagas} s where jsonb_typeof(s.data->'HouseSeen'->'Prints') = 'string')
             """, connection);
        delete.Parameters.Add(new() { Value = olderThan });
        return await delete.ExecuteNonQueryAsync(ct);
    }

    /// <summary>
    /// Before a session saves: the prints its sagas keep that are not known to be stored, inserted in the session's
    /// own transaction (a plain insert that leaves prints another session stored first as they are: the same id is the
    /// same content). A saga refers to prints by id only when they are stored or being inserted; every session that
    /// writes such a saga inserts them too unless they are known stored, so no committed saga can refer to prints
    /// that were never committed. In a transaction of their own they cost a login its own commit and two round trips
    /// (issue 11 §6). Two sessions inserting the same new prints: the second waits for the first's commit; the insert
    /// is the last statement of each transaction, after its appends, so neither waits for the other twice.
    /// </summary>
    private sealed class PrintsWritten(HousePrintsStore prints) : DocumentSessionListenerBase
    {
        private readonly ConditionalWeakTable<IDocumentSession, Dictionary<string, IReadOnlyDictionary<string, string>>> inserting = new();

        public override Task BeforeSaveChangesAsync(IDocumentSession session, CancellationToken token)
        {
            if (SessionReads.Existing(session) is not { Sagas.Count: > 0 } reads)
            {
                return Task.CompletedTask;
            }

            var fresh = new SortedDictionary<string, IReadOnlyDictionary<string, string>>(StringComparer.Ordinal);
            foreach (var saga in reads.Sagas.Values.Select(s => s.Saga))
            {
                if (saga?.HouseSeen.Prints is { Count: > 0 } kept && !prints.IsCommitted(kept))
                {
                    fresh.TryAdd(IdOf(kept), kept);
                }
            }

            if (fresh.Count == 0)
            {
                return Task.CompletedTask;
            }

            var serializer = session.DocumentStore.Options.Serializer();
            DocumentRows.QueueInsert(session, typeof(HousePrints), [.. fresh.Keys],
                [.. fresh.Select(f => serializer.ToJson(new HousePrints(f.Key, f.Value)))], skipExisting: true);
            if (prints.writing.Count >= Kept)
            {
                prints.writing.Clear();
            }

            foreach (var id in fresh.Keys)
            {
                prints.writing[id] = 0;
            }

            inserting.AddOrUpdate(session, new Dictionary<string, IReadOnlyDictionary<string, string>>(fresh, StringComparer.Ordinal));
            return Task.CompletedTask;
        }

        public override Task AfterCommitAsync(IDocumentSession session, IChangeSet commit, CancellationToken token)
        {
            if (inserting.TryGetValue(session, out var written))
            {
                inserting.Remove(session);
                if (SessionReads.Existing(session) is { RollsBack: true })
                {
                    return Task.CompletedTask;
                }

                foreach (var (id, kept) in written)
                {
                    prints.Keep(id, kept);
                    prints.writing.TryRemove(id, out _);
                }
            }

            return Task.CompletedTask;
        }
    }

    /// <summary>
    /// A saga's prints as its document keeps them, by id. Read from PostgreSQL by <see cref="ResolveAsync"/> (or
    /// found among the kept ones) before the first use; used unresolved it fails, where empty prints would record
    /// every host as changed and the stream would then differ from what a replay decides.
    /// </summary>
    private sealed class ById(string id, HousePrintsStore prints) : IReadOnlyDictionary<string, string>
    {
        private IReadOnlyDictionary<string, string>? resolved;

        public string Id { get; } = id;

        public bool IsResolved => resolved is not null;

        public bool TryResolve()
        {
            if (prints.TryKept(Id, out var kept))
            {
                resolved = kept;
            }

            return resolved is not null;
        }

        /// <summary>Prints folded from the stream, the stored ones being gone: stored again, as new ones are.</summary>
        public IReadOnlyDictionary<string, string>? Folded { get; private set; }

        public void Resolve(IReadOnlyDictionary<string, string> kept, bool folded = false)
        {
            resolved = kept;
            Folded = folded ? kept : null;
        }

        private IReadOnlyDictionary<string, string> Prints => resolved ?? (TryResolve()
            ? resolved!
            : throw new InvalidOperationException($"house prints {Id} were used before they were read (HousePrintsStore.ResolveAsync)"));

        public string this[string key] => Prints[key];

        public IEnumerable<string> Keys => Prints.Keys;

        public IEnumerable<string> Values => Prints.Values;

        public int Count => Prints.Count;

        public bool ContainsKey(string key) => Prints.ContainsKey(key);

        public bool TryGetValue(string key, [MaybeNullWhen(false)] out string value) => Prints.TryGetValue(key, out value);

        public IEnumerator<KeyValuePair<string, string>> GetEnumerator() => Prints.GetEnumerator();

        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
    }

    /// <summary>
    /// <see cref="HouseSeen.Prints"/> in a stored saga: the id of stored prints, or the prints themselves while they
    /// are not stored yet (and in a document written before this), both read back.
    /// </summary>
    private sealed class PrintsById(HousePrintsStore prints) : JsonConverter<IReadOnlyDictionary<string, string>>
    {
        public override IReadOnlyDictionary<string, string> Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            reader.TokenType == JsonTokenType.String
                ? new ById(reader.GetString()!, prints)
                : JsonSerializer.Deserialize<Dictionary<string, string>>(ref reader, options)
                  ?? throw new JsonException("a saga's house prints are null");

        public override void Write(Utf8JsonWriter writer, IReadOnlyDictionary<string, string> value, JsonSerializerOptions options)
        {
            if (prints.IsStored(value))
            {
                writer.WriteStringValue(IdOf(value));
                return;
            }

            writer.WriteStartObject();
            foreach (var (name, print) in value)
            {
                writer.WriteString(name, print);
            }

            writer.WriteEndObject();
        }
    }
}
