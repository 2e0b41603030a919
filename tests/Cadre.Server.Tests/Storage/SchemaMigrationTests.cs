using System.Net;
using Cadre.Storage;
using Cadre.Workspaces;
using Microsoft.EntityFrameworkCore;

namespace Cadre.Server.Tests.Storage;

public sealed class SchemaMigrationTests
{
    [Theory, AllDatabases]
    public async Task Migrate_EmptyDatabase_AppliesEveryScriptOnce(DatabaseKind db)
    {
        await using var core = await CoreServices.CreateAsync(db);
        var migrator = core.Migrator();

        var status = await migrator.MigrateAsync(CancellationToken.None);
        var again = await migrator.MigrateAsync(CancellationToken.None);

        status.CurrentVersion.ShouldBe(core.EmbeddedScripts.Count);
        status.IsUpToDate.ShouldBeTrue();
        again.ShouldBe(status);
        (await core.IntAsync($"SELECT COUNT(*) FROM {SchemaMigrator.HistoryTable}")).ShouldBe(core.EmbeddedScripts.Count);
        (await migrator.GetStatusAsync(CancellationToken.None)).ShouldBe(status);
    }

    [Theory, AllDatabases]
    public async Task GetStatus_BeforeAnyMigration_IsVersionZero(DatabaseKind db)
    {
        await using var core = await CoreServices.CreateAsync(db);
        await core.Migrator([]).MigrateAsync(CancellationToken.None);
        await core.ScalarAsync($"DROP TABLE {SchemaMigrator.HistoryTable}");

        var status = await core.Migrator().GetStatusAsync(CancellationToken.None);

        status.CurrentVersion.ShouldBe(0);
        status.IsUpToDate.ShouldBeFalse();
    }

    [Theory, AllDatabases]
    public async Task Migrate_OlderSchema_UpgradesInPlaceKeepingData(DatabaseKind db)
    {
        await using var core = await CoreServices.CreateAsync(db);
        var scripts = core.EmbeddedScripts;
        await core.Migrator(scripts).MigrateAsync(CancellationToken.None);
        await using (var context = await core.Contexts.CreateDbContextAsync())
        {
            context.Workspaces.Add(new Workspace { Id = "ws_kept", Name = "kept", DisplayName = "Kept", Settings = "{}", Version = 1 });
            await context.SaveChangesAsync();
        }

        var next = new MigrationScript(scripts.Count + 1, "add_probe",
            "CREATE TABLE upgrade_probe (id INTEGER NOT NULL PRIMARY KEY, note TEXT NULL); INSERT INTO upgrade_probe (id) VALUES (42);");
        var status = await core.Migrator([.. scripts, next]).MigrateAsync(CancellationToken.None);

        status.CurrentVersion.ShouldBe(scripts.Count + 1);
        (await core.IntAsync("SELECT id FROM upgrade_probe")).ShouldBe(42);
        await using var after = await core.Contexts.CreateDbContextAsync();
        (await after.Workspaces.SingleAsync(w => w.Id == "ws_kept")).Name.ShouldBe("kept");
    }

    [Theory, AllDatabases]
    public async Task Migrate_FailingScript_LeavesTheDatabaseAtTheLastWholeVersion(DatabaseKind db)
    {
        await using var core = await CoreServices.CreateAsync(db);
        var scripts = core.EmbeddedScripts;
        var broken = new MigrationScript(scripts.Count + 1, "broken",
            "CREATE TABLE half_done (id INTEGER NOT NULL PRIMARY KEY); INSERT INTO no_such_table VALUES (1);");

        await Should.ThrowAsync<Exception>(() => core.Migrator([.. scripts, broken]).MigrateAsync(CancellationToken.None));

        (await core.Migrator().GetStatusAsync(CancellationToken.None)).CurrentVersion.ShouldBe(scripts.Count);
        (await core.ColumnsAsync("half_done")).ShouldBeEmpty();
    }

    [Theory, AllDatabases]
    public async Task Migrate_NewerSchema_RefusesWithClearMessageAndChangesNothing(DatabaseKind db)
    {
        await using var core = await CoreServices.CreateAsync(db);
        await core.Migrator().MigrateAsync(CancellationToken.None);
        await core.ScalarAsync($"INSERT INTO {SchemaMigrator.HistoryTable} (version, name, checksum, applied_at) VALUES (999, 'from_the_future', 'x', 'later')");

        var error = await Should.ThrowAsync<SchemaMigrationException>(() => core.Migrator().MigrateAsync(CancellationToken.None));

        error.Message.ShouldContain("999");
        error.Message.ShouldContain("from_the_future");
        error.Message.ShouldContain("newer Cadre");
        (await core.IntAsync($"SELECT COUNT(*) FROM {SchemaMigrator.HistoryTable}")).ShouldBe(core.EmbeddedScripts.Count + 1);
    }

    [Theory, AllDatabases]
    public async Task Migrate_AppliedScriptEdited_Refuses(DatabaseKind db)
    {
        await using var core = await CoreServices.CreateAsync(db);
        var scripts = core.EmbeddedScripts;
        await core.Migrator(scripts).MigrateAsync(CancellationToken.None);
        var edited = scripts.Select(s => s.Version == 1 ? s with { Sql = s.Sql + "\n-- edited after release\n" } : s).ToList();

        var error = await Should.ThrowAsync<SchemaMigrationException>(() => core.Migrator(edited).MigrateAsync(CancellationToken.None));

        error.Message.ShouldContain("differs");
    }

    [Theory, AllDatabases]
    public async Task Migrate_ConcurrentStarts_ApplyEachScriptExactlyOnce(DatabaseKind db)
    {
        await using var first = await CoreServices.CreateAsync(db);
        var others = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => CoreServices.CreateAsync(db, first.DatabaseSetting)));
        try
        {
            var statuses = await Task.WhenAll(new[] { first }.Concat(others)
                .Select(core => Task.Run(() => core.Migrator().MigrateAsync(CancellationToken.None))));

            statuses.ShouldAllBe(status => status.IsUpToDate);
            (await first.IntAsync($"SELECT COUNT(*) FROM {SchemaMigrator.HistoryTable}")).ShouldBe(first.EmbeddedScripts.Count);
        }
        finally
        {
            foreach (var other in others)
            {
                await other.DisposeAsync();
            }
        }
    }

    [Theory, AllDatabases]
    public async Task Model_MatchesTheMigratedSchema(DatabaseKind db)
    {
        await using var core = await CoreServices.CreateAsync(db);
        await core.Migrator().MigrateAsync(CancellationToken.None);
        await using var context = await core.Contexts.CreateDbContextAsync();

        foreach (var entity in context.Model.GetEntityTypes())
        {
            var table = entity.GetTableName()!;
            var mapped = entity.GetProperties().Select(p => p.GetColumnName()).ToList();

            var actual = await core.ColumnsAsync(table);

            actual.ShouldBe(mapped, ignoreOrder: true, $"table {table}: the EF model and the migration scripts disagree");
        }
    }

    [Theory, AllDatabases]
    public async Task Restart_ExistingDatabase_KeepsDataAndKeys(DatabaseKind db)
    {
        var first = await CadreApp.StartAsync(db);
        var workspace = await first.CreateWorkspaceAsync();
        await first.DisposeAsync();

        await using var second = await CadreApp.StartAsync(db, databaseSetting: first.DatabaseSetting, dataDir: first.DataDir, adminKey: first.AdminKey);
        using var owner = second.Client(workspace.OwnerKey);

        await (await owner.GetAsync($"/api/v1/workspaces/{workspace.Name}")).ShouldBeAsync(HttpStatusCode.OK);
        using var anonymous = second.Client();
        var ready = await (await anonymous.GetAsync("/readyz")).ReadObjectAsync();
        ((int)ready["schemaVersion"]!).ShouldBeGreaterThan(0);
    }
}
