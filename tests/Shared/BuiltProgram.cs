using System.Diagnostics;

namespace Presence.Tests.Shared;

/// <summary>
/// A program of the repository as built in its own folder (src/&lt;project&gt;/bin/&lt;configuration&gt;/&lt;framework&gt;),
/// run in a process of its own as a person runs it. Linked into each test project that needs it.
/// </summary>
public static class BuiltProgram
{
    public sealed record Run(int ExitCode, string Stdout, string Stderr)
    {
        public string Output => Stdout + Stderr;
    }

    /// <summary>
    /// The project's own build beside this test project's: in the test's folder the program would trip over the test
    /// framework's assemblies, which its deps do not list.
    /// </summary>
    public static string PathOf(string project)
    {
        // …/tests/<test project>/bin/<configuration>/<framework>/ → …/src/<project>/bin/<configuration>/<framework>/
        var tests = AppContext.BaseDirectory;
        var marker = Path.DirectorySeparatorChar + "tests" + Path.DirectorySeparatorChar;
        var at = tests.LastIndexOf(marker, StringComparison.Ordinal);
        var rest = at < 0 ? "" : tests[(at + marker.Length)..];
        var build = rest[(rest.IndexOf(Path.DirectorySeparatorChar) + 1)..];
        var dll = at < 0 ? null : Path.Combine(tests[..at], "src", project, build, project + ".dll");
        return dll is not null && File.Exists(dll)
            ? dll
            : throw new InvalidOperationException($"{project}'s own build is not where expected ({dll ?? tests}); build the solution first");
    }

    /// <summary>Runs the program to its end, in its own folder; see <see cref="DotnetAsync"/>.</summary>
    public static Task<Run> RunAsync(string dll, IEnumerable<string> args, TimeSpan timeout, Action<ProcessStartInfo>? configure = null) =>
        DotnetAsync([dll, .. args], Path.GetDirectoryName(dll)!, timeout, configure);

    /// <summary>
    /// `dotnet` with <paramref name="args"/>, to its end; one still running after <paramref name="timeout"/> is killed
    /// and the run fails with what it printed.
    /// </summary>
    public static async Task<Run> DotnetAsync(IReadOnlyList<string> args, string workingDirectory, TimeSpan timeout, Action<ProcessStartInfo>? configure = null)
    {
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = workingDirectory,
        };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        configure?.Invoke(start);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var guard = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(guard.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            throw new TimeoutException($"dotnet {string.Join(' ', args)} still ran after {timeout}:\n{await stdout}{await stderr}");
        }

        return new Run(process.ExitCode, await stdout, await stderr);
    }
}
