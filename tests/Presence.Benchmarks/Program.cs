using BenchmarkDotNet.Running;
using Presence.Benchmarks;

// dotnet run -c Release --project tests/Presence.Benchmarks -- --filter '*'
// Speed and memory goals live here, never in timed unit tests: see docs/benchmarks.md.
// A real server process is timed by its own verb (BenchmarkDotNet's in-process loop cannot restart a server):
// dotnet run -c Release --project tests/Presence.Benchmarks -- first-signal
if (args is [FirstSignalAfterStart.Verb, ..])
{
    return await FirstSignalAfterStart.RunAsync(args[1..]);
}

BenchmarkSwitcher.FromAssembly(typeof(HistoryBenchmarks).Assembly).Run(args);
return 0;
