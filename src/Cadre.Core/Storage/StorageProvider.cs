using System.Data.Common;
using Cadre.Personas;
using Cadre.Storage.Postgres;
using Cadre.Storage.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Cadre.Storage;

/// <summary>
/// Everything that differs between SQLite and PostgreSQL, in one place per provider, so the rest
/// of Cadre never asks which database it runs on.
/// </summary>
internal abstract class StorageProvider(DatabaseTarget target)
{
    public DatabaseTarget Target { get; } = target;

    public DatabaseKind Kind => Target.Kind;

    /// <summary>The embedded folder holding this provider's versioned migration scripts.</summary>
    public abstract string MigrationsFolder { get; }

    /// <summary>Points EF Core at this database.</summary>
    public abstract void Configure(DbContextOptionsBuilder options);

    /// <summary>Work needed before the first connection, such as creating the SQLite file's directory.</summary>
    public virtual Task PrepareAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>
    /// Serialises schema changes and first-run set-up across processes for the rest of the open
    /// transaction. Must be the first statement of the transaction.
    /// </summary>
    public abstract Task LockForSetupAsync(DbConnection connection, DbTransaction transaction, CancellationToken cancellationToken);

    /// <summary>
    /// This process's claim on a singleton duty. PostgreSQL: a session advisory lock on a connection
    /// of the claim's own, so a duty taken is held until the claim is disposed or the session ends
    /// (the process died, the connection broke), and another node's next try takes it over. SQLite is
    /// one node by design: always held.
    /// </summary>
    public abstract SingletonClaim Claim(SingletonLock duty);

    /// <summary>Whether a failed save broke a unique constraint (a taken name, a duplicate key).</summary>
    public abstract bool IsUniqueViolation(DbUpdateException exception);

    /// <summary>
    /// A workspace's personas whose name, display name, description or instructions contain every
    /// word (as a word prefix), from the engine's full-text index: FTS5 on SQLite, a tsvector with a
    /// GIN index on PostgreSQL. Composable into a LINQ query.
    /// </summary>
    public abstract IQueryable<Persona> PersonasMatching(CadreDbContext db, string workspaceId, IReadOnlyList<string> words);

    /// <summary>Whether a query failed because a table does not exist (a database nothing has migrated yet).</summary>
    public abstract bool IsMissingTable(DbException exception);

    /// <summary>Whether an exception means the database is unreachable or busy, so a retry may succeed (answered 503).</summary>
    public abstract bool IsTransientFailure(Exception exception);

    /// <summary>
    /// Leases up to <paramref name="max"/> queued tasks whose time has come to <paramref name="owner"/>
    /// until <paramref name="leaseUntil"/>, in one statement so two workers never hold one task.
    /// Picks in turns across workspaces (each workspace's oldest first), so one workspace's
    /// backlog does not starve the others.
    /// </summary>
    public abstract Task<List<Runs.RunTask>> LeaseTasksAsync(
        CadreDbContext db, string owner, int max, DateTime now, DateTime leaseUntil, CancellationToken cancellationToken);

    /// <summary>
    /// Inserts a commit's new step rows, task rows and run events, a statement per table whatever
    /// their number, inside the caller's transaction. EF Core would send a statement per row, and
    /// SQLite compiles each one: a 40-step run would spend most of its commit compiling SQL.
    /// </summary>
    public abstract Task InsertRunRowsAsync(
        CadreDbContext db, IReadOnlyList<Runs.RunStep> steps, IReadOnlyList<Runs.RunTask> tasks, IReadOnlyList<Runs.RunEvent> events, CancellationToken cancellationToken);

    /// <summary>
    /// The next run number of a workflow (1, 2, …), taken inside the caller's transaction; with
    /// <paramref name="lockOnly"/>, only takes the counter row's lock (and answers the last number).
    /// </summary>
    public static async Task<int> NextRunNumberAsync(CadreDbContext db, string workflowId, CancellationToken cancellationToken, bool lockOnly = false)
    {
        ArgumentNullException.ThrowIfNull(db);
        // One upsert on both engines: the row lock (PostgreSQL) or the write lock (SQLite) orders
        // concurrent starts and admissions of one workflow for the rest of the transaction.
        var increment = lockOnly ? 0 : 1;
        var numbers = await db.Database.SqlQueryRaw<int>(
            "INSERT INTO workflow_run_counters (workflow_id, last_number) VALUES ({0}, {1}) " +
            "ON CONFLICT (workflow_id) DO UPDATE SET last_number = workflow_run_counters.last_number + {1} RETURNING last_number AS \"Value\"",
            workflowId, increment).ToListAsync(cancellationToken);
        return numbers.Single();
    }

    /// <summary>
    /// The fair choice of ready tasks shared by both engines' lease statements: each workspace's
    /// tasks oldest first, and the workspaces in random order at each turn, so a workspace with one
    /// task waits a couple of leases however long another's backlog is.
    /// </summary>
    protected const string ReadyTasksInTurn =
        "SELECT id FROM (SELECT id, ROW_NUMBER() OVER (PARTITION BY workspace_id ORDER BY available_at, id) AS turn " +
        "FROM tasks WHERE status = 'queued' AND available_at <= {2}) AS ready ORDER BY turn, random() LIMIT {3}";

    public static StorageProvider Create(StorageOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var target = DatabaseTarget.Parse(options.Database, options.DataDir, out var error)
            ?? throw new OptionsValidationException(nameof(StorageOptions.Database), typeof(StorageOptions), [error!]);
        return target.Kind switch
        {
            DatabaseKind.Sqlite => new SqliteStorageProvider(target),
            DatabaseKind.Postgres => new PostgresStorageProvider(target),
            _ => throw new InvalidOperationException($"Unknown database kind {target.Kind}."),
        };
    }
}
