using System.Data.Common;
using System.Globalization;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Storage;
using Microsoft.Extensions.Logging;

namespace Cadre.Storage;

/// <summary>The schema version a database is at, against what this build knows.</summary>
public sealed record SchemaStatus(int CurrentVersion, int LatestVersion)
{
    public bool IsUpToDate => CurrentVersion == LatestVersion;
}

/// <summary>The database cannot be used by this build: its schema is newer, or an applied script was edited.</summary>
public sealed class SchemaMigrationException(string message) : Exception(message);

/// <summary>
/// Applies the provider's versioned SQL scripts at start-up and records each in
/// <c>cadre_schema_migrations</c>. Each script runs in its own transaction with the version row, so
/// a crash leaves the database at a whole version; a setup lock makes concurrent starts (several
/// nodes, or two processes on one SQLite file) apply every script exactly once.
/// </summary>
internal sealed class SchemaMigrator(
    IDbContextFactory<CadreDbContext> contexts,
    StorageProvider storage,
    ILogger<SchemaMigrator> logger,
    TimeProvider time,
    IReadOnlyList<MigrationScript>? scripts = null)
{
    public const string HistoryTable = "cadre_schema_migrations";

    private readonly IReadOnlyList<MigrationScript> _scripts = scripts ?? MigrationScript.LoadEmbedded(storage.MigrationsFolder);

    public int LatestVersion => _scripts.Count == 0 ? 0 : _scripts[^1].Version;

    /// <summary>Brings the database to <see cref="LatestVersion"/>, creating it first if it does not exist.</summary>
    /// <exception cref="SchemaMigrationException">The database is newer than this build, or was migrated by different scripts.</exception>
    public async Task<SchemaStatus> MigrateAsync(CancellationToken cancellationToken)
    {
        await storage.PrepareAsync(cancellationToken);
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var creator = db.GetService<IRelationalDatabaseCreator>();
        if (!await creator.ExistsAsync(cancellationToken))
        {
            await creator.CreateAsync(cancellationToken);
            logger.LogInformation("Created database {Database}", storage.Target.Description);
        }

        var applied = 0;
        while (true)
        {
            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            var connection = db.Database.GetDbConnection();
            var dbTransaction = transaction.GetDbTransaction();
            await storage.LockForSetupAsync(connection, dbTransaction, cancellationToken);
            await ExecuteAsync(connection, dbTransaction,
                $"CREATE TABLE IF NOT EXISTS {HistoryTable} (version INTEGER NOT NULL PRIMARY KEY, name TEXT NOT NULL, checksum TEXT NOT NULL, applied_at TEXT NOT NULL)",
                cancellationToken);

            var history = await ReadHistoryAsync(connection, dbTransaction, cancellationToken);
            Verify(history);
            var next = _scripts.FirstOrDefault(script => !history.ContainsKey(script.Version));
            if (next is null)
            {
                await transaction.CommitAsync(cancellationToken);
                if (applied > 0)
                {
                    logger.LogInformation("Database schema is at version {Version} after applying {Count} migration(s)", LatestVersion, applied);
                }

                return new SchemaStatus(history.Count == 0 ? 0 : history.Keys.Max(), LatestVersion);
            }

            logger.LogInformation("Applying migration {Version} {Name}", next.Version, next.Name);
            await ExecuteAsync(connection, dbTransaction, next.Sql, cancellationToken);
            await using (var record = connection.CreateCommand())
            {
                record.Transaction = dbTransaction;
                record.CommandText = $"INSERT INTO {HistoryTable} (version, name, checksum, applied_at) VALUES (@version, @name, @checksum, @appliedAt)";
                AddParameter(record, "@version", next.Version);
                AddParameter(record, "@name", next.Name);
                AddParameter(record, "@checksum", next.Checksum);
                AddParameter(record, "@appliedAt", time.GetUtcNow().UtcDateTime.ToString("O", CultureInfo.InvariantCulture));
                await record.ExecuteNonQueryAsync(cancellationToken);
            }

            await transaction.CommitAsync(cancellationToken);
            applied++;
        }
    }

    /// <summary>Reads the current version without changing anything; for readiness checks.</summary>
    public async Task<SchemaStatus> GetStatusAsync(CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var connection = db.Database.GetDbConnection();
        await db.Database.OpenConnectionAsync(cancellationToken);
        try
        {
            await using var command = connection.CreateCommand();
            command.CommandText = $"SELECT MAX(version) FROM {HistoryTable}";
            var value = await command.ExecuteScalarAsync(cancellationToken);
            var current = value is null or DBNull ? 0 : Convert.ToInt32(value, CultureInfo.InvariantCulture);
            return new SchemaStatus(current, LatestVersion);
        }
        catch (DbException ex) when (storage.IsMissingTable(ex))
        {
            // The history table does not exist yet: nothing has been migrated.
            return new SchemaStatus(0, LatestVersion);
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }

    private void Verify(Dictionary<int, (string Name, string Checksum)> history)
    {
        var newest = history.Count == 0 ? 0 : history.Keys.Max();
        if (newest > LatestVersion)
        {
            throw new SchemaMigrationException(
                $"The database ({storage.Target.Description}) has schema version {newest} ('{history[newest].Name}'), " +
                $"but this build of Cadre only knows versions up to {LatestVersion}. It was upgraded by a newer Cadre; " +
                "run that version (or newer), or restore a backup taken before the upgrade. Nothing was changed.");
        }

        foreach (var script in _scripts)
        {
            if (history.TryGetValue(script.Version, out var applied) && applied.Checksum != script.Checksum)
            {
                throw new SchemaMigrationException(
                    $"Migration {script.Version} ('{script.Name}') differs from the script that was applied to {storage.Target.Description}. " +
                    "Applied migrations must never be edited; add a new migration instead. Nothing was changed.");
            }
        }
    }

    private static async Task<Dictionary<int, (string Name, string Checksum)>> ReadHistoryAsync(
        DbConnection connection, DbTransaction transaction, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = $"SELECT version, name, checksum FROM {HistoryTable}";
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var history = new Dictionary<int, (string, string)>();
        while (await reader.ReadAsync(cancellationToken))
        {
            history[Convert.ToInt32(reader.GetValue(0), CultureInfo.InvariantCulture)] = (reader.GetString(1), reader.GetString(2));
        }

        return history;
    }

    private static async Task ExecuteAsync(DbConnection connection, DbTransaction transaction, string sql, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static void AddParameter(DbCommand command, string name, object value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value;
        command.Parameters.Add(parameter);
    }
}
