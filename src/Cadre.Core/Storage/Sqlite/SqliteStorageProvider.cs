using System.Data.Common;
using Cadre.Personas;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;

namespace Cadre.Storage.Sqlite;

/// <summary>The embedded default: one SQLite file in write-ahead-log mode.</summary>
internal sealed class SqliteStorageProvider(DatabaseTarget target) : StorageProvider(target)
{
    // https://www.sqlite.org/rescode.html
    private const int SqliteBusy = 5;
    private const int SqliteLocked = 6;
    private const int SqliteFull = 13;
    private const int SqliteConstraintUnique = 2067;
    private const int SqliteConstraintPrimaryKey = 1555;

    public override string MigrationsFolder => "Sqlite";

    public override void Configure(DbContextOptionsBuilder options) =>
        options.UseSqlite(Target.ConnectionString)
            .UseSnakeCaseNamingConvention()
            .AddInterceptors(SqliteConnectionSettings.Instance)
            .WithoutSqlFunctions();

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

    // One node by design: every duty is this process's.
    public override SingletonClaim Claim(SingletonLock duty) => SingletonClaim.Always;

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
    public override async Task<List<Runs.RunTask>> LeaseTasksAsync(
        CadreDbContext db, string owner, int max, DateTime now, DateTime leaseUntil, string after, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        // Looking is a read, which WAL lets run beside a writer; only a queue with work takes the write lock.
        if (!await db.Tasks.AnyAsync(t => t.Status == "queued" && t.AvailableAt <= now, cancellationToken))
        {
            return [];
        }

        return await db.Tasks.FromSqlRaw(LeaseSql, owner, leaseUntil, now, max, after).AsNoTracking().ToListAsync(cancellationToken);
    }

    /// <summary>
    /// The lease statement (parameters as PostgreSQL's): each workspace whose turn it is gives its
    /// share of the lease, oldest first, then the lease takes whole turns. SQLite has no LATERAL: a
    /// correlated <c>IN</c> reads each workspace's oldest through the index instead.
    /// </summary>
    internal static readonly string LeaseSql =
        ReadyWorkspacesInTurn("{4}") + ", " +
        "chosen AS (SELECT t.id, ROW_NUMBER() OVER (PARTITION BY t.workspace_id ORDER BY t.available_at, t.id) AS turn, turns.place " +
        "FROM turns JOIN tasks AS t ON t.id IN (SELECT id FROM tasks " +
        "WHERE status = 'queued' AND workspace_id = turns.workspace_id AND available_at <= {2} ORDER BY available_at, id " +
        "LIMIT (SELECT ({3} + count(*) - 1) / max(count(*), 1) FROM turns)) " +
        "ORDER BY turn, turns.place LIMIT {3}) " +
        "UPDATE tasks SET status = 'leased', lease_owner = {0}, lease_expires_at = {1} " +
        "WHERE status = 'queued' AND id IN (SELECT id FROM chosen) RETURNING *";

    // Deferred: a read transaction on a WAL database is a snapshot and takes no write lock
    // (EF Core's own BeginTransaction is BEGIN IMMEDIATE, which would queue behind writers).
    public override async Task<IDbContextTransaction> BeginSnapshotAsync(CadreDbContext db, CancellationToken cancellationToken)
    {
        await db.Database.OpenConnectionAsync(cancellationToken);
        var transaction = ((SqliteConnection)db.Database.GetDbConnection()).BeginTransaction(deferred: true);
        return await db.Database.UseTransactionAsync(transaction, cancellationToken) ?? throw new InvalidOperationException("EF Core refused the snapshot transaction.");
    }

    // One writer at a time: the transaction itself keeps a second drain out.
    public override IQueryable<Analytics.AnalyticsFact> OldestAnalyticsFacts(CadreDbContext db, int count) =>
        db.AnalyticsFacts.FromSql($"SELECT * FROM analytics_facts ORDER BY id LIMIT {count}");

    // One prepared INSERT per table, executed once per row with new values: Microsoft.Data.Sqlite
    // keeps a command's compiled statement between executions, so each row costs a bind and a step
    // rather than a compile (which is what EF Core's statement per row costs).
    public override async Task InsertRunRowsAsync(
        CadreDbContext db, IReadOnlyList<Runs.RunStep> steps, IReadOnlyList<Runs.RunTask> tasks, IReadOnlyList<Runs.RunEvent> events, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(steps);
        ArgumentNullException.ThrowIfNull(tasks);
        ArgumentNullException.ThrowIfNull(events);
        await InsertEachAsync(db, "run_steps", ["run_id", "step_id", "status", "attempts", "iteration", "output", "error", "completed_order", "started_at", "finished_at"], steps,
            s => [s.RunId, s.StepId, s.Status, s.Attempts, s.Iteration, s.Output, s.Error, s.CompletedOrder, Time(s.StartedAt), Time(s.FinishedAt)], cancellationToken);
        await InsertEachAsync(db, "tasks", ["run_id", "workspace_id", "step_id", "kind", "attempt", "iteration", "status", "available_at", "lease_owner", "lease_expires_at", "started_at", "finished_at", "error", "created_at"], tasks,
            t => [t.RunId, t.WorkspaceId, t.StepId, t.Kind, t.Attempt, t.Iteration, t.Status, Time(t.AvailableAt), t.LeaseOwner, Time(t.LeaseExpiresAt), Time(t.StartedAt), Time(t.FinishedAt), t.Error, Time(t.CreatedAt)],
            cancellationToken);
        await InsertEachAsync(db, "run_events", ["run_id", "workspace_id", "type", "data", "created_at"], events,
            e => [e.RunId, e.WorkspaceId, e.Type, e.Data, Time(e.CreatedAt)], cancellationToken);
    }

    private static async Task InsertEachAsync<T>(
        CadreDbContext db, string table, string[] columns, IReadOnlyList<T> rows, Func<T, object?[]> values, CancellationToken cancellationToken)
    {
        if (rows.Count == 0)
        {
            return;
        }

        await using var command = (SqliteCommand)db.Database.GetDbConnection().CreateCommand();
        command.Transaction = (SqliteTransaction?)db.Database.CurrentTransaction?.GetDbTransaction();
        command.CommandText = $"INSERT INTO {table} ({string.Join(", ", columns)}) VALUES ({string.Join(", ", columns.Select((_, i) => $"$p{i}"))})";
        var parameters = columns.Select((_, i) => command.Parameters.Add(new SqliteParameter($"$p{i}", null))).ToArray();
        foreach (var row in rows)
        {
            var rowValues = values(row);
            for (var i = 0; i < parameters.Length; i++)
            {
                parameters[i].Value = rowValues[i] ?? DBNull.Value;
            }

            await command.ExecuteNonQueryAsync(cancellationToken);
        }
    }

    // The text form EF Core's SQLite provider stores DateTime in, so raw and EF rows compare alike.
    private static string? Time(DateTime? value) =>
        value?.ToString("yyyy-MM-dd HH:mm:ss.FFFFFFF", System.Globalization.CultureInfo.InvariantCulture);

    // SQLite reports a missing table as a generic SQLITE_ERROR; only the message tells it apart.
    public override bool IsMissingTable(DbException exception) =>
        exception is SqliteException { SqliteErrorCode: 1 } sqlite && sqlite.Message.Contains("no such table", StringComparison.Ordinal);

    // A full disk passes once space is freed: retried by the engine, answered 503 meanwhile.
    public override bool IsTransientFailure(Exception exception) =>
        exception is SqliteException { SqliteErrorCode: SqliteBusy or SqliteLocked }
        || exception?.InnerException is SqliteException { SqliteErrorCode: SqliteBusy or SqliteLocked }
        || IsOutOfSpace(exception!);

    // One writer at a time: a commit's event ids are above every id committed before it.
    public override bool EventsVisibleInIdOrder => true;

    public override bool IsOutOfSpace(Exception exception) =>
        exception is SqliteException { SqliteErrorCode: SqliteFull }
        || exception?.InnerException is SqliteException { SqliteErrorCode: SqliteFull }
        || IsDiskFull(exception);
}

/// <summary>
/// Per-connection settings SQLite does not keep in the file.
/// <c>busy_timeout</c>: a writer that finds the write lock taken waits in SQLite's own handler (steps
/// of 1 to 100 ms) instead of Microsoft.Data.Sqlite's retry, which sleeps 150 ms at a time and made
/// every contended step wait that long.
/// <c>synchronous = NORMAL</c> in WAL mode: a commit is in the write-ahead log before it is
/// acknowledged, so a killed process loses nothing; only an operating-system crash or power cut can
/// lose the last commits (the file stays consistent). FULL would sync the log on every commit.
/// <c>wal_autocheckpoint</c>: <see cref="SqliteCheckpointer"/> checkpoints in the background; a
/// commit checkpoints only should the log pass about 64 MiB (16 384 pages), a backstop.
/// </summary>
internal sealed class SqliteConnectionSettings : Microsoft.EntityFrameworkCore.Diagnostics.DbConnectionInterceptor
{
    public static readonly SqliteConnectionSettings Instance = new();

    private const string Pragmas = "PRAGMA busy_timeout = 30000; PRAGMA synchronous = NORMAL; PRAGMA wal_autocheckpoint = 16384;";

    // Pooled connections keep their native handle, and the settings with it: set once per handle.
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<object, object> Configured = [];

    public override void ConnectionOpened(DbConnection connection, Microsoft.EntityFrameworkCore.Diagnostics.ConnectionEndEventData eventData)
    {
        if (FirstOpen(connection))
        {
            using var command = connection.CreateCommand();
            command.CommandText = Pragmas;
            command.ExecuteNonQuery();
        }
    }

    public override async Task ConnectionOpenedAsync(DbConnection connection, Microsoft.EntityFrameworkCore.Diagnostics.ConnectionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        if (FirstOpen(connection))
        {
            await using var command = connection.CreateCommand();
            command.CommandText = Pragmas;
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
    }

    private static bool FirstOpen(DbConnection connection)
    {
        ArgumentNullException.ThrowIfNull(connection);
        return connection is not SqliteConnection { Handle: { } handle } || Configured.TryAdd(handle, handle);
    }
}
