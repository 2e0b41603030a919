using System.Data.Common;
using System.Net.Sockets;
using Cadre.Personas;
using Microsoft.EntityFrameworkCore;
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

    // SKIP LOCKED: concurrent workers on any node pass over rows another is taking instead of
    // waiting for it. The lock is taken on the outer level because PostgreSQL refuses FOR UPDATE
    // beside the window function that chooses the turn.
    public override Task<List<Runs.RunTask>> LeaseTasksAsync(
        CadreDbContext db, string owner, int max, DateTime now, DateTime leaseUntil, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        return db.Tasks.FromSqlRaw(
            "UPDATE tasks SET status = 'leased', lease_owner = {0}, lease_expires_at = {1} WHERE id IN (" +
            $"SELECT id FROM tasks WHERE status = 'queued' AND id IN ({ReadyTasksInTurn}) FOR UPDATE SKIP LOCKED) RETURNING *",
            owner, leaseUntil, now, max).AsNoTracking().ToListAsync(cancellationToken);
    }

    public override bool IsMissingTable(DbException exception) =>
        exception is PostgresException { SqlState: PostgresErrorCodes.UndefinedTable };

    public override bool IsTransientFailure(Exception exception) => exception switch
    {
        NpgsqlException { IsTransient: true } => true,
        NpgsqlException { InnerException: SocketException or TimeoutException } => true,
        DbUpdateException { InnerException: { } inner } => IsTransientFailure(inner),
        InvalidOperationException { InnerException: { } inner } => IsTransientFailure(inner),
        _ => false,
    };
}
