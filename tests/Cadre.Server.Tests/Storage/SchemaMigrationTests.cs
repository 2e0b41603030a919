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
    public async Task Migrate_RecordsWhichBuildsEachScriptAllows(DatabaseKind db)
    {
        await using var core = await CoreServices.CreateAsync(db);
        var scripts = core.EmbeddedScripts;
        var additive = new MigrationScript(scripts.Count + 1, "additive", $"-- A new table only.\n-- compatible-with: {scripts.Count}\nCREATE TABLE additive_probe (id INTEGER NOT NULL PRIMARY KEY);");

        var status = await core.Migrator([.. scripts, additive]).MigrateAsync(CancellationToken.None);

        (await core.IntAsync($"SELECT compatible_with FROM {SchemaMigrator.HistoryTable} WHERE version = {scripts.Count + 1}")).ShouldBe(scripts.Count);
        // Schema 8 is additive; the scripts before it predate the column.
        (await core.IntAsync($"SELECT compatible_with FROM {SchemaMigrator.HistoryTable} WHERE version = 8")).ShouldBe(7);
        (await core.IntAsync($"SELECT COUNT(*) FROM {SchemaMigrator.HistoryTable} WHERE compatible_with IS NULL")).ShouldBe(7);
        status.OldestCompatibleVersion.ShouldBe(scripts.Count);
    }

    [Theory, AllDatabases]
    public async Task Migrate_NewerSchemaDeclaredCompatible_RunsOnItAndChangesNothing(DatabaseKind db)
    {
        await using var core = await CoreServices.CreateAsync(db);
        var scripts = core.EmbeddedScripts;
        var version = scripts.Count;
        // A newer build's rolling upgrade: two additive migrations, the second allowing the first's builds and older.
        await core.Migrator([.. scripts,
            new MigrationScript(version + 1, "add_notes", $"-- compatible-with: {version}\nCREATE TABLE notes_probe (id INTEGER NOT NULL PRIMARY KEY);"),
            new MigrationScript(version + 2, "add_tags", $"-- compatible-with: {version - 1}\nCREATE TABLE tags_probe (id INTEGER NOT NULL PRIMARY KEY);")])
            .MigrateAsync(CancellationToken.None);

        var status = await core.Migrator(scripts).MigrateAsync(CancellationToken.None);

        status.ShouldBe(new SchemaStatus(version + 2, version, version));
        status.IsUsable.ShouldBeTrue();
        status.IsUpToDate.ShouldBeFalse();
        (await core.Migrator(scripts).GetStatusAsync(CancellationToken.None)).ShouldBe(status);
        (await core.IntAsync($"SELECT COUNT(*) FROM {SchemaMigrator.HistoryTable}")).ShouldBe(version + 2);
    }

    [Theory, AllDatabases]
    public async Task Migrate_NewerSchemaNotCompatibleWithThisBuild_RefusesNamingTheMigration(DatabaseKind db)
    {
        await using var core = await CoreServices.CreateAsync(db);
        var scripts = core.EmbeddedScripts;
        var version = scripts.Count;
        List<MigrationScript> newer = [.. scripts,
            new MigrationScript(version + 1, "add_notes", $"-- compatible-with: {version}\nCREATE TABLE notes_probe (id INTEGER NOT NULL PRIMARY KEY);"),
            new MigrationScript(version + 2, "drop_notes", $"-- compatible-with: {version + 1}\nDROP TABLE notes_probe;"),
            new MigrationScript(version + 3, "rename_things", "CREATE TABLE renamed_probe (id INTEGER NOT NULL PRIMARY KEY);")];
        await core.Migrator(newer).MigrateAsync(CancellationToken.None);

        var oldest = await Should.ThrowAsync<SchemaMigrationException>(() => core.Migrator(scripts).MigrateAsync(CancellationToken.None));
        var middle = await Should.ThrowAsync<SchemaMigrationException>(() => core.Migrator(newer.Take(version + 2).ToList()).MigrateAsync(CancellationToken.None));

        oldest.Message.ShouldContain($"schema version {version + 3} ('rename_things')");
        oldest.Message.ShouldContain($"migration {version + 2} ('drop_notes') is compatible only with builds from version {version + 1} on");
        middle.Message.ShouldContain($"migration {version + 3} ('rename_things') is not declared compatible with older builds");
        middle.Message.ShouldContain("newer Cadre");
        var status = await core.Migrator(scripts).GetStatusAsync(CancellationToken.None);
        status.IsUsable.ShouldBeFalse();
        status.OldestCompatibleVersion.ShouldBe(version + 3);
        (await core.IntAsync($"SELECT COUNT(*) FROM {SchemaMigrator.HistoryTable}")).ShouldBe(version + 3);
    }

    [Theory, AllDatabases]
    public async Task Readiness_WhileANewerNodeMigrates_StaysReadyOnlyThroughCompatibleMigrations(DatabaseKind db)
    {
        await using var core = await CoreServices.CreateAsync(db);
        await using var app = await CadreApp.StartAsync(db, databaseSetting: core.DatabaseSetting);
        var version = core.EmbeddedScripts.Count;
        using var client = app.Client();

        // What a newer node's migrations leave in the history: first an additive one, then one that is not.
        await core.ScalarAsync($"INSERT INTO {SchemaMigrator.HistoryTable} (version, name, checksum, applied_at, compatible_with) VALUES ({version + 1}, 'additive', 'x', 'later', {version})");
        var compatible = await client.GetAsync("/readyz");
        await core.ScalarAsync($"INSERT INTO {SchemaMigrator.HistoryTable} (version, name, checksum, applied_at) VALUES ({version + 2}, 'breaking', 'x', 'later')");
        var incompatible = await client.GetAsync("/readyz");

        await compatible.ShouldBeAsync(HttpStatusCode.OK);
        ((int)(await compatible.ReadObjectAsync())["schemaVersion"]!).ShouldBe(version + 1);
        incompatible.StatusCode.ShouldBe(HttpStatusCode.ServiceUnavailable);
        ((string)(await incompatible.ReadObjectAsync())["detail"]!).ShouldBe(
            $"The schema is at version {version + 2}, which needs a build that knows version {version + 2} or newer; this build knows up to {version}.");
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

    // Columns the database maintains for itself and EF never reads: the PostgreSQL full-text vector is generated from
    // the persona's own columns.
    private static IEnumerable<string> StorageOnlyColumns(string table) =>
        table == "personas" ? ["search_vector"] : [];

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

            var actual = (await core.ColumnsAsync(table)).Except(StorageOnlyColumns(table)).ToList();

            actual.ShouldBe(mapped, ignoreOrder: true, $"table {table}: the EF model and the migration scripts disagree");
        }
    }

    [Theory, AllDatabases]
    public async Task Upgrade_FromSchema1_GivesEachWorkspaceKeyAServiceAccount_AndTheKeysKeepWorking(DatabaseKind db)
    {
        await using var core = await CoreServices.CreateAsync(db);
        await core.Migrator(core.EmbeddedScripts.Take(1).ToList()).MigrateAsync(CancellationToken.None);
        var secret = Cadre.Auth.ApiKeySecret.Generate();
        var hash = Convert.ToHexString(Cadre.Auth.ApiKeySecret.Hash(secret));
        var blob = db == DatabaseKind.Sqlite ? $"X'{hash}'" : $"'\\x{hash}'::bytea";
        var now = db == DatabaseKind.Sqlite ? "'2026-01-01 00:00:00'" : "now()";
        await core.ScalarAsync($"INSERT INTO workspaces (id, name, display_name, settings, version, created_at, updated_at) VALUES ('ws_old', 'old', 'Old', '{{}}', 1, {now}, {now})");
        await core.ScalarAsync($"INSERT INTO api_keys (id, workspace_id, name, role, key_prefix, key_hash, created_at) VALUES ('key_old', 'ws_old', 'legacy deploy', 'editor', 'cadre_x', {blob}, {now})");

        await core.Migrator().MigrateAsync(CancellationToken.None);

        await using var context = await core.Contexts.CreateDbContextAsync();
        var key = await context.ApiKeys.SingleAsync(k => k.Id == "key_old");
        key.ServiceAccountId.ShouldBe("sa_old");
        var account = await context.ServiceAccounts.SingleAsync(s => s.Id == "sa_old");
        account.WorkspaceId.ShouldBe("ws_old");
        account.Role.ShouldBe(Cadre.Auth.WorkspaceRole.Editor);
        account.Name.ShouldContain("legacy deploy");
        await using var scope = core.Scope();
        var check = await scope.Get<Cadre.Auth.ApiKeyService>().AuthenticateAsync(secret, CancellationToken.None);
        check.Caller.ShouldNotBeNull(check.Rejection);
        check.Caller.Kind.ShouldBe(Cadre.Auth.CallerKind.ServiceAccount);
        check.Caller.ServiceAccountRole.ShouldBe(Cadre.Auth.WorkspaceRole.Editor);
    }

    [Theory, AllDatabases]
    public async Task DataProtectionKeys_TableMatchesTheLibrarysModel(DatabaseKind db)
    {
        await using var core = await CoreServices.CreateAsync(db);
        await core.Migrator().MigrateAsync(CancellationToken.None);

        (await core.ColumnsAsync("data_protection_keys")).ShouldBe(["id", "friendly_name", "xml"], ignoreOrder: true);
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
