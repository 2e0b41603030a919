using System.Net;
using System.Net.Http.Json;
using Cadre.Storage;
using Npgsql;

namespace Cadre.Server.Tests.Hosting;

/// <summary>
/// The scale-out topology as deploy/compose.yaml runs it, with processes instead of containers: identical
/// nodes started together on one empty PostgreSQL database, each with its own data directory.
/// </summary>
public sealed class NodesOnOneDatabaseTests
{
    private const string Email = "ops@example.com";
    private const string Password = "an unattended install passphrase";

    [PostgresFact]
    public async Task TwoNodesStartedTogether_MigrateOnce_AndAcceptEachOthersCookies()
    {
        var database = await TestPostgres.CreateDatabaseAsync();
        var environment = new Dictionary<string, string>
        {
            ["CADRE_DATABASE"] = database,
            ["CADRE_ADMIN_KEY"] = "cadre_shared_by_every_node_" + Guid.NewGuid().ToString("N"),
            ["CADRE_ENCRYPTION_KEY"] = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)),
            ["CADRE_ADMIN_EMAIL"] = Email,
            ["CADRE_ADMIN_PASSWORD"] = Password,
        };

        await using var first = ServerProcess.Start(TestDirectories.Create("node"), environment);
        await using var second = ServerProcess.Start(TestDirectories.Create("node"), environment);
        await Task.WhenAll(first.WaitUntilListeningAsync(), second.WaitUntilListeningAsync());

        (await CountAsync(database, $"SELECT COUNT(*) FROM {SchemaMigrator.HistoryTable}"))
            .ShouldBe(MigrationScript.LoadEmbedded("Postgres").Count);
        (await CountAsync(database, "SELECT COUNT(*) FROM users")).ShouldBe(1);
        // One key ring with one key, made before either node listened: nothing a node encrypts is unknown to the other.
        (await CountAsync(database, "SELECT COUNT(*) FROM data_protection_keys")).ShouldBe(1);

        await SignInAndUseAsync(signIn: first, use: second);
        await SignInAndUseAsync(signIn: second, use: first);
        (await CountAsync(database, "SELECT COUNT(*) FROM data_protection_keys")).ShouldBe(1);
    }

    /// <summary>Signs in on one node, then reads and writes with that session cookie and CSRF token on the other.</summary>
    private static async Task SignInAndUseAsync(ServerProcess signIn, ServerProcess use)
    {
        using var login = await signIn.Client().PostJsonAsync("/api/v1/auth/login", new { email = Email, password = Password });
        await login.ShouldBeAsync(HttpStatusCode.OK);
        var csrfToken = (string)(await login.ReadObjectAsync())["csrfToken"]!;
        // Each cookie's name=value, as a browser sends them back (one host name in front of both nodes).
        var cookies = string.Join("; ", login.Headers.GetValues("Set-Cookie").Select(c => c.Split(';')[0]));

        using var other = use.Client();
        other.DefaultRequestHeaders.Add("Cookie", cookies);
        other.DefaultRequestHeaders.Add("X-CSRF-Token", csrfToken);
        using var me = await other.GetAsync("/api/v1/me");
        await me.ShouldBeAsync(HttpStatusCode.OK);
        var caller = await me.ReadObjectAsync();
        ((string)caller["authentication"]!).ShouldBe("session");
        ((string)caller["user"]!["email"]!).ShouldBe(Email);
        using var write = await other.PatchAsJsonAsync("/api/v1/me", new { displayName = "Signed in on " + new Uri(signIn.Url).Port });
        await write.ShouldBeAsync(HttpStatusCode.OK);
    }

    private static async Task<long> CountAsync(string database, string sql)
    {
        await using var connection = new NpgsqlConnection(database);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return (long)(await command.ExecuteScalarAsync())!;
    }
}
