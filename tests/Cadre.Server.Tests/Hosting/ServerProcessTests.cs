using System.Net;
using Cadre.Server.Tests.Storage;
using Cadre.Storage;

namespace Cadre.Server.Tests.Hosting;

/// <summary>The server as a new user meets it: a real process on an empty data directory.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class ServerProcessTests
{
    [Fact]
    public async Task FirstStart_EmptyDataDir_PrintsAnAdminKeyThatWorksAndSavesItPrivately()
    {
        var directory = TestDirectories.Create("process");

        await using var server = ServerProcess.Start(directory, new Dictionary<string, string>());
        await server.WaitUntilListeningAsync();

        var key = server.PrintedAdminKey();
        key.ShouldNotBeNull(server.Output);
        server.Output.ShouldContain($"{server.Url}/api/v1");
        using var client = server.Client(key);
        await (await client.GetAsync("/api/v1/workspaces")).ShouldBeAsync(HttpStatusCode.OK);
        await (await client.PostJsonAsync("/api/v1/workspaces", new { name = "first-steps" })).ShouldBeAsync(HttpStatusCode.Created);
        var keyFile = Path.Combine(directory, "data", "admin-key");
        (await File.ReadAllTextAsync(keyFile)).Trim().ShouldBe(key);
        File.GetUnixFileMode(keyFile).ShouldBe(UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.Exists(Path.Combine(directory, "data", DatabaseTarget.SqliteFileName)).ShouldBeTrue();
    }

    [Fact]
    public async Task KilledThenRestarted_KeepsAcknowledgedWritesAndPrintsNoNewKey()
    {
        var directory = TestDirectories.Create("process");
        string key;
        await using (var first = ServerProcess.Start(directory, new Dictionary<string, string>()))
        {
            await first.WaitUntilListeningAsync();
            key = first.PrintedAdminKey()!;
            using var client = first.Client(key);
            await (await client.PostJsonAsync("/api/v1/workspaces", new { name = "survives-a-crash" })).ShouldBeAsync(HttpStatusCode.Created);
            await first.KillAsync();
        }

        await using var second = ServerProcess.Start(directory, new Dictionary<string, string>());
        await second.WaitUntilListeningAsync();

        second.PrintedAdminKey().ShouldBeNull(second.Output);
        using var again = second.Client(key);
        await (await again.GetAsync("/api/v1/workspaces/survives-a-crash")).ShouldBeAsync(HttpStatusCode.OK);
    }

    [Fact]
    public async Task AdminKeyFromEnvironment_IsUsedAndNothingIsGenerated()
    {
        var directory = TestDirectories.Create("process");
        var chosen = "cadre_chosen_by_the_operator_" + Guid.NewGuid().ToString("N");

        await using var server = ServerProcess.Start(directory, new Dictionary<string, string> { ["CADRE_ADMIN_KEY"] = chosen });
        await server.WaitUntilListeningAsync();

        server.PrintedAdminKey().ShouldBeNull();
        server.Output.ShouldNotContain(chosen);
        File.Exists(Path.Combine(directory, "data", "admin-key")).ShouldBeFalse();
        using var client = server.Client(chosen);
        await (await client.GetAsync("/api/v1/workspaces")).ShouldBeAsync(HttpStatusCode.OK);
    }

    [Fact]
    public async Task DataDirFromEnvironment_HoldsTheDatabase()
    {
        var directory = TestDirectories.Create("process");
        var dataDir = Path.Combine(directory, "elsewhere", "state");

        await using var server = ServerProcess.Start(directory, new Dictionary<string, string> { ["CADRE_DATA_DIR"] = dataDir });
        await server.WaitUntilListeningAsync();

        File.Exists(Path.Combine(dataDir, DatabaseTarget.SqliteFileName)).ShouldBeTrue();
        File.Exists(Path.Combine(dataDir, "admin-key")).ShouldBeTrue();
        Directory.Exists(Path.Combine(directory, "data")).ShouldBeFalse();
    }

    [Theory]
    [InlineData("CADRE_DATABASE", "mysql://localhost/cadre", "Cadre:Database")]
    [InlineData("CADRE_DATABASE", "sqlite:", "file path")]
    [InlineData("CADRE_ADMIN_KEY", "too-short", "at least 32 characters")]
    [InlineData("CADRE_HTTP__MAX_REQUEST_BODY_BYTES", "12", "MaxRequestBodyBytes")]
    [InlineData("CADRE_ADMIN_EMAIL", "ops@example.com", "go together")]
    [InlineData("CADRE_SMTP_PORT", "70000", "Cadre:Smtp:Port")]
    [InlineData("CADRE_RETENTION_RUNS", "10m", "Cadre:Retention:Runs (CADRE_RETENTION_RUNS) must be a duration of at least 1 hour")]
    [InlineData("CADRE_PUBLIC_URL", "not a url", "CADRE_PUBLIC_URL")]
    [InlineData("CADRE_PROVIDERS__BROKEN__KIND", "gemini", "Cadre:Providers:BROKEN:Kind must be one of openai, anthropic, mock")]
    [InlineData("OPENAI_BASE_URL", "not a url", "OPENAI_BASE_URL must be an absolute http or https URL")]
    [InlineData("CADRE_ENCRYPTION_KEY", "c2hvcnQ=", "(CADRE_ENCRYPTION_KEY) must be the base64 encoding of exactly 32 bytes")]
    [InlineData("CADRE_ENCRYPTION_PREVIOUS_KEYS", "not base64!", "CADRE_ENCRYPTION_PREVIOUS_KEYS) entry 1 must be")]
    public async Task InvalidSetting_RefusesToStartSayingWhy(string variable, string value, string reason)
    {
        var directory = TestDirectories.Create("process");

        await using var server = ServerProcess.Start(directory, new Dictionary<string, string> { [variable] = value });
        var exitCode = await server.WaitForExitAsync();

        exitCode.ShouldBe(1);
        server.Output.ShouldContain("Cadre cannot start: ");
        server.Output.ShouldContain(reason);
    }

    [Fact]
    public async Task EncryptionKeyFile_HoldingNoKey_RefusesToStartSayingWhy()
    {
        var directory = TestDirectories.Create("process");
        Directory.CreateDirectory(Path.Combine(directory, "data"));
        await File.WriteAllTextAsync(Path.Combine(directory, "data", "encryption-key"), "not a key\n");

        await using var server = ServerProcess.Start(directory, new Dictionary<string, string>());
        var exitCode = await server.WaitForExitAsync();

        exitCode.ShouldBe(1);
        server.Output.ShouldContain("Cadre cannot start: The encryption key file");
        server.Output.ShouldContain("does not hold a key");
        // Refused before the database was touched: no admin key was generated to be lost.
        File.Exists(Path.Combine(directory, "data", "admin-key")).ShouldBeFalse();
        File.Exists(Path.Combine(directory, "data", DatabaseTarget.SqliteFileName)).ShouldBeFalse();
    }

    [Fact]
    public async Task AdminEmailAndPassword_MakeTheInstanceOwner_AWeakPasswordRefusesTheStart()
    {
        var weakDirectory = TestDirectories.Create("process");
        await using (var weak = ServerProcess.Start(weakDirectory, new Dictionary<string, string>
        {
            ["CADRE_ADMIN_EMAIL"] = "ops@example.com",
            ["CADRE_ADMIN_PASSWORD"] = "short",
        }))
        {
            (await weak.WaitForExitAsync()).ShouldBe(1);
            weak.Output.ShouldContain("Cadre cannot start: ");
            weak.Output.ShouldContain("CADRE_ADMIN_PASSWORD");
            weak.Output.ShouldNotContain("\nshort");
        }

        var directory = TestDirectories.Create("process");
        await using var server = ServerProcess.Start(directory, new Dictionary<string, string>
        {
            ["CADRE_ADMIN_EMAIL"] = "ops@example.com",
            ["CADRE_ADMIN_PASSWORD"] = "an unattended install passphrase",
        });
        await server.WaitUntilListeningAsync();

        server.Output.ShouldNotContain("setup?code=");
        server.Output.ShouldNotContain("an unattended install passphrase");
        using var client = server.Client();
        var login = await client.PostJsonAsync("/api/v1/auth/login", new { email = "ops@example.com", password = "an unattended install passphrase" });
        await login.ShouldBeAsync(HttpStatusCode.OK);
        ((string)(await login.ReadObjectAsync())["user"]!["instanceRole"]!).ShouldBe("owner");
    }

    [Fact]
    public async Task FirstStart_PrintsASetupLinkThatMakesTheOwner()
    {
        var directory = TestDirectories.Create("process");

        await using var server = ServerProcess.Start(directory, new Dictionary<string, string>());
        await server.WaitUntilListeningAsync();

        var code = System.Text.RegularExpressions.Regex.Match(server.Output, @"setup\?code=(?<code>[A-Za-z0-9]+)").Groups["code"].Value;
        code.ShouldNotBeNullOrEmpty(server.Output);
        using var client = server.Client();
        await (await client.PostJsonAsync("/api/v1/setup", new { code, email = "first@example.com", displayName = "First", password = "a brand new passphrase" }))
            .ShouldBeAsync(HttpStatusCode.Created);
    }

    [Fact]
    public async Task OptionalSettingsGivenEmpty_AreUnset()
    {
        var directory = TestDirectories.Create("process");

        // As deploy/compose.yaml passes what .env leaves out: ${CADRE_PUBLIC_URL:-} and the like.
        await using var server = ServerProcess.Start(directory, new Dictionary<string, string>
        {
            ["CADRE_PUBLIC_URL"] = "",
            ["CADRE_ADMIN_EMAIL"] = "",
            ["CADRE_ADMIN_PASSWORD"] = "",
        });
        await server.WaitUntilListeningAsync();

        server.Output.ShouldContain($"  {server.Url}/setup?code=");
    }

    [Theory, AllDatabases]
    public async Task NewerSchemaInDatabase_RefusesToStartSayingWhyAndChangesNothing(DatabaseKind db)
    {
        await using var core = await CoreServices.CreateAsync(db);
        await core.Migrator().MigrateAsync(CancellationToken.None);
        await core.ScalarAsync($"INSERT INTO {SchemaMigrator.HistoryTable} (version, name, checksum, applied_at) VALUES (999, 'from_the_future', 'x', 'later')");

        await using var server = ServerProcess.Start(core.DataDir, new Dictionary<string, string> { ["CADRE_DATABASE"] = core.DatabaseSetting });
        var exitCode = await server.WaitForExitAsync();

        exitCode.ShouldBe(1);
        server.Output.ShouldContain("Cadre cannot start: The database");
        server.Output.ShouldContain("schema version 999 ('from_the_future')");
        server.Output.ShouldContain("only knows versions up to");
        (await core.IntAsync($"SELECT COUNT(*) FROM {SchemaMigrator.HistoryTable}")).ShouldBe(core.EmbeddedScripts.Count + 1);
        (await core.IntAsync("SELECT COUNT(*) FROM api_keys")).ShouldBe(0);
    }

    [Theory, AllDatabases]
    public async Task NewerSchemaDeclaredCompatible_StartsAndIsReady(DatabaseKind db)
    {
        await using var core = await CoreServices.CreateAsync(db);
        await core.Migrator().MigrateAsync(CancellationToken.None);
        var version = core.EmbeddedScripts.Count;
        // A rolling upgrade under way: a newer node applied an additive migration; this older build restarts.
        await core.ScalarAsync($"INSERT INTO {SchemaMigrator.HistoryTable} (version, name, checksum, applied_at, compatible_with) VALUES ({version + 1}, 'additive', 'x', 'later', {version})");

        await using var server = ServerProcess.Start(core.DataDir, new Dictionary<string, string> { ["CADRE_DATABASE"] = core.DatabaseSetting });
        await server.WaitUntilListeningAsync();

        server.Output.ShouldContain($"(schema version {version + 1}, newer than this build's {version} and compatible with it: finish the upgrade)");
        using var client = server.Client();
        var ready = await client.GetAsync("/readyz");
        await ready.ShouldBeAsync(HttpStatusCode.OK);
        ((int)(await ready.ReadObjectAsync())["schemaVersion"]!).ShouldBe(version + 1);
        (await core.IntAsync($"SELECT COUNT(*) FROM {SchemaMigrator.HistoryTable}")).ShouldBe(version + 1);
    }
}
