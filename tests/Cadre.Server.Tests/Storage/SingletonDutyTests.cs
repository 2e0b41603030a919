using System.Globalization;
using System.Net;
using Cadre.Server.Tests.Retention;
using Cadre.Server.Tests.Runs;
using Cadre.Storage;
using Npgsql;

namespace Cadre.Server.Tests.Storage;

/// <summary>
/// Singleton duties (retention, housekeeping, the abandoned-children sweep) on several nodes of one
/// PostgreSQL database: one node holds each, does it alone, and when it is killed another takes over.
/// </summary>
public sealed class SingletonDutyTests
{
    [PostgresFact]
    public async Task TwoNodes_EachDutyHasOneHolder_WhichDoesItAlone_WithoutErrors()
    {
        var settings = new Dictionary<string, string?>(EngineApps.Settings) { ["Cadre:Retention:Interval"] = "00:00:01", ["Cadre:Retention:BatchSize"] = "5" };
        await using var first = await CadreApp.StartAsync(DatabaseKind.Postgres, settings);
        await HoldersAsync(first.DatabaseSetting, holders => holders.Count == SingletonLock.All.Count, "the first node takes every duty");
        await using var second = await CadreApp.StartAsync(DatabaseKind.Postgres, settings, databaseSetting: first.DatabaseSetting, dataDir: first.DataDir, adminKey: first.AdminKey);
        var workspace = await second.CreateWorkspaceAsync();
        var flow = await workspace.CreateFlowAsync([new { id = "only", activity = new { uniqueIdentifier = "transform" }, input = new { ok = true } }]);
        var runs = new List<string>();
        for (var i = 0; i < 12; i++)
        {
            runs.Add((string)(await workspace.StartAsync(flow))["id"]!);
        }

        await second.EndedAgoAsync(TimeSpan.FromDays(31), [.. runs]);

        await Eventually.HoldsAsync(
            async () => (int)(await (await workspace.Owner.GetAsync(workspace.Runs())).ReadObjectAsync())["count"]! == 0,
            "retention deletes the old runs");
        (await HoldersAsync(first.DatabaseSetting, _ => true, "")).Count.ShouldBe(SingletonLock.All.Count);
        // One node did every duty: the first, which took them; the second only tried.
        first.Logs.Messages.Count(m => m.Contains("does the", StringComparison.Ordinal) && m.Contains("duty now", StringComparison.Ordinal)).ShouldBe(SingletonLock.All.Count);
        second.Logs.Messages.ShouldNotContain(m => m.Contains("duty now", StringComparison.Ordinal));
        // The pass reports when it ends, a moment after its last delete.
        await Eventually.HoldsAsync(() => DeletedRuns(first) == runs.Count, "the first node reports the runs it deleted");
        DeletedRuns(second).ShouldBe(0);
        foreach (var app in new[] { first, second })
        {
            app.Logs.Messages.ShouldNotContain(m => (m.StartsWith("Warning", StringComparison.Ordinal) || m.StartsWith("Error", StringComparison.Ordinal))
                && (m.Contains("Retention", StringComparison.Ordinal) || m.Contains("Housekeeping", StringComparison.Ordinal) || m.Contains("AbandonedChildren", StringComparison.Ordinal)));
        }
    }

    [PostgresFact]
    public async Task HolderKilled_AnotherNodeTakesItsDutiesOverWithinSeconds()
    {
        var database = await TestPostgres.CreateDatabaseAsync();
        var adminKey = "cadre_test_admin_" + Guid.NewGuid().ToString("N");
        var environment = new Dictionary<string, string>
        {
            ["CADRE_DATABASE"] = database,
            ["CADRE_ADMIN_KEY"] = adminKey,
            ["CADRE_RATE_LIMIT_PERMITS_PER_SECOND"] = "0",
            ["CADRE_RETENTION_INTERVAL"] = "00:00:01",
        };
        await using var first = ServerProcess.Start(TestDirectories.Create("node-a"), environment);
        await first.WaitUntilListeningAsync();
        var firstHolders = await HoldersAsync(database, holders => holders.Count == SingletonLock.All.Count, "the first node takes every duty");
        await using var second = ServerProcess.Start(TestDirectories.Create("node-b"), environment);
        await second.WaitUntilListeningAsync();
        (await HoldersAsync(database, _ => true, "")).ShouldBe(firstHolders);

        await first.KillAsync();

        await HoldersAsync(
            database, holders => holders.Count == SingletonLock.All.Count && holders.Values.All(name => !firstHolders.ContainsValue(name)),
            "the second node takes every duty over", seconds: 15);
        // And does them: a run past retention goes.
        using var admin = second.Client(adminKey);
        var name = Api.UniqueName("dut");
        await (await admin.PostJsonAsync("/api/v1/workspaces", new { name })).ShouldBeAsync(HttpStatusCode.Created);
        var workspace = new TestWorkspace(name, "", adminKey, admin);
        var flow = await workspace.CreateFlowAsync([new { id = "only", activity = new { uniqueIdentifier = "transform" }, input = new { ok = true } }]);
        var run = (string)(await workspace.StartAsync(flow))["id"]!;
        await using (var connection = new NpgsqlConnection(database))
        {
            await connection.OpenAsync();
            await using var age = new NpgsqlCommand("UPDATE runs SET finished_at = now() - interval '31 days' WHERE id = $1", connection) { Parameters = { new NpgsqlParameter { Value = run } } };
            (await age.ExecuteNonQueryAsync()).ShouldBe(1);
        }

        await Eventually.HoldsAsync(async () => await workspace.RunStatusCodeAsync(run) == HttpStatusCode.NotFound, "the second node's retention deletes the old run", seconds: 15);
        second.HasExited.ShouldBeFalse(second.Output);
    }

    [PostgresFact]
    public async Task HoldersSessionEnds_TheNodeStopsTheDuty_AndTakesItAgain()
    {
        await using var app = await CadreApp.StartAsync(DatabaseKind.Postgres);
        await HoldersAsync(app.DatabaseSetting, holders => holders.Count == SingletonLock.All.Count, "the node takes every duty");
        static int Took(CadreApp app) => app.Logs.Messages.Count(m => m.Contains("does the retention duty now", StringComparison.Ordinal));
        Took(app).ShouldBe(1);

        // As a broken connection or a server that restarted would: the session, and the lock with it, are gone.
        await using (var connection = new NpgsqlConnection(app.DatabaseSetting))
        {
            await connection.OpenAsync();
            await using var terminate = new NpgsqlCommand(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND application_name LIKE 'cadre retention %'", connection);
            await terminate.ExecuteNonQueryAsync();
        }

        await Eventually.HoldsAsync(() => app.Logs.Messages.Any(m => m.Contains("lost the retention duty", StringComparison.Ordinal)), "the node notices it lost the duty");
        await Eventually.HoldsAsync(() => Took(app) == 2, "the node takes the duty again");
        await HoldersAsync(app.DatabaseSetting, holders => holders.Count == SingletonLock.All.Count, "every duty is held again");
    }

    private static int DeletedRuns(CadreApp app) => app.Logs.Messages.Where(m => m.Contains("Retention deleted", StringComparison.Ordinal))
        .Sum(m => int.Parse(m.Split("Retention deleted ")[1].Split(' ')[0], CultureInfo.InvariantCulture));

    /// <summary>Who holds each duty's lock (duty → the holding session's application name), once <paramref name="until"/> holds.</summary>
    private static async Task<Dictionary<string, string>> HoldersAsync(string database, Func<Dictionary<string, string>, bool> until, string what, int seconds = 30)
    {
        Dictionary<string, string> holders = [];
        await Eventually.HoldsAsync(async () =>
        {
            holders = [];
            await using var connection = new NpgsqlConnection(database);
            await connection.OpenAsync();
            foreach (var duty in SingletonLock.All)
            {
                // A bigint advisory key shows in pg_locks as its high and low 32 bits, objsubid 1; keys are per database
                // (other tests' apps hold the same keys in theirs).
                await using var command = new NpgsqlCommand(
                    "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid " +
                    "WHERE l.locktype = 'advisory' AND l.granted AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) " +
                    $"AND l.classid = {duty.Key >> 32} AND l.objid = {duty.Key & 0xFFFFFFFF} AND l.objsubid = 1", connection);
                await using var reader = await command.ExecuteReaderAsync();
                var names = new List<string>();
                while (await reader.ReadAsync())
                {
                    names.Add(reader.GetString(0));
                }

                names.Count.ShouldBeLessThanOrEqualTo(1, $"one holder of {duty.Name} at most");
                if (names.Count == 1)
                {
                    holders[duty.Name] = names[0];
                }
            }

            return until(holders);
        }, what, seconds);
        return holders;
    }
}
