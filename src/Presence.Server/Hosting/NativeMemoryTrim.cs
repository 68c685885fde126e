using System.Runtime.InteropServices;

namespace Presence.Server.Hosting;

/// <summary>
/// Gives back to the system the native memory the JIT used and freed. The JIT compiles in scratch memory taken with
/// malloc; glibc keeps what was freed in its arenas for reuse, so a server that compiled its start-up and warm-up kept
/// ~12 MB of it resident while idle (a 14.8 MB anonymous region holding freed machine code, 180 → 168 MB after a
/// <c>malloc_trim</c> by hand; docs/benchmarks.md). This trims the arenas once the host has started, then whenever
/// the JIT has been quiet for a second after compiling: the tier-up after the start and a burst's compilations each
/// end with one trim, and a server that compiles nothing trims nothing. glibc only (Linux); elsewhere, or on a C
/// library without <c>malloc_trim</c> (musl), it does nothing.
/// </summary>
public sealed class NativeMemoryTrim(IHostApplicationLifetime lifetime, ILogger<NativeMemoryTrim> logger) : BackgroundService
{
    private static readonly TimeSpan Quiet = TimeSpan.FromSeconds(1);

    private long trims;

    /// <summary>How many times the arenas were trimmed.</summary>
    public long Trims => Interlocked.Read(ref trims);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!OperatingSystem.IsLinux() || !await lifetime.WaitForStartAsync(stoppingToken))
        {
            return;
        }

        // At once: the start and its warm-up compiled thousands of methods.
        var seen = System.Runtime.JitInfo.GetCompiledMethodCount();
        if (!TryTrim())
        {
            return;
        }

        var trimmedAt = seen;
        using var timer = new PeriodicTimer(Quiet);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                var compiled = System.Runtime.JitInfo.GetCompiledMethodCount();
                if (compiled == seen && compiled != trimmedAt)
                {
                    if (!TryTrim())
                    {
                        return;
                    }

                    trimmedAt = compiled;
                }

                seen = compiled;
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping.
        }
    }

    /// <summary>Trims glibc's arenas now; false where there is no <c>malloc_trim</c>.</summary>
    public bool TryTrim()
    {
        try
        {
            var released = MallocTrim(0);
            Interlocked.Increment(ref trims);
            logger.LogDebug("Trimmed the C library's arenas after the JIT's work ({Released})", released == 1 ? "memory given back" : "nothing to give back");
            return true;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            logger.LogDebug("No malloc_trim here ({Why}): the JIT's freed memory stays with the C library", e.Message);
            return false;
        }
    }

    // libc.so.6 is glibc's own name; plain "libc" finds a linker script on machines with development files. A
    // DllImport, not a LibraryImport: both arguments are plain integers, and the generator would need unsafe code.
#pragma warning disable SYSLIB1054
    [DllImport("libc.so.6", EntryPoint = "malloc_trim")]
    private static extern int MallocTrim(nuint pad);
#pragma warning restore SYSLIB1054
}
