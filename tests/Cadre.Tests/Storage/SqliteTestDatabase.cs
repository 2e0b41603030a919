using Cadre.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging.Abstractions;

namespace Cadre.Tests.Storage;

/// <summary>A migrated SQLite file of its own for one test, deleted afterwards.</summary>
internal sealed class SqliteTestDatabase : IDbContextFactory<CadreDbContext>, IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("cadre-core-test-").FullName;
    private readonly DbContextOptions<CadreDbContext> _options;

    private SqliteTestDatabase()
    {
        Storage = StorageProvider.Create(new StorageOptions { Database = "sqlite", DataDir = _directory });
        var builder = new DbContextOptionsBuilder<CadreDbContext>();
        Storage.Configure(builder);
        _options = builder.Options;
    }

    public StorageProvider Storage { get; }

    public static async Task<SqliteTestDatabase> CreateAsync()
    {
        var database = new SqliteTestDatabase();
        await new SchemaMigrator(database, database.Storage, NullLogger<SchemaMigrator>.Instance, TimeProvider.System)
            .MigrateAsync(CancellationToken.None);
        return database;
    }

    public CadreDbContext CreateDbContext() => new(_options);

    public void Dispose()
    {
        // This database's pool only: clearing every pool would close other tests' idle connections, and the
        // last connection to a file checkpoints it on close, under the feet of a test that watches the file.
        using (var connection = new Microsoft.Data.Sqlite.SqliteConnection(Storage.Target.ConnectionString))
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearPool(connection);
        }

        Directory.Delete(_directory, recursive: true);
    }
}
