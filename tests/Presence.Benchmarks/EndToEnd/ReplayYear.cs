using System.Diagnostics;
using System.Runtime;
using System.Text.Json;

namespace Presence.Benchmarks.EndToEnd;

/// <summary>
/// The in-memory replay figures, measured in a process of their own started for them, as `presence replay` runs: a
/// fresh process with the server's runtime settings (its collector, as its runtimeconfig says; dynamic PGO off, as in
/// this project). Measured inside the house benchmark's own process the figure depended on what that process had done
/// before: deciding a year again 1.00 million events/s after the 500-seat office (550 simulated agents and their
/// clients), 1.13 in a run without the office, the same build and hour (2026-12-06).
/// </summary>
public static class ReplayYear
{
    public const string Verb = "replay-year";

    /// <summary>Whole passes measured after the warm-up; a figure is their median.</summary>
    private const int MeasuredPasses = 5;

    public sealed record Rates(double Median, string Spread);

    public sealed record Figures(long Events, Rates Fold, Rates Decide);

    /// <summary>Runs <see cref="RunHere"/> in a child process and reads its figures.</summary>
    public static async Task<Figures> MeasureInAProcessOfItsOwnAsync(int people, int days)
    {
        var (exitCode, output, errors) = await RunAsync(["--people", $"{people}", "--days", $"{days}"], TheServersCollectorIsServerGc());
        if (exitCode != 0)
        {
            throw new InvalidOperationException($"the replay's own process exited with {exitCode}: {errors}");
        }

        return JsonSerializer.Deserialize<Figures>(output.Trim())
            ?? throw new InvalidOperationException($"the replay's own process printed no figures: {output}");
    }

    /// <summary>This verb in a child process of its own, with or without server GC; what it printed.</summary>
    public static async Task<(int ExitCode, string Output, string Errors)> RunAsync(IEnumerable<string> args, bool serverGc)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in new[] { typeof(ReplayYear).Assembly.Location, Verb }.Concat(args))
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["DOTNET_gcServer"] = serverGc ? "1" : "0";
        using var process = Process.Start(start) ?? throw new InvalidOperationException("could not start the replay's own process");
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(10));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException("the replay's own process did not finish within 10 minutes; it was stopped");
        }

        return (process.ExitCode, await output, await errors);
    }

    /// <summary>The child's side: measures and prints the figures as one line of JSON.</summary>
    public static int RunHere(string[] args)
    {
        int people = 10, days = 365;
        try
        {
            for (var i = 0; i < args.Length; i += 2)
            {
                var value = i + 1 < args.Length ? args[i + 1] : "";
                switch (args[i])
                {
                    case "--people": people = HouseBenchOptions.Positive(args[i], value); break;
                    case "--days": days = HouseBenchOptions.Positive(args[i], value); break;
                    default: throw new ArgumentException($"unknown option '{args[i]}' (--people N, --days N)");
                }
            }
        }
        catch (ArgumentException e)
        {
            Console.Error.WriteLine($"{Verb}: {e.Message}");
            return 2;
        }

        var serverGc = TheServersCollectorIsServerGc();
        if (GCSettings.IsServerGC != serverGc)
        {
            // A figure under other settings than the product's must not pass for it.
            Console.Error.WriteLine($"{Verb}: measured with {Collector(serverGc)} only, as the server runs (DOTNET_gcServer={(serverGc ? 1 : 0)})");
            return 2;
        }

        var year = YearOfAHouse.Generate(people, days);
        WarmUp(() => YearOfAHouse.FoldPerSecond(year));
        var fold = MedianOf(() => YearOfAHouse.FoldPerSecond(year));
        WarmUp(() => YearOfAHouse.ReplayPerSecond(year));
        var decide = MedianOf(() => YearOfAHouse.ReplayPerSecond(year));
        Console.WriteLine(JsonSerializer.Serialize(new Figures(year.Events, fold, decide)));
        return 0;
    }

    /// <summary>
    /// The collector the server runs with, as its runtimeconfig (deployed beside this project's output) says: the
    /// figure stood for server GC after the server had moved to workstation GC (2026-12-07), when the instrument
    /// named it here rather than read it. Without the setting the runtime's default is workstation GC.
    /// </summary>
    public static bool TheServersCollectorIsServerGc()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "Presence.Server.runtimeconfig.json");
        using var config = JsonDocument.Parse(File.ReadAllText(path));
        return config.RootElement.GetProperty("runtimeOptions").TryGetProperty("configProperties", out var properties)
            && properties.TryGetProperty("System.GC.Server", out var server)
            && server.GetBoolean();
    }

    public static string Collector(bool serverGc) => serverGc ? "server GC" : "workstation GC";

    /// <summary>
    /// Steady state, not the JIT's first tiers: a replay of a long history runs on tiered-up code after its first
    /// fraction of a second, while one cold pass measured 0.33 M events/s against 1.7-1.8 M from the third on. So whole
    /// unmeasured passes until one is no faster than the pass before (at most four), as BenchmarkDotNet warms up.
    /// </summary>
    private static void WarmUp(Func<double> pass)
    {
        var previous = pass();
        for (var i = 0; i < 3; i++)
        {
            var next = pass();
            if (next <= previous * 1.05)
            {
                return;
            }

            previous = next;
        }
    }

    /// <summary>
    /// The median of several passes and their range in words. One pass of a year is a third of a second, and a
    /// neighbour's burst on this shared machine took a single pass from 1.07 to 0.64 million events/s (2026-12-06): a
    /// median is what the code does, the range shows how much the machine moved.
    /// </summary>
    private static Rates MedianOf(Func<double> pass)
    {
        var rates = Enumerable.Range(0, MeasuredPasses).Select(_ => pass()).Order().ToArray();
        return new Rates(rates[MeasuredPasses / 2], $"median of {MeasuredPasses} passes, {rates[0]:#,0}–{rates[^1]:#,0}");
    }
}
