using BenchmarkDotNet.Running;

// dotnet run -c Release --project tests/Presence.Benchmarks -- --filter '*'
// Speed and memory goals live here, never in timed unit tests: see docs/benchmarks.md.
BenchmarkSwitcher.FromAssembly(typeof(Presence.Benchmarks.HistoryBenchmarks).Assembly).Run(args);
