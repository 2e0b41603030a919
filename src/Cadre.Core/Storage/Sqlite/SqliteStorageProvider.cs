using System.Data.Common;
using Cadre.Personas;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;

namespace Cadre.Storage.Sqlite;

/// <summary>The embedded default: one SQLite file in write-ahead-log mode.</summary>
internal sealed class SqliteStorageProvider(DatabaseTarget target) : StorageProvider(target)
{
    // https://www.sqlite.org/rescode.html
    private const int SqliteBusy = 5;
    private const int SqliteLocked = 6;
    private const int SqliteConstraintUnique = 2067;
    private const int SqliteConstraintPrimaryKey = 1555;

    public override string MigrationsFolder => "Sqlite";

    public override void Configure(DbContextOptionsBuilder options) =>
        options.UseSqlite(Target.ConnectionString).UseSnakeCaseNamingConvention();

    public override async Task PrepareAsync(CancellationToken cancellationToken)
    {
        var path = new SqliteConnectionStringBuilder(Target.ConnectionString).DataSource;
        var directory = Path.GetDirectoryName(path);
        if (!string.IsNullOrEmpty(directory))
        {
            Directory.CreateDirectory(directory);
        }

        await using var connection = new SqliteConnection(Target.ConnectionString);
        await connection.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        // WAL lets readers run while one writer commits; the mode is stored in the file, so once is enough.
        command.CommandText = "PRAGMA journal_mode = WAL;";
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    // Microsoft.Data.Sqlite begins transactions with BEGIN IMMEDIATE, which already takes the
    // database's single write lock: nothing more to do.
    public override Task LockForSetupAsync(DbConnection connection, DbTransaction transaction, CancellationToken cancellationToken) =>
        Task.CompletedTask;

    public override bool IsUniqueViolation(DbUpdateException exception) =>
        exception?.InnerException is SqliteException { SqliteExtendedErrorCode: SqliteConstraintUnique or SqliteConstraintPrimaryKey };

    public override IQueryable<Persona> PersonasMatching(CadreDbContext db, string workspaceId, IReadOnlyList<string> words)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(words);
        // Each word quoted (so FTS5 syntax in it is inert) and prefix-matched; adjacent terms are ANDed.
        var match = string.Join(' ', words.Select(w => $"\"{w.Replace("\"", "", StringComparison.Ordinal)}\"*"));
        var matching = db.Database.SqlQueryRaw<string>(
            "SELECT k.persona_id AS \"Value\" FROM personas_fts JOIN persona_search_keys k ON k.search_id = personas_fts.rowid WHERE personas_fts MATCH {0}",
            match);
        return db.Personas.Where(p => p.WorkspaceId == workspaceId && matching.Contains(p.Id));
    }

    // SQLite has one writer at a time, so a plain UPDATE … RETURNING over the chosen IDs is already exclusive.
    public override Task<List<Runs.RunTask>> LeaseTasksAsync(
        CadreDbContext db, string owner, int max, DateTime now, DateTime leaseUntil, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        return db.Tasks.FromSqlRaw(
            "UPDATE tasks SET status = 'leased', lease_owner = {0}, lease_expires_at = {1} " +
            $"WHERE status = 'queued' AND id IN ({ReadyTasksInTurn}) RETURNING *",
            owner, leaseUntil, now, max).AsNoTracking().ToListAsync(cancellationToken);
    }

    // SQLite reports a missing table as a generic SQLITE_ERROR; only the message tells it apart.
    public override bool IsMissingTable(DbException exception) =>
        exception is SqliteException { SqliteErrorCode: 1 } sqlite && sqlite.Message.Contains("no such table", StringComparison.Ordinal);

    public override bool IsTransientFailure(Exception exception) =>
        exception is SqliteException { SqliteErrorCode: SqliteBusy or SqliteLocked }
        || exception?.InnerException is SqliteException { SqliteErrorCode: SqliteBusy or SqliteLocked };
}
