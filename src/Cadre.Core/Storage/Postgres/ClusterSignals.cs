using System.Text.Json;
using System.Threading.Channels;
using Cadre.Runs;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Cadre.Storage.Postgres;

/// <summary>
/// Carries each node's run signals (<see cref="RunNotifier"/>) to every other node on the same
/// PostgreSQL database with <c>NOTIFY</c>, and applies theirs here from a <c>LISTEN</c>ing
/// connection: a stream on one node wakes for events a run commits on another, idle workers
/// everywhere wake for new tasks, and halts and interrupts reach the attempt wherever it runs.
/// Signals are sent after their commit, coalesced (many commits' signals in one notification), and
/// may be lost (a node dies between its commit and the send, a connection drops): every party that
/// waits also polls the database, so a lost signal costs at most a poll interval. After the
/// listening connection is (re)established, everything here looks at the database afresh. On SQLite
/// (one node by design) it does nothing.
/// </summary>
internal sealed partial class ClusterSignals : BackgroundService
{
    /// <summary>The notification channel, per database (PostgreSQL scopes NOTIFY to the database).</summary>
    public const string Channel = "cadre_signals";

    // PostgreSQL refuses payloads of 8000 bytes or more; a signal is under 100 bytes.
    private const int MaxPayloadChars = 7000;

    private static readonly TimeSpan MaxReconnectDelay = TimeSpan.FromSeconds(5);

    private readonly StorageProvider _storage;
    private readonly RunNotifier _notifier;
    private readonly ILogger<ClusterSignals> _logger;

    // Bounded: a sender that cannot keep up (the database is down) drops the oldest, which polling covers.
    private readonly Channel<ClusterSignal> _outbox = System.Threading.Channels.Channel.CreateBounded<ClusterSignal>(
        new BoundedChannelOptions(10_000) { SingleReader = true, FullMode = BoundedChannelFullMode.DropOldest });

    /// <summary>This process's name on the notifications it sends, so it skips its own (already applied here).</summary>
    private readonly string _origin = Guid.NewGuid().ToString("N")[..12];

    public ClusterSignals(StorageProvider storage, RunNotifier notifier, ILogger<ClusterSignals> logger)
    {
        _storage = storage;
        _notifier = notifier;
        _logger = logger;
        if (storage.Kind == DatabaseKind.Postgres)
        {
            // Set before anything commits: hosted services are built before the host starts any of them.
            notifier.Outbound = signal => _outbox.Writer.TryWrite(signal);
        }
    }

    /// <summary>Whether the listening connection is up (signals from other nodes arrive).</summary>
    public bool Listening { get; private set; }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (_storage.Kind != DatabaseKind.Postgres)
        {
            return;
        }

        var connectionString = new NpgsqlConnectionStringBuilder(_storage.Target.ConnectionString)
        {
            // Idle connections are probed, so a dead server or network is noticed while only listening.
            KeepAlive = 10,
            ApplicationName = "cadre-signals",
        };
        await using var sending = new NpgsqlDataSourceBuilder(new NpgsqlConnectionStringBuilder(connectionString.ConnectionString) { MaxPoolSize = 2 }.ConnectionString).Build();
        await using var listening = new NpgsqlDataSourceBuilder(new NpgsqlConnectionStringBuilder(connectionString.ConnectionString) { Pooling = false }.ConnectionString).Build();
        await Task.WhenAll(SendAsync(sending, stoppingToken), ListenAsync(listening, stoppingToken));
    }

    private async Task SendAsync(NpgsqlDataSource dataSource, CancellationToken stoppingToken)
    {
        var reader = _outbox.Reader;
        var batch = new List<ClusterSignal>();
        var seen = new HashSet<ClusterSignal>();
        var delay = TimeSpan.FromMilliseconds(100);
        try
        {
            while (await reader.WaitToReadAsync(stoppingToken))
            {
                batch.Clear();
                seen.Clear();
                var work = 0;
                var chars = 0;
                while (chars < MaxPayloadChars && reader.TryRead(out var signal))
                {
                    if (signal.Kind == ClusterSignalKind.Work)
                    {
                        work += signal.Count;
                    }
                    else if (seen.Add(signal))
                    {
                        batch.Add(signal);
                        chars += 8 + (signal.WorkspaceId?.Length ?? 0) + (signal.RunId?.Length ?? 0);
                    }
                }

                if (work > 0)
                {
                    batch.Add(new ClusterSignal(ClusterSignalKind.Work, Count: work));
                }

                try
                {
                    await using var command = dataSource.CreateCommand($"SELECT pg_notify('{Channel}', $1)");
                    command.Parameters.Add(new NpgsqlParameter { Value = Serialize(_origin, batch) });
                    await command.ExecuteNonQueryAsync(stoppingToken);
                    delay = TimeSpan.FromMilliseconds(100);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    // These signals are lost; the other nodes' polling finds what they announced.
                    LogSendFailed(_logger, ex);
                    await Task.Delay(delay, stoppingToken);
                    delay = delay * 2 < MaxReconnectDelay ? delay * 2 : MaxReconnectDelay;
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task ListenAsync(NpgsqlDataSource dataSource, CancellationToken stoppingToken)
    {
        var delay = TimeSpan.FromMilliseconds(200);
        var failures = 0;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var connection = await dataSource.OpenConnectionAsync(stoppingToken);
                connection.Notification += (_, e) => Receive(e.Payload);
                await using (var listen = new NpgsqlCommand($"LISTEN {Channel}", connection))
                {
                    await listen.ExecuteNonQueryAsync(stoppingToken);
                }

                Listening = true;
                if (failures > 0)
                {
                    LogListening(_logger, failures);
                }

                failures = 0;
                delay = TimeSpan.FromMilliseconds(200);
                // Whatever other nodes said while this connection was not listening is unknown here.
                _notifier.Resync();
                while (true)
                {
                    await connection.WaitAsync(stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex)
            {
                // Whatever broke the connection (a restarted server, a network cut), it is opened again.
                Listening = false;
                if (failures++ == 0)
                {
                    LogListenFailed(_logger, ex);
                }

                await Task.Delay(delay, stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                delay = delay * 2 < MaxReconnectDelay ? delay * 2 : MaxReconnectDelay;
            }
        }

        Listening = false;
    }

    private void Receive(string payload)
    {
        try
        {
            var (origin, signals) = Deserialize(payload);
            if (origin == _origin)
            {
                return;
            }

            foreach (var signal in signals)
            {
                _notifier.Apply(signal);
            }
        }
        catch (Exception ex) when (ex is JsonException or FormatException or InvalidOperationException or KeyNotFoundException)
        {
            // Not ours (something else notifies on the channel) or from a newer build: ignored.
            LogUnreadable(_logger, ex);
        }
    }

    // Compact arrays: ["e", workspace, run], ["w", count], ["f" | "h" | "i", run].
    internal static string Serialize(string origin, IReadOnlyList<ClusterSignal> signals)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("from", origin);
            json.WriteStartArray("signals");
            foreach (var signal in signals)
            {
                json.WriteStartArray();
                switch (signal.Kind)
                {
                    case ClusterSignalKind.RunEvents:
                        json.WriteStringValue("e");
                        json.WriteStringValue(signal.WorkspaceId);
                        json.WriteStringValue(signal.RunId);
                        break;
                    case ClusterSignalKind.Work:
                        json.WriteStringValue("w");
                        json.WriteNumberValue(signal.Count);
                        break;
                    default:
                        json.WriteStringValue(signal.Kind switch { ClusterSignalKind.Finished => "f", ClusterSignalKind.Halted => "h", _ => "i" });
                        json.WriteStringValue(signal.RunId);
                        break;
                }

                json.WriteEndArray();
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }

    internal static (string Origin, List<ClusterSignal> Signals) Deserialize(string payload)
    {
        using var document = JsonDocument.Parse(payload);
        var root = document.RootElement;
        var signals = new List<ClusterSignal>();
        foreach (var item in root.GetProperty("signals").EnumerateArray())
        {
            var kind = item[0].GetString();
            ClusterSignal? signal = kind switch
            {
                "e" => new ClusterSignal(ClusterSignalKind.RunEvents, item[1].GetString(), item[2].GetString()),
                "w" => new ClusterSignal(ClusterSignalKind.Work, Count: Math.Clamp(item[1].GetInt32(), 0, 1_000)),
                "f" => new ClusterSignal(ClusterSignalKind.Finished, RunId: item[1].GetString()),
                "h" => new ClusterSignal(ClusterSignalKind.Halted, RunId: item[1].GetString()),
                "i" => new ClusterSignal(ClusterSignalKind.Interrupted, RunId: item[1].GetString()),
                _ => null,
            };
            if (signal is not null)
            {
                signals.Add(signal);
            }
        }

        return (root.GetProperty("from").GetString() ?? "", signals);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not listen for other nodes' signals; retrying (until then, this node polls)")]
    private static partial void LogListenFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "Listening for other nodes' signals again after {Failures} failed attempt(s)")]
    private static partial void LogListening(ILogger logger, int failures);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Could not send signals to other nodes; they will find the news by polling")]
    private static partial void LogSendFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Ignored an unreadable notification on the signals channel")]
    private static partial void LogUnreadable(ILogger logger, Exception exception);
}
