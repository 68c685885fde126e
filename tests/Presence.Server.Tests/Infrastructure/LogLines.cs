using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Presence.Server.Tests.Infrastructure;

/// <summary>
/// What a server logged (warnings and up, as <see cref="TestServer"/> keeps them), so a test can wait for the line
/// that says something happened rather than guess how long it takes. Register with
/// <c>services: s => s.AddSingleton&lt;ILoggerProvider&gt;(lines)</c>.
/// </summary>
public sealed class LogLines : ILoggerProvider
{
    private readonly ConcurrentQueue<string> lines = new();

    public IReadOnlyCollection<string> All => lines.ToArray();

    public ILogger CreateLogger(string categoryName) => new Logger(categoryName, lines);

    public async Task<string> WaitForAsync(string fragment, string what, TimeSpan? timeout = null)
    {
        try
        {
            return await Eventually.GetAsync(() => Task.FromResult(lines.FirstOrDefault(l => l.Contains(fragment, StringComparison.Ordinal))), what, timeout);
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException($"{e.Message}; logged:\n  {string.Join("\n  ", lines.TakeLast(20))}", e);
        }
    }

    public void Dispose()
    {
    }

    private sealed class Logger(string category, ConcurrentQueue<string> lines) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            lines.Enqueue($"{logLevel} {category}: {formatter(state, exception)}{(exception is null ? "" : $" ({exception.GetType().Name}: {exception.Message})")}");
    }
}
