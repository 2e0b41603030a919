using System.Data.Common;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.EntityFrameworkCore.Storage;

// EF Core exposes no public hook to keep its SQLite connection from registering functions; this
// subclass of its provider's connection is the documented replacement point (ReplaceService).
#pragma warning disable EF1001

namespace Cadre.Storage.Sqlite;

/// <summary>
/// EF Core's SQLite connection without its SQL functions (<c>regexp</c>, the <c>ef_*</c> decimal
/// helpers and the <c>EF_DECIMAL</c> collation).
/// Microsoft.Data.Sqlite registers a connection's functions again on every open, pooled handle or
/// not, and each registration leaves a handle for the finalizer: about 17 000 a second under the
/// W2 benchmark. Cadre's model has no decimal column and its queries no
/// <c>Regex</c>, the only things those functions translate (a test holds the model to that).
/// </summary>
internal sealed class PlainSqliteRelationalConnection(
    RelationalConnectionDependencies dependencies,
    IRawSqlCommandBuilder rawSqlCommandBuilder,
    IDiagnosticsLogger<DbLoggerCategory.Infrastructure> logger)
    : Microsoft.EntityFrameworkCore.Sqlite.Storage.Internal.SqliteRelationalConnection(dependencies, rawSqlCommandBuilder, logger)
{
    protected override DbConnection CreateDbConnection() => new SqliteConnection(GetValidatedConnectionString());
}

internal static class PlainSqliteRelationalConnectionExtensions
{
    public static DbContextOptionsBuilder WithoutSqlFunctions(this DbContextOptionsBuilder options) =>
        options.ReplaceService<Microsoft.EntityFrameworkCore.Sqlite.Storage.Internal.ISqliteRelationalConnection, PlainSqliteRelationalConnection>();
}
