using System.Data.Common;
using System.Net;
using System.Text.Json.Nodes;
using Cadre.Server.Tests.Workflows;
using Cadre.Storage;
using Microsoft.AspNetCore.Http;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Cadre.Server.Tests.Runs;

/// <summary>
/// The durability bar: the server as a separate process, SIGKILLed at random moments while 200 runs
/// of a 5-step workflow call a sink with their idempotency keys, restarted each time. Afterwards every
/// run has ended, no attempt completed twice, every step's effect reached the sink under one key, and
/// analytics counts each run once.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class EngineCrashTests
{
    private const int Runs = 200;
    private const int Steps = 5;
    private const int Kills = 6;

    [Theory, AllDatabases]
    public async Task KilledAtRandomMoments_LosesNoRun_CompletesNoAttemptTwice_AndEveryEffectArrivesUnderOneKey(DatabaseKind db)
    {
        var seed = Environment.TickCount;
        var random = new Random(seed);
        var received = new List<(string Path, string Key)>();
        var inFlight = 0;
        await using var sink = await FakeHttpServer.StartAsync(async context =>
        {
            Interlocked.Increment(ref inFlight);
            try
            {
                // A little latency widens the window in which a kill lands mid-request.
                await Task.Delay(Random.Shared.Next(5, 40));
                lock (received)
                {
                    received.Add((context.Request.Path.Value!, context.Request.Headers["Idempotency-Key"].ToString()));
                }
            }
            finally
            {
                Interlocked.Decrement(ref inFlight);
            }
        });
        var directory = TestDirectories.Create("crash");
        var adminKey = "cadre_test_admin_" + Guid.NewGuid().ToString("N");
        var environment = new Dictionary<string, string>
        {
            ["CADRE_ADMIN_KEY"] = adminKey,
            ["CADRE_OUTBOUND_ALLOW_PRIVATE_NETWORKS"] = "true",
            ["CADRE_ENGINE_POLL_INTERVAL"] = "00:00:00.100",
            // PostgreSQL is multi-node, so a dead process's leases are only taken back when they lapse.
            ["CADRE_ENGINE_LEASE_DURATION"] = "00:00:02",
            ["CADRE_RATE_LIMIT_PERMITS_PER_SECOND"] = "0",
        };
        string? postgres = null;
        if (db == DatabaseKind.Postgres)
        {
            postgres = await TestPostgres.CreateDatabaseAsync();
            environment["CADRE_DATABASE"] = postgres;
        }

        var server = ServerProcess.Start(directory, environment);
        try
        {
            await server.WaitUntilListeningAsync();
            using var admin = server.Client(adminKey);
            var workspaceName = Api.UniqueName("crash");
            await (await admin.PostJsonAsync("/api/v1/workspaces", new { name = workspaceName })).ShouldBeAsync(HttpStatusCode.Created);
            var ownerKey = await admin.CreateKeyAsync(workspaceName, "owner");
            var owner = server.Client(ownerKey);
            var workflow = WorkflowApi.Body("crash");
            workflow["steps"] = JsonNode.Parse(Api.Serialize(Enumerable.Range(1, Steps).Select(i => new
            {
                id = $"s{i}",
                activity = new { uniqueIdentifier = "http" },
                dependsOn = i == 1 ? Array.Empty<string>() : [$"s{i - 1}"],
                input = new { method = "POST", url = sink.Address + $"s{i}" },
                retryPolicy = new { maximumAttempts = 0, initialInterval = "50ms", maximumInterval = "500ms" },
            })));
            await (await owner.PostAsync($"/api/v1/workspaces/{workspaceName}/workflows", Api.JsonContent(workflow))).ShouldBeAsync(HttpStatusCode.Created);

            var runIds = new List<string>();
            for (var kill = 0; kill < Kills; kill++)
            {
                // A batch of acknowledged starts, then a kill while their steps are in flight.
                while (runIds.Count < (kill == Kills - 1 ? Runs : (kill + 1) * Runs / Kills))
                {
                    using var start = new HttpRequestMessage(HttpMethod.Post, $"/api/v1/workspaces/{workspaceName}/workflows/crash/runs") { Content = Api.JsonContent(new { }) };
                    start.Headers.Add("Idempotency-Key", $"crash-{runIds.Count}");
                    var response = await owner.SendAsync(start);
                    await response.ShouldBeAsync(HttpStatusCode.Created);
                    runIds.Add((string)(await response.ReadObjectAsync())["id"]!);
                }

                // A random moment, then the next one at which a step is inside its call to the sink.
                await Task.Delay(random.Next(0, 200));
                var waitedFor = DateTime.UtcNow.AddSeconds(5);
                while (Volatile.Read(ref inFlight) == 0 && DateTime.UtcNow < waitedFor)
                {
                    await Task.Delay(1);
                }

                await server.KillAsync();
                await server.DisposeAsync();
                server = ServerProcess.Start(directory, environment);
                await server.WaitUntilListeningAsync();
                owner.Dispose();
                owner = server.Client(ownerKey);
            }

            runIds.Count.ShouldBe(Runs);
            var workspace = new TestWorkspace(workspaceName, "", ownerKey, owner);
            var deadline = DateTime.UtcNow.AddSeconds(180);
            List<JsonObject> runs;
            while (true)
            {
                runs = await workspace.ListAllAsync(workspace.Runs());
                if (runs.Count == Runs && runs.All(r => (string)r["status"]! is "succeeded" or "failed" or "compensated"))
                {
                    break;
                }

                DateTime.UtcNow.ShouldBeLessThan(deadline, $"Runs still open (seed {seed}): {string.Join(", ", runs.Where(r => (string)r["status"]! is not ("succeeded" or "failed" or "compensated")).Select(r => $"{r["id"]} {r["status"]}"))}");
                await Task.Delay(50);
            }

            runs.ShouldAllBe(r => (string)r["status"]! == "succeeded", $"seed {seed}");
            runs.Select(r => (string)r["id"]!).ShouldBe(runIds, ignoreOrder: true);
            foreach (var runId in runIds)
            {
                var tasks = await workspace.ListAllAsync(workspace.Runs($"/{runId}/tasks"));
                for (var i = 1; i <= Steps; i++)
                {
                    var succeeded = tasks.Where(t => (string)t["stepId"]! == $"s{i}" && (string)t["status"]! == "succeeded").ToList();
                    succeeded.Count.ShouldBe(1, $"run {runId} step s{i} (seed {seed})");
                    var key = (string)succeeded[0]["idempotencyKey"]!;
                    List<string> keys;
                    lock (received)
                    {
                        keys = [.. received.Where(r => r.Path == $"/s{i}" && r.Key.StartsWith(runId + "/", StringComparison.Ordinal)).Select(r => r.Key).Distinct()];
                    }

                    // Redelivered after a kill, a step may reach the sink again, but only ever under its one key.
                    keys.ShouldBe([key], $"run {runId} step s{i} (seed {seed})");
                }
            }

            // Analytics counted each run once across the kills: facts commit with the run's end, folds are whole or nothing.
            var analytics = await (await owner.GetAsync($"/api/v1/workspaces/{workspaceName}/workflows/crash/analytics?days=2")).ReadObjectAsync();
            ((long)analytics["kpis"]!["runs"]!).ShouldBe(Runs, $"seed {seed}");
            ((long)analytics["kpis"]!["succeeded"]!).ShouldBe(Runs, $"seed {seed}");

            await server.KillAsync();
            await using var connection = postgres is null
                ? (DbConnection)new SqliteConnection($"Data Source={Path.Combine(directory, "data", DatabaseTarget.SqliteFileName)}")
                : new NpgsqlConnection(postgres);
            await connection.OpenAsync();
            await using var duplicates = connection.CreateCommand();
            duplicates.CommandText = "SELECT COUNT(*) FROM (SELECT run_id, step_id, iteration FROM tasks WHERE kind = 'step' AND status = 'succeeded' GROUP BY run_id, step_id, iteration HAVING COUNT(*) > 1) AS twice";
            Convert.ToInt64(await duplicates.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture).ShouldBe(0);
            // The kills did land mid-attempt (else this test proves nothing).
            await using var abandoned = connection.CreateCommand();
            abandoned.CommandText = "SELECT COUNT(*) FROM tasks WHERE status = 'abandoned'";
            Convert.ToInt64(await abandoned.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture).ShouldBeGreaterThan(0, $"seed {seed}");
            if (postgres is null)
            {
                await using var integrity = connection.CreateCommand();
                integrity.CommandText = "PRAGMA integrity_check";
                ((string?)await integrity.ExecuteScalarAsync()).ShouldBe("ok");
            }
        }
        finally
        {
            await server.DisposeAsync();
        }
    }
}
