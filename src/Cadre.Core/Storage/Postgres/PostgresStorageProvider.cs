using System.Data.Common;
using System.Net.Sockets;
using Cadre.Personas;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Npgsql;

namespace Cadre.Storage.Postgres;

/// <summary>PostgreSQL: the shared database of a scaled-out installation.</summary>
internal sealed class PostgresStorageProvider(DatabaseTarget target) : StorageProvider(target)
{
    /// <summary>The advisory lock key that serialises migrations and first-run set-up ('cadre' in ASCII).</summary>
    private const long SetupLockKey = 0x6361647265;

    public override string MigrationsFolder => "Postgres";

    public override void Configure(DbContextOptionsBuilder options) =>
        options.UseNpgsql(Target.ConnectionString).UseSnakeCaseNamingConvention();

    public override async Task LockForSetupAsync(DbConnection connection, DbTransaction transaction, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(connection);
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        // Transaction-scoped: released by the commit or rollback, even if this process dies.
        command.CommandText = $"SELECT pg_advisory_xact_lock({SetupLockKey})";
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public override SingletonClaim Claim(SingletonLock duty)
    {
        ArgumentNullException.ThrowIfNull(duty);
        // Outside the pool: the lock belongs to the session, so the session must end with the claim and
        // never go back to a pool still holding it. The name shows in pg_stat_activity which node holds what.
        return new PostgresClaim(duty, new NpgsqlConnectionStringBuilder(Target.ConnectionString)
        {
            Pooling = false,
            ApplicationName = $"cadre {duty.Name} (pid {Environment.ProcessId})",
        }.ConnectionString);
    }

    /// <summary>
    /// A session advisory lock on a connection of its own, kept open between tries (a try costs a query,
    /// not a connection): held while the connection lives; closing it ends the session and frees the lock.
    /// </summary>
    private sealed class PostgresClaim(SingletonLock duty, string connectionString) : SingletonClaim
    {
        private NpgsqlConnection? _connection;
        private bool _held;

        public override async Task<bool> TryTakeAsync(CancellationToken cancellationToken)
        {
            if (_held)
            {
                return true;
            }

            try
            {
                if (_connection is null)
                {
                    _connection = new NpgsqlConnection(connectionString);
                    await _connection.OpenAsync(cancellationToken);
                    // A node that vanishes without closing its socket (power loss, a partition) would keep the lock
                    // for the operating system's keepalive time (hours); with these the server drops it within a minute.
                    await using var keepalive = new NpgsqlCommand("SET tcp_keepalives_idle = 15; SET tcp_keepalives_interval = 5; SET tcp_keepalives_count = 3", _connection);
                    await keepalive.ExecuteNonQueryAsync(cancellationToken);
                }

                await using var command = new NpgsqlCommand($"SELECT pg_try_advisory_lock({duty.Key})", _connection);
                _held = await command.ExecuteScalarAsync(cancellationToken) is true;
                return _held;
            }
            catch
            {
                await DropAsync();
                throw;
            }
        }

        public override async Task<bool> IsHeldAsync(CancellationToken cancellationToken)
        {
            if (!_held || _connection is null)
            {
                return false;
            }

            try
            {
                await using var command = new NpgsqlCommand("SELECT 1", _connection) { CommandTimeout = 5 };
                await command.ExecuteScalarAsync(cancellationToken);
                return true;
            }
            catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException)
            {
                // The session is gone, and the lock with it: the next try starts afresh.
                await DropAsync();
                return false;
            }
        }

        public override ValueTask DisposeAsync() => DropAsync();

        private async ValueTask DropAsync()
        {
            _held = false;
            if (_connection is { } connection)
            {
                _connection = null;
                await connection.DisposeAsync();
            }
        }
    }

    public override bool IsUniqueViolation(DbUpdateException exception) =>
        exception?.InnerException is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation };

    public override IQueryable<Persona> PersonasMatching(CadreDbContext db, string workspaceId, IReadOnlyList<string> words)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(words);
        // Words are letters and digits only (see PersonaService), so they are safe as tsquery lexemes.
        var query = string.Join(" & ", words.Select(w => $"{w}:*"));
        // The match is the query's own source (PostgreSQL inlines it), not an IN over a second scan of personas.
        return db.Personas.FromSqlRaw(
            "SELECT * FROM personas WHERE workspace_id = {0} AND search_vector @@ to_tsquery('simple', {1})", workspaceId, query);
    }

    public override Task<List<Runs.RunTask>> LeaseTasksAsync(
        CadreDbContext db, string owner, int max, DateTime now, DateTime leaseUntil, string after, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        return db.Tasks.FromSqlRaw(LeaseSql, owner, leaseUntil, now, max, after).AsNoTracking().ToListAsync(cancellationToken);
    }

    /// <summary>
    /// The lease statement: <c>{0}</c> owner, <c>{1}</c> lease end, <c>{2}</c> now, <c>{3}</c> most tasks,
    /// <c>{4}</c> the rotation's cursor. Each workspace whose turn it is gives its share of the lease
    /// (the most divided among them, rounded up), oldest first, then the lease takes whole turns.
    /// </summary>
    /// <remarks>
    /// SKIP LOCKED inside each workspace's own scan: nodes leasing at once from one workspace's backlog
    /// pass over each other's rows to the next ones instead of waiting, or coming back empty as a lock
    /// over the final choice would. The share bounds the rows locked to about the lease's size.
    /// </remarks>
    internal static readonly string LeaseSql =
        ReadyWorkspacesInTurn("CAST({4} AS text) COLLATE \"C\"") + ", " +
        "chosen AS (SELECT t.id, ROW_NUMBER() OVER (PARTITION BY turns.workspace_id ORDER BY t.available_at, t.id) AS turn, turns.place " +
        "FROM turns CROSS JOIN LATERAL (SELECT id, available_at FROM tasks " +
        "WHERE status = 'queued' AND workspace_id = turns.workspace_id AND available_at <= {2} ORDER BY available_at, id " +
        "LIMIT (SELECT ({3} + count(*) - 1) / GREATEST(count(*), 1) FROM turns) FOR UPDATE SKIP LOCKED) AS t " +
        "ORDER BY turn, turns.place LIMIT {3}) " +
        "UPDATE tasks SET status = 'leased', lease_owner = {0}, lease_expires_at = {1} " +
        "FROM chosen WHERE tasks.id = chosen.id AND tasks.status = 'queued' RETURNING tasks.*";

    // One statement per table over unnest()ed array parameters, in the arrays' order.
    public override async Task InsertRunRowsAsync(
        CadreDbContext db, IReadOnlyList<Runs.RunStep> steps, IReadOnlyList<Runs.RunTask> tasks, IReadOnlyList<Runs.RunEvent> events, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(steps);
        ArgumentNullException.ThrowIfNull(tasks);
        ArgumentNullException.ThrowIfNull(events);
        // One batch, so one round trip for all three tables (the commit's transaction is already open).
        var connection = (NpgsqlConnection)db.Database.GetDbConnection();
        await using var batch = new NpgsqlBatch(connection, (NpgsqlTransaction?)db.Database.CurrentTransaction?.GetDbTransaction());
        if (steps.Count > 0)
        {
            batch.BatchCommands.Add(Command(
                "INSERT INTO run_steps (run_id, step_id, status, attempts, iteration, output, error, completed_order, started_at, finished_at) " +
                "SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::integer[], $5::integer[], $6::text[], $7::text[], $8::integer[], $9::timestamptz[], $10::timestamptz[])",
                steps.Select(s => s.RunId).ToArray(), steps.Select(s => s.StepId).ToArray(), steps.Select(s => s.Status).ToArray(),
                steps.Select(s => s.Attempts).ToArray(), steps.Select(s => s.Iteration).ToArray(), steps.Select(s => s.Output).ToArray(),
                steps.Select(s => s.Error).ToArray(), steps.Select(s => s.CompletedOrder).ToArray(), steps.Select(s => s.StartedAt).ToArray(),
                steps.Select(s => s.FinishedAt).ToArray()));
        }

        if (tasks.Count > 0)
        {
            batch.BatchCommands.Add(Command(
                "INSERT INTO tasks (run_id, workspace_id, step_id, kind, attempt, iteration, status, available_at, lease_owner, lease_expires_at, started_at, finished_at, error, created_at) " +
                "SELECT r, w, s, k, a, i, st, av, lo, le, sa, fa, e, c FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::integer[], $6::integer[], " +
                "$7::text[], $8::timestamptz[], $9::text[], $10::timestamptz[], $11::timestamptz[], $12::timestamptz[], $13::text[], $14::timestamptz[]) " +
                "WITH ORDINALITY AS t(r, w, s, k, a, i, st, av, lo, le, sa, fa, e, c, n) ORDER BY n",
                tasks.Select(t => t.RunId).ToArray(), tasks.Select(t => t.WorkspaceId).ToArray(), tasks.Select(t => t.StepId).ToArray(), tasks.Select(t => t.Kind).ToArray(),
                tasks.Select(t => t.Attempt).ToArray(), tasks.Select(t => t.Iteration).ToArray(), tasks.Select(t => t.Status).ToArray(), tasks.Select(t => t.AvailableAt).ToArray(),
                tasks.Select(t => t.LeaseOwner).ToArray(), tasks.Select(t => t.LeaseExpiresAt).ToArray(), tasks.Select(t => t.StartedAt).ToArray(),
                tasks.Select(t => t.FinishedAt).ToArray(), tasks.Select(t => t.Error).ToArray(), tasks.Select(t => t.CreatedAt).ToArray()));
        }

        if (events.Count > 0)
        {
            batch.BatchCommands.Add(Command(
                "INSERT INTO run_events (run_id, workspace_id, type, data, created_at) " +
                "SELECT r, w, t, d, c FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[]) WITH ORDINALITY AS e(r, w, t, d, c, n) ORDER BY n",
                events.Select(e => e.RunId).ToArray(), events.Select(e => e.WorkspaceId).ToArray(), events.Select(e => e.Type).ToArray(),
                events.Select(e => e.Data).ToArray(), events.Select(e => e.CreatedAt).ToArray()));
        }

        if (batch.BatchCommands.Count > 0)
        {
            await batch.ExecuteNonQueryAsync(cancellationToken);
        }
    }

    private static NpgsqlBatchCommand Command(string sql, params object[] arrays)
    {
        var command = new NpgsqlBatchCommand(sql);
        foreach (var values in arrays)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = values });
        }

        return command;
    }

    public override Task<IDbContextTransaction> BeginSnapshotAsync(CadreDbContext db, CancellationToken cancellationToken) =>
        db.Database.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, cancellationToken);

    // SKIP LOCKED: a drain that has lost its duty but not yet noticed leaves another's batch alone.
    public override IQueryable<Analytics.AnalyticsFact> OldestAnalyticsFacts(CadreDbContext db, int count) =>
        db.AnalyticsFacts.FromSql($"SELECT * FROM analytics_facts ORDER BY id LIMIT {count} FOR UPDATE SKIP LOCKED");

    public override bool IsMissingTable(DbException exception) =>
        exception is PostgresException { SqlState: PostgresErrorCodes.UndefinedTable };

    // Npgsql counts disk_full (53100) as transient, so IsTransientFailure covers it too.
    // Two runs' commits take ids from one sequence and may commit in the other order (docs/runs.md).
    public override bool EventsVisibleInIdOrder => false;

    public override bool IsOutOfSpace(Exception exception) => exception switch
    {
        PostgresException { SqlState: PostgresErrorCodes.DiskFull } => true,
        DbUpdateException { InnerException: { } inner } => IsOutOfSpace(inner),
        InvalidOperationException { InnerException: { } inner } => IsOutOfSpace(inner),
        _ => IsDiskFull(exception),
    };

    public override bool IsTransientFailure(Exception exception) => exception switch
    {
        NpgsqlException { IsTransient: true } => true,
        NpgsqlException { InnerException: SocketException or TimeoutException } => true,
        DbUpdateException { InnerException: { } inner } => IsTransientFailure(inner),
        InvalidOperationException { InnerException: { } inner } => IsTransientFailure(inner),
        _ => IsDiskFull(exception),
    };
}
