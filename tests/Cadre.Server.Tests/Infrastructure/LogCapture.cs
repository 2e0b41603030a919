using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Cadre.Server.Tests.Infrastructure;

/// <summary>
/// A logger provider that keeps every formatted message and exception text, for assertions about what
/// gets logged, and each entry with its category and the values of the scopes it was written in.
/// </summary>
public sealed class LogCapture : ILoggerProvider, ISupportExternalScope
{
    private readonly ConcurrentQueue<string> _messages = new();
    private readonly ConcurrentQueue<LogEntry> _entries = new();
    private IExternalScopeProvider? _scopes;

    public IReadOnlyCollection<string> Messages => _messages;

    public IReadOnlyCollection<LogEntry> Entries => _entries;

    public ILogger CreateLogger(string categoryName) => new Logger(categoryName, this);

    public void SetScopeProvider(IExternalScopeProvider scopeProvider) => _scopes = scopeProvider;

    public void Dispose()
    {
    }

    private sealed class Logger(string category, LogCapture capture) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => capture._scopes?.Push(state);

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            ArgumentNullException.ThrowIfNull(formatter);
            var message = formatter(state, exception);
            capture._messages.Enqueue($"{logLevel} {category}: {message} {exception}");
            var scopes = new Dictionary<string, object?>(StringComparer.Ordinal);
            capture._scopes?.ForEachScope(
                (scope, values) =>
                {
                    if (scope is IEnumerable<KeyValuePair<string, object?>> pairs)
                    {
                        foreach (var (key, value) in pairs)
                        {
                            values[key] = value;
                        }
                    }
                },
                scopes);
            capture._entries.Enqueue(new LogEntry(logLevel, category, message, scopes));
        }
    }
}

/// <summary>One captured log entry: the values of its scopes by name (the innermost wins).</summary>
public sealed record LogEntry(LogLevel Level, string Category, string Message, IReadOnlyDictionary<string, object?> Scopes);
