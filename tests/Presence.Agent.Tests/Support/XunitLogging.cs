using Microsoft.Extensions.Logging;
using Xunit.Abstractions;

namespace Presence.Agent.Tests.Support;

/// <summary>
/// Agent logs in the test's output, so a failing test shows what the agents thought, and kept in <see cref="Lines"/>,
/// so a test can wait for the line that says something happened.
/// </summary>
public sealed class XunitLoggerProvider(ITestOutputHelper output) : ILoggerProvider
{
    private readonly System.Collections.Concurrent.ConcurrentQueue<string> lines = new();

    public IReadOnlyCollection<string> Lines => lines.ToArray();

    public ILogger CreateLogger(string categoryName) => new XunitLogger(output, categoryName, lines);

    /// <summary>The first line (already logged or still to come) that matches; the patience is a guard against hanging only.</summary>
    public async Task<string> WaitForLineAsync(Func<string, bool> match, string what, TimeSpan? patience = null)
    {
        var deadline = DateTime.UtcNow + (patience ?? Watcher.Patience);
        while (true)
        {
            if (lines.FirstOrDefault(match) is { } line)
            {
                return line;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"waited {(patience ?? Watcher.Patience).TotalSeconds:0} s for a log line saying {what}");
            }

            await Task.Delay(50);
        }
    }

    public void Dispose()
    {
    }

    private sealed class XunitLogger(ITestOutputHelper output, string category, System.Collections.Concurrent.ConcurrentQueue<string> lines) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lines.Enqueue(formatter(state, exception));
            try
            {
                output.WriteLine($"{DateTime.Now:HH:mm:ss.fff} {logLevel,-11} {category}: {formatter(state, exception)}{(exception is null ? "" : " " + exception)}");
            }
            catch (InvalidOperationException)
            {
                // The test has finished; late log lines have nowhere to go.
            }
        }
    }
}
