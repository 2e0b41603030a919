using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Cadre.Cli.Tests.Infrastructure;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Cadre.Cli.Tests;

/// <summary>
/// <c>cadre server</c>, <c>cadre db</c>, <c>cadre admin</c> and <c>cadre completion</c>, run as processes on the
/// machine's own database: what an operator types on the server's host.
/// </summary>
public sealed class OperatorCommandTests
{
    [Fact]
    public async Task DbStatusAndMigrate_OnAnEmptyDataDir_ShowTheVersions_AndMigrateOnlyOnce()
    {
        var directory = TestDirectories.Create("cli-db");

        var before = (await CadreCommand.RunAsync(directory, "db", "status")).ShouldSucceed();
        var beforeJson = (await CadreCommand.RunAsync(directory, "db", "status", "-o", "json")).ShouldSucceed().Json();

        before.Output.ShouldContain(Path.Combine(directory, "data", "cadre.db"));
        before.Output.ShouldContain("does not exist");
        ((string)beforeJson["state"]!).ShouldBe("not-created");
        ((int)beforeJson["currentVersion"]!).ShouldBe(0);
        var latest = (int)beforeJson["latestVersion"]!;
        latest.ShouldBeGreaterThan(0);
        beforeJson["pending"]!.AsArray().Count.ShouldBe(latest);
        // Looking changed nothing: no database was created.
        File.Exists(Path.Combine(directory, "data", "cadre.db")).ShouldBeFalse();

        var migrate = (await CadreCommand.RunAsync(directory, "db", "migrate")).ShouldSucceed();
        var again = (await CadreCommand.RunAsync(directory, "db", "migrate")).ShouldSucceed();
        var after = (await CadreCommand.RunAsync(directory, "db", "status")).ShouldSucceed();
        var afterJson = (await CadreCommand.RunAsync(directory, "db", "status", "-o", "json")).ShouldSucceed().Json();

        migrate.Output.ShouldContain("Applied migration 1 (initial)");
        migrate.Output.ShouldContain($"Applied migration {latest} ");
        migrate.Output.ShouldContain($"is at schema version {latest} (was 0)");
        again.Output.ShouldNotContain("Applied");
        again.Output.ShouldContain($"Nothing to apply: SQLite {Path.Combine(directory, "data", "cadre.db")} is at schema version {latest}");
        after.Output.ShouldContain($"Schema version: {latest} (this build's latest)");
        after.Output.ShouldContain("up to date");
        ((string)afterJson["state"]!).ShouldBe("up-to-date");
        ((int)afterJson["currentVersion"]!).ShouldBe(latest);
        afterJson["pending"]!.AsArray().ShouldBeEmpty();
    }

    [PostgresFact]
    public async Task DbCommandsAndCreateKey_OnPostgreSql_CreateMigrateAndAddAKey()
    {
        var directory = TestDirectories.Create("cli-db");
        // A database of that name does not exist yet on the test cluster: migrating creates it.
        var database = new NpgsqlConnectionStringBuilder(await TestPostgres.CreateDatabaseAsync()) { Database = $"cli_{Guid.NewGuid():N}"[..20] };
        var settings = new Dictionary<string, string> { ["CADRE_DATABASE"] = database.ConnectionString };

        var before = (await CadreCommand.RunAsync(directory, ["db", "status", "-o", "json"], settings)).ShouldSucceed().Json();
        var migrate = (await CadreCommand.RunAsync(directory, ["db", "migrate"], settings)).ShouldSucceed();
        var again = (await CadreCommand.RunAsync(directory, ["db", "migrate"], settings)).ShouldSucceed();
        var after = (await CadreCommand.RunAsync(directory, ["db", "status", "-o", "json"], settings)).ShouldSucceed().Json();
        var created = (await CadreCommand.RunAsync(directory, ["admin", "create-key"], settings)).ShouldSucceed();
        var keys = (await CadreCommand.RunAsync(directory, ["admin", "list-keys", "-o", "json"], settings)).ShouldSucceed().Json().AsArray();

        ((string)before["state"]!).ShouldBe("not-created");
        ((string)before["database"]!).ShouldBe($"PostgreSQL 127.0.0.1:{database.Port}/{database.Database}");
        migrate.Output.ShouldContain("Applied migration 1 (initial)");
        again.Output.ShouldStartWith("Nothing to apply");
        ((string)after["state"]!).ShouldBe("up-to-date");
        created.Output.Trim().ShouldStartWith("cadre_");
        ((string)keys.ShouldHaveSingleItem()!["prefix"]!).ShouldBe(created.Output.Trim()[..12]);
        File.Exists(Path.Combine(directory, "data", "cadre.db")).ShouldBeFalse();
    }

    [Fact]
    public async Task DbStatus_OnADatabaseNewerThanThisBuild_SaysWhy_AndExits1()
    {
        var directory = TestDirectories.Create("cli-db");
        var database = Path.Combine(directory, "elsewhere", "cadre.db");
        var settings = new Dictionary<string, string> { ["CADRE_DATABASE"] = $"sqlite:{database}" };
        var latest = (int)(await CadreCommand.RunAsync(directory, ["db", "migrate", "-o", "json"], settings)).ShouldSucceed().Json()["version"]!;
        await using (var connection = new SqliteConnection($"Data Source={database};Pooling=false"))
        {
            await connection.OpenAsync();
            await using var insert = connection.CreateCommand();
            insert.CommandText = "INSERT INTO cadre_schema_migrations (version, name, checksum, applied_at, compatible_with) " +
                $"VALUES ({latest + 1}, 'from_the_future', 'x', '2030-01-01T00:00:00Z', {latest + 1})";
            await insert.ExecuteNonQueryAsync();
        }

        var status = await CadreCommand.RunAsync(directory, ["db", "status"], settings);
        var migrate = await CadreCommand.RunAsync(directory, ["db", "migrate"], settings);
        var createKey = await CadreCommand.RunAsync(directory, ["admin", "create-key"], settings);

        status.ShouldFailWith(1);
        status.Output.ShouldContain($"Schema version: {latest + 1} (this build's is {latest})");
        status.Output.ShouldContain("this build cannot run on it");
        status.Error.ShouldStartWith($"error: The database (SQLite {database}) has schema version {latest + 1} ('from_the_future')");
        status.Error.ShouldContain($"only knows versions up to {latest}");
        migrate.ShouldFailWith(1);
        migrate.Error.ShouldContain("Nothing was changed.");
        createKey.ShouldFailWith(1);
        createKey.Output.ShouldBeEmpty();
    }

    [Fact]
    public async Task OperatorCommands_WithAnUnusableDatabaseSetting_SayWhatIsWrong_AndExit2()
    {
        var directory = TestDirectories.Create("cli-db");

        var status = await CadreCommand.RunAsync(directory, ["db", "status"], new Dictionary<string, string> { ["CADRE_DATABASE"] = "mysql://db.example/cadre" });
        var createKey = await CadreCommand.RunAsync(directory, "admin", "create-key", "--database", "sqlite:");

        status.ShouldFailWith(2);
        status.Error.Trim().ShouldBe("error: Cadre:Database names an unsupported database 'mysql'. Use 'sqlite', 'sqlite:<path>', " +
            "a postgres:// URL or a PostgreSQL connection string (Host=…;Database=…).");
        createKey.ShouldFailWith(2);
        createKey.Error.ShouldContain("'sqlite:' needs a file path");
    }

    [Fact]
    public async Task DbStatus_WhenPostgreSqlCannotBeReached_Exits6()
    {
        var directory = TestDirectories.Create("cli-db");

        // Port 1 on the loopback: nothing listens there, so the connection is refused at once.
        var status = await CadreCommand.RunAsync(directory, ["db", "status"],
            new Dictionary<string, string> { ["CADRE_DATABASE"] = "postgres://cadre:secret@127.0.0.1:1/cadre" });

        status.ShouldFailWith(6);
        status.Error.ShouldStartWith("error: Cannot use the database (PostgreSQL 127.0.0.1:1/cadre): ");
        status.Error.ShouldNotContain("secret");
        status.Error.ShouldNotContain("   at ");
    }

    [Fact]
    public async Task AdminCreateKey_OnADatabaseNotCreatedYet_CreatesNothing_AndExits1()
    {
        var directory = TestDirectories.Create("cli-db");

        var createKey = await CadreCommand.RunAsync(directory, "admin", "create-key");

        createKey.ShouldFailWith(1);
        createKey.Output.ShouldBeEmpty();
        createKey.Error.ShouldContain($"There is no database at SQLite {Path.Combine(directory, "data", "cadre.db")} yet");
        File.Exists(Path.Combine(directory, "data", "cadre.db")).ShouldBeFalse();
    }

    [Fact]
    public async Task CadreServer_ServesTheApi_AndAKeyFromAdminCreateKey_WorksWhileItRuns_UntilRevoked()
    {
        var directory = TestDirectories.Create("cli-server");
        // `cadre server` with server arguments System.CommandLine does not know (--urls, added by Start; a --Cadre: setting).
        await using var server = ServerProcess.Start(directory, new Dictionary<string, string>(),
            ["cadre.dll", "server", "--Cadre:Outbound:AllowPrivateNetworks=true"]);
        await server.WaitUntilListeningAsync();
        using var anonymous = server.Client();
        (await anonymous.GetAsync("/healthz")).StatusCode.ShouldBe(HttpStatusCode.OK);
        var printedKey = server.PrintedAdminKey().ShouldNotBeNull();
        using (var firstAdmin = server.Client(printedKey))
        {
            (await firstAdmin.GetAsync("/api/v1/workspaces")).StatusCode.ShouldBe(HttpStatusCode.OK);
        }

        if (File.Exists(Path.Combine(AppContext.BaseDirectory, "wwwroot", "index.html")))
        {
            // Built with the web UI (not -p:CadreBuildWeb=false): `cadre server` finds it beside itself.
            var page = await anonymous.GetAsync("/");
            page.StatusCode.ShouldBe(HttpStatusCode.OK);
            page.Content.Headers.ContentType!.MediaType.ShouldBe("text/html");
        }

        // The server runs on ./data of its directory; the operator's commands in that directory find the same database.
        var created = (await CadreCommand.RunAsync(directory, "admin", "create-key", "--name", "break-glass")).ShouldSucceed();
        var status = (await CadreCommand.RunAsync(directory, "db", "status")).ShouldSucceed();

        var key = created.Output.Trim();
        key.ShouldStartWith("cadre_");
        created.Output.ShouldBe(key + Environment.NewLine);
        created.Error.ShouldContain("break-glass");
        created.Error.ShouldContain("shown this once");
        status.Output.ShouldContain("up to date");
        using var admin = server.Client(key);
        (await admin.GetAsync("/api/v1/workspaces")).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await admin.PostAsJsonAsync("/api/v1/workspaces", new { name = "ops", displayName = "Ops" })).StatusCode.ShouldBe(HttpStatusCode.Created);
        var me = await admin.GetFromJsonAsync<JsonObject>("/api/v1/me");
        ((string)me!["actor"]!["kind"]!).ShouldBe("instance_key");

        var audit = await admin.GetFromJsonAsync<JsonObject>("/api/v1/admin/audit?action=api_key.created&workspace=none");
        var entry = audit!["results"]!.AsArray().Select(e => e!.AsObject()).Single(e => (string?)e["resource"]!["name"] == "break-glass");
        ((string)entry["actor"]!["kind"]!).ShouldBe("operator");
        ((string)entry["actor"]!["via"]!).ShouldBe("console");
        ((string)entry["actor"]!["name"]!).ShouldContain($"{Environment.UserName}@");
        ((string)entry["request"]!["path"]!).ShouldBe("cadre admin create-key");

        var list = (await CadreCommand.RunAsync(directory, "admin", "list-keys", "-o", "json")).ShouldSucceed().Json().AsArray();
        var listed = list.Single(k => (string?)k!["name"] == "break-glass")!;
        listed.ToJsonString().ShouldNotContain(key);
        key.ShouldStartWith((string)listed["prefix"]!);
        list.Count.ShouldBe(2);

        var revoked = (await CadreCommand.RunAsync(directory, "admin", "revoke-key", (string)listed["id"]!)).ShouldSucceed();
        var unknown = await CadreCommand.RunAsync(directory, "admin", "revoke-key", "key_doesnotexist");

        revoked.Error.ShouldContain("is revoked");
        (await admin.GetAsync("/api/v1/workspaces")).StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        unknown.ShouldFailWith(4);
        unknown.Error.ShouldContain("cadre admin list-keys");
    }

    [Fact]
    public async Task CadreServer_WithASettingItCannotUse_SaysWhy_AndExits1()
    {
        var directory = TestDirectories.Create("cli-server");

        var result = await CadreCommand.RunAsync(directory, ["server", "--urls", "http://127.0.0.1:0"],
            new Dictionary<string, string> { ["CADRE_DATABASE"] = "sqlite:" }, TimeSpan.FromSeconds(60));

        result.ShouldFailWith(1);
        (result.Output + result.Error).ShouldContain("Cadre cannot start: Cadre:Database 'sqlite:' needs a file path");
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task Suggest_OffersCommands_AndTheBashScriptCompletesThem()
    {
        var directory = TestDirectories.Create("cli-completion");

        var suggested = (await CadreCommand.RunAsync(directory, "[suggest:10]", "cadre pers")).ShouldSucceed();
        var verbs = (await CadreCommand.RunAsync(directory, "[suggest:12]", "cadre db mig")).ShouldSucceed();
        var script = (await CadreCommand.RunAsync(directory, "completion", "bash")).ShouldSucceed();
        var unknownShell = await CadreCommand.RunAsync(directory, "completion", "tcsh");

        suggested.Output.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).ShouldBe(["personas"]);
        verbs.Output.Trim().ShouldBe("migrate");
        script.Output.ShouldContain("complete -o default -F _cadre_complete cadre");
        script.Output.ShouldContain("[suggest:${COMP_POINT}]");
        unknownShell.ExitCode.ShouldNotBe(0);
        unknownShell.Error.ShouldContain("tcsh");

        foreach (var shell in new[] { "zsh", "fish", "pwsh" })
        {
            (await CadreCommand.RunAsync(directory, "completion", shell)).ShouldSucceed().Output.ShouldContain("[suggest:");
        }

        // The script as bash runs it on Tab after `cadre work`: `cadre` here is a script that runs this build.
        var cadre = Path.Combine(directory, "cadre");
        await File.WriteAllTextAsync(cadre, $"#!/bin/sh\nexec dotnet '{Path.Combine(AppContext.BaseDirectory, "cadre.dll")}' \"$@\"\n");
        File.SetUnixFileMode(cadre, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var scriptFile = Path.Combine(directory, "cadre.bash");
        await File.WriteAllTextAsync(scriptFile, script.Output);
        var completed = await BashAsync(directory,
            $"source '{scriptFile}'; COMP_LINE='cadre work'; COMP_POINT=10; COMP_WORDS=('{cadre}' work); COMP_CWORD=1; " +
            "_cadre_complete; printf '%s\\n' \"${COMPREPLY[@]}\"");

        completed.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).ShouldBe(["workflows", "workspaces"], ignoreOrder: true);
    }

    [Fact]
    public async Task Version_PrintsTheBuildsVersion()
    {
        var version = (await CadreCommand.RunAsync(TestDirectories.Create("cli"), "--version")).ShouldSucceed();

        version.Output.Trim().ShouldBe(FileVersionInfo.GetVersionInfo(Path.Combine(AppContext.BaseDirectory, "cadre.dll")).ProductVersion);
    }

    private static async Task<string> BashAsync(string directory, string command)
    {
        var start = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = directory };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(command);
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        process.ExitCode.ShouldBe(0, await error);
        return await output;
    }
}
