using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Cadre.Storage.Sqlite;

/// <summary>
/// Copies the write-ahead log back into the database file from a background thread.
/// SQLite's own automatic checkpoint runs inside whichever commit finds the log past 1 000 pages,
/// while that commit still holds the database's single write lock: under load that was a third of
/// every commit's time, and an occasional commit (and every writer queued behind it) paid for a
/// whole checkpoint. A passive checkpoint here takes no write lock, so writers go on meanwhile.
/// Connections keep a much higher automatic threshold (<see cref="SqliteConnectionSettings"/>) as a
/// backstop should this thread fall behind. Durability is unchanged: a commit is in the log before
/// it is acknowledged either way.
/// </summary>
internal sealed class SqliteCheckpointer(StorageProvider storage, ILogger<SqliteCheckpointer> logger) : BackgroundService
{
    internal static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(200);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (storage.Kind != DatabaseKind.Sqlite)
        {
            return;
        }

        // The wall clock, not the injected one: this is the file's upkeep, not the engine's time, and a test clock
        // moved a day ahead would otherwise owe it 432 000 checkpoints at once.
        using var timer = new PeriodicTimer(Interval, TimeProvider.System);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                await CheckpointAsync("PASSIVE", stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping.
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        if (storage.Kind == DatabaseKind.Sqlite)
        {
            // Leaves a short log behind for the next start (or a copy of the file) to read.
            await CheckpointAsync("TRUNCATE", cancellationToken);
        }
    }

    private async Task CheckpointAsync(string mode, CancellationToken cancellationToken)
    {
        try
        {
            await using var connection = new SqliteConnection(storage.Target.ConnectionString);
            await connection.OpenAsync(cancellationToken);
            await using var command = connection.CreateCommand();
            command.CommandText = $"PRAGMA wal_checkpoint({mode});";
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
        catch (SqliteException ex)
        {
            // A busy or briefly unavailable file: the next tick (or a commit past the backstop) catches up.
            logger.LogDebug(ex, "SQLite {Mode} checkpoint skipped", mode);
        }
    }
}
