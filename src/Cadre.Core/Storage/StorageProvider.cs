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

    /// <summary>Whether an exception means the database is unreachable, busy or out of space, so a retry may succeed (answered 503).</summary>
    public abstract bool IsTransientFailure(Exception exception);

    /// <summary>Whether an exception means the disk holding the database or the data directory is full.</summary>
    public abstract bool IsOutOfSpace(Exception exception);

    /// <summary>
    /// Whether run events of different runs become visible in id order. One run's events always do (its commits are
    /// serialised by its row version); across runs only where commits are one at a time.
    /// </summary>
    public abstract bool EventsVisibleInIdOrder { get; }

    /// <summary>A file write that found no space left on its device (an uploaded file's bytes), wrapped or not.</summary>
    protected static bool IsDiskFull(Exception? exception)
    {
        for (; exception is not null; exception = exception.InnerException)
        {
            // .NET's IOException carries the errno on Unix (ENOSPC is 28 on Linux and macOS), the HRESULT on Windows.
            if (exception is IOException { HResult: 28 or unchecked((int)0x80070070) or unchecked((int)0x80070027) })
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>A read-only transaction whose reads all see one moment of the database.</summary>
    public abstract Task<Microsoft.EntityFrameworkCore.Storage.IDbContextTransaction> BeginSnapshotAsync(CadreDbContext db, CancellationToken cancellationToken);

    /// <summary>
    /// The oldest analytics facts, for the drain to fold and delete in its transaction; on a database
    /// of many nodes, locked so a second drain skips rather than folds them again.
    /// </summary>
    public abstract IQueryable<Analytics.AnalyticsFact> OldestAnalyticsFacts(CadreDbContext db, int count);

    /// <summary>
    /// Leases up to <paramref name="max"/> queued tasks whose time has come to <paramref name="owner"/>
    /// until <paramref name="leaseUntil"/>, in one statement so two workers never hold one task.
    /// Picks in turns across workspaces (each workspace's oldest first, the workspaces in a rotation
    /// that starts after <paramref name="after"/>; see <see cref="ReadyWorkspacesInTurn"/> and
    /// <see cref="NextTurnAfter"/>), so one workspace's backlog does not starve the others.
    /// </summary>
    public abstract Task<List<Runs.RunTask>> LeaseTasksAsync(
        CadreDbContext db, string owner, int max, DateTime now, DateTime leaseUntil, string after, CancellationToken cancellationToken);

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
    /// The first half of both engines' lease statements: the workspaces whose turn it is, as
    /// <c>turns (workspace_id, place)</c>, at most <c>{3}</c> of them, each with a task due at
    /// <c>{2}</c>, in rotation order from the workspace after <c>{4}</c> (wrapping around to the first).
    /// </summary>
    /// <remarks>
    /// A loose index scan over <c>ix_tasks_queued_turns</c> (<c>workspace_id, available_at, id</c>, queued
    /// rows only): each step of <c>rotation</c> is one descent of the index to the next workspace with
    /// queued tasks and one to its oldest, so a lease reads a few index entries per workspace it visits,
    /// never the backlog nor the finished history, and stops once it has <c>{3}</c> workspaces with a due
    /// task. A row at or before the cursor (other than the cursor itself, place 0) was reached by
    /// wrapping around, and its successors stop at the cursor. <c>ready</c> counts the due workspaces
    /// among the rows before (a row cannot read the value it computes). Every probe is an
    /// <c>ORDER BY</c> of the index's own columns with <c>LIMIT 1</c>, so no planner takes a table scan
    /// for it (an <c>EXISTS</c> here was planned as one). What still grows a lease is workspaces holding
    /// only future tasks (timers) that the rotation passes over, a probe each.
    /// </remarks>
    protected static string ReadyWorkspacesInTurn(string cursor) =>
        "WITH RECURSIVE rotation (workspace_id, place, ready) AS (" +
        $"SELECT {cursor}, 0, 0 " +
        "UNION ALL SELECT " +
        "CASE WHEN r.place > 0 AND r.workspace_id <= {4} " +
        "THEN (SELECT t.workspace_id FROM tasks AS t WHERE t.status = 'queued' AND t.workspace_id > r.workspace_id AND t.workspace_id <= {4} ORDER BY t.workspace_id LIMIT 1) " +
        "ELSE COALESCE(" +
        "(SELECT t.workspace_id FROM tasks AS t WHERE t.status = 'queued' AND t.workspace_id > r.workspace_id ORDER BY t.workspace_id LIMIT 1), " +
        "(SELECT t.workspace_id FROM tasks AS t WHERE t.status = 'queued' AND t.workspace_id <= {4} ORDER BY t.workspace_id LIMIT 1)) END, " +
        "r.place + 1, " +
        $"r.ready + CASE WHEN r.place > 0 AND {OldestOf("r")} <= {{2}} THEN 1 ELSE 0 END " +
        "FROM rotation AS r WHERE r.workspace_id IS NOT NULL AND r.ready < {3}), " +
        "turns AS (SELECT workspace_id, place FROM rotation " +
        $"WHERE place > 0 AND workspace_id IS NOT NULL AND {OldestOf("rotation")} <= {{2}} " +
        "ORDER BY place LIMIT {3})";

    private static string OldestOf(string row) =>
        $"(SELECT t.available_at FROM tasks AS t WHERE t.status = 'queued' AND t.workspace_id = {row}.workspace_id ORDER BY t.available_at LIMIT 1)";

    /// <summary>
    /// Where the next lease's rotation starts: after the workspace whose task came last in this
    /// lease's order (the last turn, and in it the furthest from <paramref name="after"/>), so the
    /// workspaces this lease served last are served first next time and none is passed over twice.
    /// </summary>
    public static string NextTurnAfter(string after, IReadOnlyCollection<Runs.RunTask> leased)
    {
        ArgumentNullException.ThrowIfNull(after);
        ArgumentNullException.ThrowIfNull(leased);
        if (leased.Count == 0)
        {
            return after;
        }

        // Each workspace's tasks in a lease are consecutive turns, so its count is its last turn.
        var turns = leased.CountBy(t => t.WorkspaceId, StringComparer.Ordinal).ToList();
        var last = turns.Max(t => t.Value);
        return turns.Where(t => t.Value == last).Select(t => t.Key)
            .MaxBy(id => (string.CompareOrdinal(id, after) <= 0, id), RotationOrder.Instance)!;
    }

    private sealed class RotationOrder : IComparer<(bool Lapped, string Id)>
    {
        public static readonly RotationOrder Instance = new();

        public int Compare((bool Lapped, string Id) x, (bool Lapped, string Id) y) =>
            x.Lapped != y.Lapped ? x.Lapped.CompareTo(y.Lapped) : string.CompareOrdinal(x.Id, y.Id);
    }

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
