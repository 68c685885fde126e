using System.Reflection;
using BenchmarkDotNet.Attributes;
using Presence.Benchmarks;

namespace Presence.Server.Tests.Benchmarks;

/// <summary>
/// CI's dry run of tests/Presence.Benchmarks: each benchmark class is set up (where it checks that every benchmark
/// takes the path it is named for) and each benchmark runs once. Nothing is timed here; the figures come from a
/// real BenchmarkDotNet run (docs/benchmarks.md). A benchmark that throws, or whose setup finds it measuring the
/// wrong thing, fails the build instead of rotting.
/// </summary>
public sealed class every_benchmark_runs_once
{
    public static TheoryData<string> Classes()
    {
        var data = new TheoryData<string>();
        foreach (var type in BenchmarkClasses())
        {
            data.Add(type.FullName!);
        }

        return data;
    }

    [Fact]
    public void the_benchmark_project_has_benchmarks() => Assert.NotEmpty(BenchmarkClasses());

    [Theory]
    [MemberData(nameof(Classes))]
    public async Task runs_once(string className)
    {
        var type = BenchmarkClasses().Single(t => t.FullName == className);
        var instance = Activator.CreateInstance(type)!;
        await CallAllAsync<GlobalSetupAttribute>(instance);
        try
        {
            var benchmarks = type.GetMethods().Where(m => m.GetCustomAttribute<BenchmarkAttribute>() is not null).ToList();
            Assert.NotEmpty(benchmarks);
            foreach (var benchmark in benchmarks)
            {
                await AwaitIfTaskAsync(benchmark.Invoke(instance, null));
            }
        }
        finally
        {
            await CallAllAsync<GlobalCleanupAttribute>(instance);
        }
    }

    private static IReadOnlyList<Type> BenchmarkClasses() =>
        typeof(HistoryBenchmarks).Assembly.GetTypes()
            .Where(t => t is { IsClass: true, IsAbstract: false } && t.GetMethods().Any(m => m.GetCustomAttribute<BenchmarkAttribute>() is not null))
            .OrderBy(t => t.FullName)
            .ToList();

    private static async Task CallAllAsync<TAttribute>(object instance) where TAttribute : Attribute
    {
        foreach (var method in instance.GetType().GetMethods().Where(m => m.GetCustomAttribute<TAttribute>() is not null))
        {
            await AwaitIfTaskAsync(method.Invoke(instance, null));
        }
    }

    private static async Task AwaitIfTaskAsync(object? result)
    {
        switch (result)
        {
            case Task task:
                await task;
                break;
            case ValueTask valueTask:
                await valueTask;
                break;
        }
    }
}
