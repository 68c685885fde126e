using Microsoft.Extensions.Configuration.Json;

namespace Presence.Server.Configuration;

/// <summary>
/// A house file read as <see cref="JsonConfigurationSource"/> reads it, whose sections find their children through an
/// index rather than a scan of every key. The configuration binder asks each section of the house for its children,
/// and the stock provider answers each such question by scanning (and sorting) all the file's keys: a 500-seat office
/// whose people may sit anywhere is 257,000 keys, and its server spent 68–187 s binding the house at every start
/// before it even opened the database (perf: <c>ConfigurationProvider.GetChildKeys</c> and its string compares).
/// </summary>
public sealed class IndexedJsonSource : JsonConfigurationSource
{
    /// <summary>The same file, read the same way, with the index.</summary>
    public static IndexedJsonSource Of(JsonConfigurationSource source) => new()
    {
        Path = source.Path!,
        FileProvider = source.FileProvider,
        Optional = source.Optional,
        ReloadOnChange = source.ReloadOnChange,
        ReloadDelay = source.ReloadDelay,
    };

    public override IConfigurationProvider Build(IConfigurationBuilder builder)
    {
        EnsureDefaults(builder);
        return new Provider(this);
    }

    private sealed class Provider(JsonConfigurationSource source) : JsonConfigurationProvider(source)
    {
        /// <summary>
        /// Each section's path ("" for the root) with its children's names, and the keys it was made from: a reload
        /// of the file replaces them (then it is made again on first use), and a <see cref="Set"/> clears it.
        /// </summary>
        private Indexed? children;

        public override void Set(string key, string? value)
        {
            base.Set(key, value);
            Volatile.Write(ref children, null);
        }

        /// <summary>
        /// What the stock provider answers, but each child once: the configuration keeps each name once anyway (it
        /// merges every provider's answer case-insensitively), and the stock answer repeats a name per key below it.
        /// </summary>
        public override IEnumerable<string> GetChildKeys(IEnumerable<string> earlierKeys, string? parentPath)
        {
            var index = Volatile.Read(ref children) is { } kept && ReferenceEquals(kept.Keys, Data) ? kept.Children : Index();
            var results = new List<string>(earlierKeys);
            if (index.TryGetValue(parentPath ?? "", out var mine))
            {
                results.AddRange(mine);
            }

            results.Sort(ConfigurationKeyComparer.Instance);
            return results;
        }

        private Dictionary<string, HashSet<string>> Index()
        {
            var keys = Data;
            var index = new Dictionary<string, HashSet<string>>(StringComparer.OrdinalIgnoreCase);
            foreach (var key in keys.Keys)
            {
                // Every ancestor of a key has the next segment of it as a child: "a:b:c" makes "" → a, a → b, a:b → c.
                var start = 0;
                while (true)
                {
                    var end = key.IndexOf(ConfigurationPath.KeyDelimiter, start, StringComparison.Ordinal);
                    var parent = start == 0 ? "" : key[..(start - 1)];
                    if (!index.TryGetValue(parent, out var names))
                    {
                        index[parent] = names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
                    }

                    names.Add(end < 0 ? key[start..] : key[start..end]);
                    if (end < 0)
                    {
                        break;
                    }

                    start = end + 1;
                }
            }

            Volatile.Write(ref children, new Indexed(keys, index));
            return index;
        }
    }

    private sealed record Indexed(IDictionary<string, string?> Keys, Dictionary<string, HashSet<string>> Children);
}
