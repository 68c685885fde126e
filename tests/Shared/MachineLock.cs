namespace Presence.Tests.Shared;

/// <summary>
/// One holder at a time on this machine, across test projects: `dotnet test` on the solution runs the test projects
/// side by side, and two real-QEMU labs, or a lab and Chromium, on two cores starve each other's timings (migrations
/// that never converge, timeouts that fire). A file lock (flock on Linux) that the system releases if the holder dies.
/// Linked into each test project that needs it (tests/Shared is no project of its own).
/// </summary>
public sealed class MachineLock : IDisposable
{
    /// <summary>What QEMU guests and Chromium share: the machine's cores.</summary>
    public const string Heavy = "heavy";

    private readonly FileStream file;

    private MachineLock(FileStream file) => this.file = file;

    public static async Task<MachineLock> AcquireAsync(string name = Heavy)
    {
        var path = Path.Combine(Path.GetTempPath(), $"presence-tests-{name}.lock");
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(10);
        while (true)
        {
            try
            {
                return new MachineLock(new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None));
            }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                // Another test holds it; its end releases the lock.
                await Task.Delay(100);
            }
        }
    }

    public void Dispose() => file.Dispose();
}
