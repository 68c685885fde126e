using System.Globalization;

namespace Presence.Benchmarks.EndToEnd;

/// <summary>The house benchmark's counts; the defaults are issue 11's, small ones make the same code a quick dry run.</summary>
public sealed class HouseBenchOptions
{
    /// <summary>Computers people sit at (the house also has one server that runs every VM); the ingestion's senders.</summary>
    public int Computers { get; set; } = 50;

    /// <summary>Logins measured for the warm signal→command latency (each followed by a logout at the same seat).</summary>
    public int Logins { get; set; } = 300;

    /// <summary>
    /// People who log in at once, each at a seat of their own, in each of <see cref="TogetherRounds"/> rounds: commands
    /// for several agents at the same time (0 skips it). At most the house's computers.
    /// </summary>
    public int Together { get; set; } = 8;

    public const int TogetherRounds = 20;

    /// <summary>
    /// How long the server is left with nothing to do before its idle memory is read: the JIT goes on tiering up
    /// for about half a minute after a start, and the server gives its scratch memory back once that is done.
    /// </summary>
    public TimeSpan Idle { get; set; } = TimeSpan.FromSeconds(45);

    /// <summary>Idle signals sent for the ingestion rate.</summary>
    public int Signals { get; set; } = 20_000;

    /// <summary>Seats of the office whose ingestion is measured beside the house's (its own server, one agent and publisher each); 0 skips it.</summary>
    public int Office { get; set; } = 500;

    /// <summary>Idle signals of the office's ingestion; unset: as many as <see cref="Signals"/>.</summary>
    public int? OfficeSignals { get; set; }

    /// <summary>How long each raw PostgreSQL commit measurement runs.</summary>
    public TimeSpan RawDuration { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Rows of the raw COPY.</summary>
    public int CopyRows { get; set; } = 100_000;

    /// <summary>Days of the ten-person house replayed in memory (a year by default).</summary>
    public int ReplayDays { get; set; } = 365;

    /// <summary>People of the replayed house.</summary>
    public int ReplayPeople { get; set; } = 10;

    /// <summary>
    /// Where the cluster, the server's files and the agents' state go (an empty or new folder); a fresh temporary
    /// folder when unset.
    /// </summary>
    public string? WorkDirectory { get; set; }

    /// <summary>No progress for this long while waiting for something the server should do: the run fails naming it.</summary>
    public TimeSpan Stall { get; set; } = TimeSpan.FromSeconds(60);

    public const string Usage = """
        house [--computers 50] [--logins 300] [--together 8] [--signals 20000] [--office 500] [--office-signals N] [--raw-seconds 5] [--copy-rows 100000]
              [--idle-seconds 45] [--replay-days 365] [--replay-people 10] [--work-dir DIR]
          The end-to-end benchmark (issue 11 §7): a durable PostgreSQL cluster, the real server process, its embedded
          broker and simulated agents; prints one markdown table with each figure beside its target. --together N
          people log in at once at N seats, 20 times (0: skip it). --office N also
          measures the ingestion of --office-signals (default: as many as --signals) from an N-seat office (0: skip it). Exits 3 when a signal is
          lost (sent − stored > 0). --idle-seconds: how long the server is left alone before its idle memory is read.
        """;

    public static HouseBenchOptions Parse(IReadOnlyList<string> args)
    {
        var options = new HouseBenchOptions();
        for (var i = 0; i < args.Count; i++)
        {
            var name = args[i];
            if (i + 1 >= args.Count)
            {
                throw new ArgumentException($"{name} needs a value\n{Usage}");
            }

            var value = args[++i];
            switch (name)
            {
                case "--computers": options.Computers = Positive(name, value); break;
                case "--logins": options.Logins = Positive(name, value); break;
                case "--together": options.Together = NonNegative(name, value); break;
                case "--signals": options.Signals = Positive(name, value); break;
                case "--office": options.Office = NonNegative(name, value); break;
                case "--office-signals": options.OfficeSignals = Positive(name, value); break;
                case "--raw-seconds": options.RawDuration = TimeSpan.FromSeconds(PositiveNumber(name, value)); break;
                case "--idle-seconds": options.Idle = TimeSpan.FromSeconds(NonNegative(name, value)); break;
                case "--copy-rows": options.CopyRows = Positive(name, value); break;
                case "--replay-days": options.ReplayDays = Positive(name, value); break;
                case "--replay-people": options.ReplayPeople = Positive(name, value); break;
                case "--work-dir": options.WorkDirectory = value; break;
                default: throw new ArgumentException($"unknown option '{name}'\n{Usage}");
            }
        }

        if (options.Logins < 2)
        {
            throw new ArgumentException("--logins must be at least 2: the first after start is set beside the warm ones");
        }

        if (options.Computers < 2)
        {
            throw new ArgumentException("--computers must be at least 2: the logins alternate between seats");
        }

        if (options.Together > options.Computers - 1)
        {
            throw new ArgumentException($"--together {options.Together} needs as many seats besides the warm path's user's: at most --computers − 1 ({options.Computers - 1})");
        }

        // A second run in the same folder would start on the first one's cluster: its people already seated, its logins
        // deciding nothing, and the run stalling 60 s on a display that is already shown.
        if (options.WorkDirectory is { } work && Directory.Exists(work) && Directory.EnumerateFileSystemEntries(work).Any())
        {
            throw new ArgumentException($"--work-dir '{work}' is not empty (a previous run's cluster?): give an empty or new folder");
        }

        return options;
    }

    /// <summary>The value of option <paramref name="name"/> as a whole number above 0, or an error naming both.</summary>
    internal static int Positive(string name, string value) =>
        int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0
            ? n
            : throw new ArgumentException($"{name} '{value}' must be a positive whole number");

    private static int NonNegative(string name, string value) =>
        int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n)
            ? n
            : throw new ArgumentException($"{name} '{value}' must be a whole number, 0 or more");

    private static double PositiveNumber(string name, string value) =>
        double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var n) && n > 0
            ? n
            : throw new ArgumentException($"{name} '{value}' must be a positive number");
}
