using Cadre.Storage;
using Cadre.Storage.Sqlite;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging.Abstractions;

namespace Cadre.Tests.Storage;

public sealed class SqliteConnectionTests
{
    [Fact]
    public async Task Connection_CarriesNoEfSqlFunctions()
    {
        using var database = await SqliteTestDatabase.CreateAsync();
        await using var db = database.CreateDbContext();

        // PlainSqliteRelationalConnection leaves them out: each costs a registration on every open.
        var missing = await Should.ThrowAsync<SqliteException>(() => db.Database.ExecuteSqlRawAsync("SELECT ef_mod(7, 3);"));

        missing.Message.ShouldContain("no such function");
    }

    [Fact]
    public async Task Model_HasNoDecimalColumn_TheOnlyKindTheLeftOutFunctionsServe()
    {
        using var database = await SqliteTestDatabase.CreateAsync();
        await using var db = database.CreateDbContext();

        var decimals = db.Model.GetEntityTypes()
            .SelectMany(e => e.GetProperties().Select(p => (Entity: e.DisplayName(), p.Name, Type: Nullable.GetUnderlyingType(p.ClrType) ?? p.ClrType)))
            .Where(p => p.Type == typeof(decimal))
            .Select(p => $"{p.Entity}.{p.Name}");

        decimals.ShouldBeEmpty("EF Core's SQLite provider compares and sums decimals with ef_* functions that Cadre does not register; store money as integer units.");
    }

    [Fact]
    public async Task Checkpointer_CopiesTheLogIntoTheFile_WhichCommitsNoLongerDo()
    {
        using var database = await SqliteTestDatabase.CreateAsync();
        var file = new SqliteConnectionStringBuilder(database.Storage.Target.ConnectionString).DataSource;
        await using (var db = database.CreateDbContext())
        {
            await db.Database.ExecuteSqlRawAsync("PRAGMA wal_checkpoint(TRUNCATE);");
            var before = new FileInfo(file).Length;
            await db.Database.ExecuteSqlRawAsync("CREATE TABLE filler (x BLOB);");
            for (var i = 0; i < 40; i++)
            {
                // 4 MB in all: past SQLite's default threshold of 1 000 pages, short of the backstop.
                await db.Database.ExecuteSqlRawAsync("INSERT INTO filler VALUES (randomblob(100000));");
            }

            new FileInfo(file).Length.ShouldBe(before, "a commit checkpointed by itself");
        }

        var checkpointer = new SqliteCheckpointer(database.Storage, NullLogger<SqliteCheckpointer>.Instance);
        await checkpointer.StartAsync(CancellationToken.None);
        try
        {
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (new FileInfo(file).Length < 4_000_000 && DateTime.UtcNow < deadline)
            {
                await Task.Delay(20);
            }
        }
        finally
        {
            await checkpointer.StopAsync(CancellationToken.None);
        }

        new FileInfo(file).Length.ShouldBeGreaterThan(4_000_000);
        new FileInfo(file + "-wal").Length.ShouldBe(0, "stopping truncates the log");
    }
}
