using System.Data.Common;
using System.Globalization;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Storage;
using Microsoft.Extensions.Logging;

namespace Cadre.Storage;

/// <summary>The schema version a database is at, against what this build knows.</summary>
/// <param name="OldestCompatibleVersion">The oldest build version the applied migrations allow to run on the database.</param>
public sealed record SchemaStatus(int CurrentVersion, int LatestVersion, int OldestCompatibleVersion)
{
    public bool IsUpToDate => CurrentVersion == LatestVersion;

    /// <summary>
    /// This build can run on the database: it is at this build's version, or ahead of it by migrations
    /// that all declare this build compatible (a rolling upgrade is under way).
    /// </summary>
    public bool IsUsable => CurrentVersion >= LatestVersion && OldestCompatibleVersion <= LatestVersion;
}

/// <summary>What a database holds against this build's scripts, read without changing anything.</summary>
/// <param name="Exists">False when there is no database yet (no SQLite file, no PostgreSQL database of that name).</param>
/// <param name="Pending">This build's scripts the database has not applied, in order.</param>
/// <param name="Problem">Why this build cannot use the database (newer and incompatible, or an applied script edited), or null.</param>
internal sealed record SchemaInspection(bool Exists, SchemaStatus Status, IReadOnlyList<MigrationScript> Pending, string? Problem);

/// <summary>The database cannot be used by this build: its schema is newer, or an applied script was edited.</summary>
public sealed class SchemaMigrationException(string message) : Exception(message);

/// <summary>
/// Applies the provider's versioned SQL scripts at start-up and records each in
/// <c>cadre_schema_migrations</c>. Each script runs in its own transaction with the version row, so
/// a crash leaves the database at a whole version; a setup lock makes concurrent starts (several
/// nodes, or two processes on one SQLite file) apply every script exactly once. A database ahead of
/// this build is used only when every migration it lacks declares this build compatible
/// (<see cref="MigrationScript.CompatibleWith"/>, recorded with each version), so an older node keeps
/// running, and restarting, through a rolling upgrade.
/// </summary>
internal sealed class SchemaMigrator(
    IDbContextFactory<CadreDbContext> contexts,
    StorageProvider storage,
    ILogger<SchemaMigrator> logger,
    TimeProvider time,
    IReadOnlyList<MigrationScript>? scripts = null)
{
    public const string HistoryTable = "cadre_schema_migrations";

    // The history's compatible_with column comes with migration 8: a database has it exactly when 8 is applied.
    // (Found from the history rather than the catalog, which differs by engine; a SELECT * would break
    // PostgreSQL's prepared statements when the column appears.) Earlier rows are compatible only with themselves.
    private const int CompatibilityRecordedSince = 8;

    private readonly IReadOnlyList<MigrationScript> _scripts = scripts ?? MigrationScript.LoadEmbedded(storage.MigrationsFolder);

    public int LatestVersion => _scripts.Count == 0 ? 0 : _scripts[^1].Version;

    /// <summary>Brings the database to <see cref="LatestVersion"/>, creating it first if it does not exist.</summary>
    /// <exception cref="SchemaMigrationException">The database is newer than this build, or was migrated by different scripts.</exception>
    public Task<SchemaStatus> MigrateAsync(CancellationToken cancellationToken) => MigrateAsync(null, cancellationToken);

    /// <summary>As <see cref="MigrateAsync(CancellationToken)"/>, telling <paramref name="applied"/> of each script once its transaction commits.</summary>
    public async Task<SchemaStatus> MigrateAsync(Action<MigrationScript>? applied, CancellationToken cancellationToken)
    {
        await storage.PrepareAsync(cancellationToken);
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var creator = db.GetService<IRelationalDatabaseCreator>();
        if (!await creator.ExistsAsync(cancellationToken))
        {
            await creator.CreateAsync(cancellationToken);
            logger.LogInformation("Created database {Database}", storage.Target.Description);
        }

        var count = 0;
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
                if (count > 0)
                {
                    logger.LogInformation("Database schema is at version {Version} after applying {Count} migration(s)", LatestVersion, count);
                }

                var status = StatusOf(history);
                if (status.CurrentVersion > LatestVersion)
                {
                    logger.LogWarning(
                        "The database schema is at version {Version}, newer than this build's {Latest}; this build runs on it because every newer migration " +
                        "declares it compatible. Finish the upgrade: replace the nodes running this build.", status.CurrentVersion, LatestVersion);
                }

                return status;
            }

            logger.LogInformation("Applying migration {Version} {Name}", next.Version, next.Name);
            await ExecuteAsync(connection, dbTransaction, next.Sql, cancellationToken);
            var recordsCompatibility = next.Version >= CompatibilityRecordedSince;
            await using (var record = connection.CreateCommand())
            {
                record.Transaction = dbTransaction;
                record.CommandText = recordsCompatibility
                    ? $"INSERT INTO {HistoryTable} (version, name, checksum, applied_at, compatible_with) VALUES (@version, @name, @checksum, @appliedAt, @compatibleWith)"
                    : $"INSERT INTO {HistoryTable} (version, name, checksum, applied_at) VALUES (@version, @name, @checksum, @appliedAt)";
                AddParameter(record, "@version", next.Version);
                AddParameter(record, "@name", next.Name);
                AddParameter(record, "@checksum", next.Checksum);
                AddParameter(record, "@appliedAt", time.GetUtcNow().UtcDateTime.ToString("O", CultureInfo.InvariantCulture));
                if (recordsCompatibility)
                {
                    AddParameter(record, "@compatibleWith", next.CompatibleWith);
                }

                await record.ExecuteNonQueryAsync(cancellationToken);
            }

            await transaction.CommitAsync(cancellationToken);
            count++;
            applied?.Invoke(next);
        }
    }

    /// <summary>
    /// Reads the database's version without changing anything; for readiness checks, so a node whose
    /// database a newer node moved past it without declaring it compatible stops taking traffic.
    /// </summary>
    public async Task<SchemaStatus> GetStatusAsync(CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var connection = db.Database.GetDbConnection();
        await db.Database.OpenConnectionAsync(cancellationToken);
        try
        {
            return StatusOf(await ReadHistoryAsync(connection, null, cancellationToken));
        }
        catch (DbException ex) when (storage.IsMissingTable(ex))
        {
            // The history table does not exist yet: nothing has been migrated.
            return new SchemaStatus(0, LatestVersion, 0);
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }

    /// <summary>
    /// Everything an operator asks before an upgrade (<c>cadre db status</c>): whether the database exists,
    /// its version, the scripts it lacks and whether this build may run on it. Changes nothing: a database
    /// that does not exist is not created, and nothing is locked, so it may run beside a live server.
    /// </summary>
    public async Task<SchemaInspection> InspectAsync(CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        if (!await db.GetService<IRelationalDatabaseCreator>().ExistsAsync(cancellationToken))
        {
            return new SchemaInspection(false, new SchemaStatus(0, LatestVersion, 0), _scripts, null);
        }

        var connection = db.Database.GetDbConnection();
        await db.Database.OpenConnectionAsync(cancellationToken);
        try
        {
            SortedDictionary<int, AppliedMigration> history;
            try
            {
                history = await ReadHistoryAsync(connection, null, cancellationToken);
            }
            catch (DbException ex) when (storage.IsMissingTable(ex))
            {
                history = [];
            }

            string? problem = null;
            try
            {
                Verify(history);
            }
            catch (SchemaMigrationException ex)
            {
                problem = ex.Message;
            }

            return new SchemaInspection(true, StatusOf(history), [.. _scripts.Where(script => !history.ContainsKey(script.Version))], problem);
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }

    private SchemaStatus StatusOf(SortedDictionary<int, AppliedMigration> history) => history.Count == 0
        ? new SchemaStatus(0, LatestVersion, 0)
        : new SchemaStatus(history.Keys.Max(), LatestVersion, history.Values.Max(migration => migration.CompatibleWith));

    private void Verify(SortedDictionary<int, AppliedMigration> history)
    {
        var newest = history.Count == 0 ? 0 : history.Keys.Max();
        // Ahead of this build: usable only if every migration this build lacks allows builds at its version.
        if (history.Values.FirstOrDefault(m => m.Version > LatestVersion && m.CompatibleWith > LatestVersion) is { } blocking)
        {
            var reason = blocking.CompatibleWith == blocking.Version
                ? $"migration {blocking.Version} ('{blocking.Name}') is not declared compatible with older builds"
                : $"migration {blocking.Version} ('{blocking.Name}') is compatible only with builds from version {blocking.CompatibleWith} on";
            throw new SchemaMigrationException(
                $"The database ({storage.Target.Description}) has schema version {newest} ('{history[newest].Name}'), " +
                $"but this build of Cadre only knows versions up to {LatestVersion}, and {reason}. It was upgraded by a newer Cadre; " +
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

    private sealed record AppliedMigration(int Version, string Name, string Checksum, int CompatibleWith);

    private static async Task<SortedDictionary<int, AppliedMigration>> ReadHistoryAsync(
        DbConnection connection, DbTransaction? transaction, CancellationToken cancellationToken)
    {
        var history = new SortedDictionary<int, AppliedMigration>();
        await using (var command = connection.CreateCommand())
        {
            command.Transaction = transaction;
            command.CommandText = $"SELECT version, name, checksum FROM {HistoryTable}";
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                var version = Convert.ToInt32(reader.GetValue(0), CultureInfo.InvariantCulture);
                history[version] = new AppliedMigration(version, reader.GetString(1), reader.GetString(2), version);
            }
        }

        if (history.ContainsKey(CompatibilityRecordedSince))
        {
            await using var command = connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = $"SELECT version, compatible_with FROM {HistoryTable} WHERE compatible_with IS NOT NULL";
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                var version = Convert.ToInt32(reader.GetValue(0), CultureInfo.InvariantCulture);
                history[version] = history[version] with { CompatibleWith = Convert.ToInt32(reader.GetValue(1), CultureInfo.InvariantCulture) };
            }
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
