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
