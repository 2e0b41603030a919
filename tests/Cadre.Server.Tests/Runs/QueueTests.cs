using System.Text.Json.Nodes;
using Cadre.Storage;
using Cadre.Storage.Postgres;
using Cadre.Storage.Sqlite;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Cadre.Server.Tests.Runs;

/// <summary>The task queue at scale: workspaces take turns, and a lease reads the queued rows it needs, not the table.</summary>
public sealed class QueueTests
{
    private const int SmallWorkspaces = 11;

    [Theory, AllDatabases]
    public async Task Fairness_ManyWorkspaces_EachTakesItsTurnBeforeAnyTakesTwo(DatabaseKind db)
    {
        // One slot, so each lease takes one task and the sink sees the queue's order.
        var settings = new Dictionary<string, string?>(EngineApps.Settings) { ["Cadre:Engine:Workers"] = "1" };
        await using var app = await CadreApp.StartAsync(db, settings);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var sink = await FakeHttpServer.StartAsync(async context =>
        {
            if (context.Request.Path == "/hold")
            {
                await release.Task;
            }
        });
        object[] Call(string path) => [new { id = "call", activity = new { uniqueIdentifier = "http" }, input = new { url = sink.Address + path } }];

        // The only slot is busy, so everything started below waits in the queue (none is handed straight to a worker).
        var holder = await app.CreateWorkspaceAsync();
        var held = await holder.StartAsync(await holder.CreateFlowAsync(Call("hold")), wait: null);
        await Eventually.HoldsAsync(() => Paths(sink).Contains("/hold"), "the holding step reached the sink");
        var busy = await app.CreateWorkspaceAsync();
        var small = new List<TestWorkspace>();
        for (var i = 0; i < SmallWorkspaces; i++)
        {
            small.Add(await app.CreateWorkspaceAsync());
        }

        var runs = new List<(TestWorkspace Workspace, string Id)>();
        var busyFlow = await busy.CreateFlowAsync(Call("busy"));
        for (var i = 0; i < 30; i++)
        {
            runs.Add((busy, (string)(await busy.StartAsync(busyFlow, wait: null))["id"]!));
        }

        for (var i = 0; i < SmallWorkspaces; i++)
        {
            var flow = await small[i].CreateFlowAsync(Call($"small{i}"));
            for (var j = 0; j < 2; j++)
            {
                runs.Add((small[i], (string)(await small[i].StartAsync(flow, wait: null))["id"]!));
            }
        }

        release.SetResult();

        await holder.WaitForRunAsync((string)held["id"]!);
        foreach (var (workspace, id) in runs)
        {
            ((string)(await workspace.WaitForRunAsync(id))["status"]!).ShouldBe("succeeded");
        }

        var order = Paths(sink).Where(p => p != "/hold").ToList();
        order.Count.ShouldBe(30 + (2 * SmallWorkspaces));
        var workspaces = SmallWorkspaces + 1;
        // Round by round: every workspace with work once, in rotation, however long the busy one's backlog.
        order.Take(workspaces).Distinct().Count().ShouldBe(workspaces, string.Join(' ', order));
        order.Skip(workspaces).Take(workspaces).Distinct().Count().ShouldBe(workspaces, string.Join(' ', order));
        order.Skip(2 * workspaces).ShouldAllBe(p => p == "/busy", string.Join(' ', order));
    }

    [PostgresFact]
    public async Task Lease_BesideAMillionFinishedTasksAndABacklog_ReadsOnlyTheQueuedIndexEntriesItNeeds()
    {
        // No workers: the test leases by itself, so the seeded rows stay as they are.
        var settings = new Dictionary<string, string?>(EngineApps.Settings) { ["Cadre:Engine:Enabled"] = "false" };
        await using var app = await CadreApp.StartAsync(DatabaseKind.Postgres, settings);
        var workspace = await app.CreateWorkspaceAsync();
        var flow = await workspace.CreateFlowAsync([new { id = "nap", activity = new { uniqueIdentifier = "sleep" }, input = new { duration = "1h" } }]);
        var runId = (string)(await workspace.StartAsync(flow, wait: null))["id"]!;
        await using (var seed = new NpgsqlConnection(app.DatabaseSetting))
        {
            await seed.OpenAsync();
            // A million finished attempts over 50 workspaces; 99 000 due in one workspace's backlog,
            // 1 000 due over 100 others, and 10 000 timers over 20 more, not yet due.
            await ExecuteAsync(seed,
                "INSERT INTO tasks (run_id, workspace_id, step_id, kind, iteration, attempt, status, available_at, started_at, finished_at, created_at) " +
                "SELECT $1, 'ws_old_' || (g % 50), 's', 'step', 1, 1, 'succeeded', now() - interval '1 day', now() - interval '1 day', now() - interval '1 day', now() - interval '1 day' " +
                "FROM generate_series(1, 1000000) AS g", runId);
            await ExecuteAsync(seed,
                "INSERT INTO tasks (run_id, workspace_id, step_id, kind, iteration, attempt, status, available_at, created_at) " +
                "SELECT $1, CASE WHEN g <= 1000 THEN 'ws_small_' || lpad((g % 100)::text, 3, '0') ELSE 'ws_backlog' END, 's', 'step', 1, 1, 'queued', " +
                "now() - interval '1 hour' + g * interval '1 ms', now() FROM generate_series(1, 100000) AS g", runId);
            await ExecuteAsync(seed,
                "INSERT INTO tasks (run_id, workspace_id, step_id, kind, iteration, attempt, status, available_at, created_at) " +
                "SELECT $1, 'ws_later_' || (g % 20), 's', 'timer', 1, 1, 'queued', now() + interval '1 day', now() FROM generate_series(1, 10000) AS g", runId);
            await ExecuteAsync(seed, "ANALYZE tasks");
        }

        var now = DateTime.UtcNow;
        await using (var scope = app.Services.CreateAsyncScope())
        {
            var storage = scope.ServiceProvider.GetRequiredService<StorageProvider>();
            var context = scope.ServiceProvider.GetRequiredService<CadreDbContext>();

            var first = await storage.LeaseTasksAsync(context, "test", 8, now, now.AddMinutes(1), "", CancellationToken.None);
            var second = await storage.LeaseTasksAsync(context, "test", 8, now, now.AddMinutes(1), StorageProvider.NextTurnAfter("", first), CancellationToken.None);

            // The rotation from the start: the real workspace (its run's step), the backlog, then the
            // small workspaces in order (passing over those with timers only), each its oldest task,
            // and the next lease carries on from there.
            first.Select(t => t.WorkspaceId).Order(StringComparer.Ordinal)
                .ShouldBe([workspace.Id, "ws_backlog", .. Enumerable.Range(0, 6).Select(n => $"ws_small_{n:000}")]);
            second.Select(t => t.WorkspaceId).Order(StringComparer.Ordinal).ShouldBe(Enumerable.Range(6, 8).Select(n => $"ws_small_{n:000}"));
            first.Concat(second).ShouldAllBe(t => t.Status == "leased" && t.LeaseOwner == "test");
            var oldest = await context.Tasks.AsNoTracking()
                .Where(t => t.WorkspaceId == "ws_backlog" && t.Status == "queued").OrderBy(t => t.AvailableAt).ThenBy(t => t.Id).FirstAsync();
            first.Single(t => t.WorkspaceId == "ws_backlog").Id.ShouldBeLessThan(oldest.Id);
        }

        var plan = await ExplainLeaseAsync(app.DatabaseSetting, now, after: "");

        // Every read of tasks goes through an index (the queued partial index, or the key for the
        // rows it updates), never the table or a bitmap of it, and reads a handful of rows, not the backlog.
        var reads = Nodes(plan).Where(n => (string?)n["Relation Name"] == "tasks" && (string)n["Node Type"]! != "ModifyTable").ToList();
        reads.ShouldNotBeEmpty();
        foreach (var node in reads)
        {
            ((string)node["Node Type"]!).ShouldBeOneOf(["Index Scan", "Index Only Scan"], node.ToJsonString());
            ((string)node["Index Name"]!).ShouldBeOneOf(["ix_tasks_queued_turns", "tasks_pkey"], node.ToJsonString());
        }

        foreach (var node in Nodes(plan))
        {
            ((double)node["Actual Rows"]! * (double)node["Actual Loops"]!).ShouldBeLessThan(200, node.ToJsonString());
        }

        Nodes(plan).ShouldNotContain(n => (string)n["Node Type"]! == "Seq Scan" || (string)n["Node Type"]! == "Bitmap Heap Scan");
    }

    [Fact]
    public async Task Lease_OnSqlite_ReadsTasksOnlyThroughIndexes()
    {
        await using var app = await CadreApp.StartAsync(DatabaseKind.Sqlite, new Dictionary<string, string?> { ["Cadre:Engine:Enabled"] = "false" });
        await using var connection = new SqliteConnection($"Data Source={Path.Combine(app.DataDir, DatabaseTarget.SqliteFileName)}");
        await connection.OpenAsync();
        await using var explain = connection.CreateCommand();
        var sql = SqliteStorageProvider.LeaseSql;
        for (var i = 0; i < 5; i++)
        {
            sql = sql.Replace($"{{{i}}}", $"$p{i}", StringComparison.Ordinal);
            explain.Parameters.AddWithValue($"$p{i}", i == 3 ? 8 : "x");
        }

        explain.CommandText = "EXPLAIN QUERY PLAN " + sql;
        var plan = new List<string>();
        await using (var reader = await explain.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                plan.Add(reader.GetString(3));
            }
        }

        // Each read of tasks is a search of an index or of the key, or a walk of the queued index in its order.
        var reads = plan.Where(line => System.Text.RegularExpressions.Regex.IsMatch(line, "^(SEARCH|SCAN) (t|tasks)( |$)")).ToList();
        reads.ShouldNotBeEmpty(string.Join('\n', plan));
        reads.ShouldAllBe(line => line.Contains("USING INDEX ix_tasks_queued_turns", StringComparison.Ordinal) || line.Contains("USING INTEGER PRIMARY KEY", StringComparison.Ordinal)
            || line.Contains("USING COVERING INDEX ix_tasks_queued_turns", StringComparison.Ordinal), string.Join('\n', plan));
    }

    /// <summary>EXPLAIN ANALYZE of the lease statement as the engine sends it, rolled back.</summary>
    private static async Task<JsonObject> ExplainLeaseAsync(string database, DateTime now, string after)
    {
        await using var connection = new NpgsqlConnection(database);
        await connection.OpenAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        var sql = PostgresStorageProvider.LeaseSql;
        for (var i = 0; i < 5; i++)
        {
            sql = sql.Replace($"{{{i}}}", $"${i + 1}", StringComparison.Ordinal);
        }

        await using var explain = new NpgsqlCommand("EXPLAIN (ANALYZE, FORMAT JSON) " + sql, connection, transaction);
        explain.Parameters.Add(new NpgsqlParameter { Value = "explain" });
        explain.Parameters.Add(new NpgsqlParameter { Value = now.AddMinutes(1) });
        explain.Parameters.Add(new NpgsqlParameter { Value = now });
        explain.Parameters.Add(new NpgsqlParameter { Value = 8 });
        explain.Parameters.Add(new NpgsqlParameter { Value = after });
        var json = (string)(await explain.ExecuteScalarAsync())!;
        await transaction.RollbackAsync();
        return JsonNode.Parse(json)!.AsArray()[0]!["Plan"]!.AsObject();
    }

    private static IEnumerable<JsonObject> Nodes(JsonObject plan) =>
        [plan, .. (plan["Plans"]?.AsArray() ?? []).SelectMany(child => Nodes(child!.AsObject()))];

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql, params object[] values)
    {
        await using var command = new NpgsqlCommand(sql, connection) { CommandTimeout = 120 };
        foreach (var value in values)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = value });
        }

        await command.ExecuteNonQueryAsync();
    }

    private static List<string> Paths(FakeHttpServer sink)
    {
        lock (sink.Requests)
        {
            return [.. sink.Requests.Select(r => r.PathAndQuery)];
        }
    }
}
