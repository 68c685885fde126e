using BenchmarkDotNet.Running;
using Presence.Benchmarks;
using Presence.Benchmarks.EndToEnd;

// dotnet run -c Release --project tests/Presence.Benchmarks -- --filter '*'   (the micro-benchmarks, BenchmarkDotNet)
// dotnet run -c Release --project tests/Presence.Benchmarks -- house          (the end-to-end house benchmark)
// dotnet run -c Release --project tests/Presence.Benchmarks -- first-signal   (the first signal after a start vs warm ones)
// dotnet run -c Release --project tests/Presence.Benchmarks -- replay-year   (the in-memory replay
//   figures alone, as `house` measures them in a process of their own, under the collector
//   the server's runtimeconfig names; --people N --days N)
// Speed and memory goals live here, never in timed unit tests: see docs/benchmarks.md. A real server process is timed
// by its own verb: BenchmarkDotNet's in-process loop cannot restart a server.
if (args is [ReplayYear.Verb, ..])
{
    return ReplayYear.RunHere(args[1..]);
}

if (args is [FirstSignalAfterStart.Verb, ..])
{
    return await FirstSignalAfterStart.RunAsync(args[1..]);
}

if (args is ["house", ..])
{
    if (args.Skip(1).Any(a => a is "--help" or "-h"))
    {
        Console.WriteLine(HouseBenchOptions.Usage);
        return 0;
    }

    HouseBenchOptions options;
    try
    {
        options = HouseBenchOptions.Parse(args[1..]);
    }
    catch (ArgumentException e)
    {
        Console.Error.WriteLine(e.Message);
        return 2;
    }

    var report = await HouseBenchmark.RunAsync(options, Console.Out);
    Console.WriteLine();
    Console.WriteLine(report.Markdown());
    foreach (var failure in report.Failures)
    {
        Console.Error.WriteLine("FAILED: " + failure);
    }

    // A run that lost a signal is a failed run, whatever its rates: exit non-zero so no script takes it for a result.
    return report.Failures.Count == 0 ? 0 : 3;
}

BenchmarkSwitcher.FromAssembly(typeof(HistoryBenchmarks).Assembly).Run(args);
return 0;
