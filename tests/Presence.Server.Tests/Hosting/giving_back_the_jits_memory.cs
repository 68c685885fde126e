using System.Runtime.InteropServices;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using Presence.Server.Hosting;
using Presence.Server.Tests.Infrastructure;

namespace Presence.Server.Tests.Hosting;

/// <summary>
/// The JIT's scratch memory, freed but kept by glibc, made up ~12 MB of an idle server's 180 (docs/benchmarks.md);
/// <see cref="NativeMemoryTrim"/> gives it back. What it relies on is shown here on memory freed the same way: blocks
/// malloc keeps in its arenas because live blocks sit between them, resident until trimmed. How much an idle server
/// uses is the house benchmark's (rss_idle), not a test's.
/// </summary>
public sealed class giving_back_the_jits_memory
{
    private const int Block = 64 * 1024, Blocks = 640; // 40 MB, each block below glibc's threshold for mmap

    [Fact]
    public void memory_malloc_keeps_after_a_free_goes_back_to_the_system_when_trimmed()
    {
        var trim = new NativeMemoryTrim(new StubLifetime(), NullLogger<NativeMemoryTrim>.Instance);
        var fill = new byte[Block];
        Array.Fill(fill, (byte)0x5a);
        var freed = new List<IntPtr>();
        var kept = new List<IntPtr>();
        for (var i = 0; i < Blocks; i++)
        {
            var block = Marshal.AllocHGlobal(Block);
            Marshal.Copy(fill, 0, block, Block); // resident
            freed.Add(block);
            kept.Add(Marshal.AllocHGlobal(64)); // between two freed blocks: they cannot merge and be returned
        }

        var released = false;
        try
        {
            // Read before the free: the test servers of other tests in this process trim too, any time.
            var before = AnonymousKb();
            freed.ForEach(Marshal.FreeHGlobal);
            released = true;
            Assert.True(trim.TryTrim(), "malloc_trim is glibc's, and this is a glibc system");
            var after = AnonymousKb();

            Assert.True(before - after >= Block * Blocks / 2 / 1024,
                $"resident anonymous memory went from {before} to {after} kB over freeing and trimming {Block * Blocks / 1024} kB");
            Assert.Equal(1, trim.Trims);
        }
        finally
        {
            if (!released)
            {
                freed.ForEach(Marshal.FreeHGlobal);
            }

            kept.ForEach(Marshal.FreeHGlobal);
        }
    }

    [Fact]
    public async Task a_server_runs_it()
    {
        await using var server = await TestServer.StartAsync(await PostgresCluster.NewDatabaseAsync("trim"));

        Assert.Contains(server.Services.GetServices<IHostedService>(), s => s is NativeMemoryTrim);
    }

    private static long AnonymousKb() =>
        File.ReadLines("/proc/self/status").Where(l => l.StartsWith("RssAnon:", StringComparison.Ordinal))
            .Select(l => long.Parse(l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture))
            .Single();

    private sealed class StubLifetime : IHostApplicationLifetime
    {
        public CancellationToken ApplicationStarted => CancellationToken.None;
        public CancellationToken ApplicationStopping => CancellationToken.None;
        public CancellationToken ApplicationStopped => CancellationToken.None;

        public void StopApplication()
        {
        }
    }
}
