using System.Data.Common;
using System.Net;
using System.Text.Json.Nodes;
using Cadre.Server.Tests.Runs;
using Cadre.Server.Tests.Workflows;
using Cadre.Storage;
using Microsoft.AspNetCore.Http;
using Microsoft.Data.Sqlite;
using Npgsql;
using Xunit.Abstractions;

namespace Cadre.Server.Tests.Battery;

/// <summary>
/// Battery item 1, the durability bar: the server as a separate process, SIGKILLed at random moments
/// (6 times reduced, 12 full) while 200 runs of a 5-step workflow call a sink with their idempotency
/// keys, restarted each time. Afterwards every acknowledged run has ended and succeeded, no attempt
/// completed twice, every step's effect reached the sink under one key, analytics counts each run
/// once, and the SQLite file passes <c>PRAGMA integrity_check</c>.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
[Trait("Battery", "1")]
public sealed class KillLoopTests(ITestOutputHelper output)
{
    private const int Runs = 200;
    private const int Steps = 5;

    [Theory, AllDatabases]
    public async Task KilledAtRandomMoments_LosesNoRun_CompletesNoAttemptTwice_AndEveryEffectArrivesUnderOneKey(DatabaseKind db)
    {
        var kills = BatteryScale.Pick(6, 12);
        var seed = Environment.TickCount;
        var random = new Random(seed);
        var received = new List<(string Path, string Key)>();
        await using var sink = await FakeHttpServer.StartAsync(async context =>
        {
            // A little latency widens the window in which a kill lands mid-request.
            await Task.Delay(Random.Shared.Next(5, 40));
            lock (received)
            {
                received.Add((context.Request.Path.Value!, context.Request.Headers["Idempotency-Key"].ToString()));
            }
        });
        var directory = TestDirectories.Create("crash");
        var adminKey = "cadre_test_admin_" + Guid.NewGuid().ToString("N");
        var postgres = db == DatabaseKind.Postgres ? await TestPostgres.CreateDatabaseAsync() : null;
        var environment = ServerProcess.KillableEnvironment(adminKey, postgres);

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
            for (var kill = 0; kill < kills; kill++)
            {
                // A batch of acknowledged starts, then a kill while their steps are in flight.
                while (runIds.Count < (kill == kills - 1 ? Runs : (kill + 1) * Runs / kills))
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
                while (sink.InFlight == 0 && DateTime.UtcNow < waitedFor)
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

            var workspace = new TestWorkspace(workspaceName, "", ownerKey, owner);
            var deadline = DateTime.UtcNow.AddSeconds(180);
            List<JsonObject> runs;
            while (true)
            {
                runs = await workspace.ListAllAsync(workspace.Runs());
                if ((runs.Count == runIds.Count && runs.All(r => Ended(r))) || DateTime.UtcNow > deadline)
                {
                    break;
                }

                await Task.Delay(50);
            }

            // Each step of each run: its completed attempts, and the keys its effect reached the sink under.
            var statuses = runs.ToDictionary(r => (string)r["id"]!, r => (string)r["status"]!);
            var twiceAtSink = new List<string>();
            var notOnce = new List<string>();
            foreach (var runId in runIds.Where(statuses.ContainsKey))
            {
                var tasks = await workspace.ListAllAsync(workspace.Runs($"/{runId}/tasks"));
                for (var i = 1; i <= Steps; i++)
                {
                    var succeeded = tasks.Where(t => (string)t["stepId"]! == $"s{i}" && (string)t["status"]! == "succeeded").Select(t => (string)t["idempotencyKey"]!).ToList();
                    List<string> keys;
                    lock (received)
                    {
                        keys = [.. received.Where(r => r.Path == $"/s{i}" && r.Key.StartsWith(runId + "/", StringComparison.Ordinal)).Select(r => r.Key).Distinct()];
                    }

                    // Redelivered after a kill, a step may reach the sink again, but only ever under its one key.
                    if (keys.Count > 1)
                    {
                        twiceAtSink.Add($"{runId}/s{i}: {string.Join(" ", keys)}");
                    }

                    if (statuses[runId] == "succeeded" && (succeeded.Count != 1 || !keys.SequenceEqual(succeeded)))
                    {
                        notOnce.Add($"{runId}/s{i}: completed {string.Join(" ", succeeded)}, at the sink {string.Join(" ", keys)}");
                    }
                }
            }

            // Analytics counted each run once across the kills: facts commit with the run's end, folds are whole or nothing.
            var analytics = await (await owner.GetAsync($"/api/v1/workspaces/{workspaceName}/workflows/crash/analytics?days=2")).ReadObjectAsync();

            await server.KillAsync();
            await using var connection = postgres is null
                ? (DbConnection)new SqliteConnection($"Data Source={Path.Combine(directory, "data", DatabaseTarget.SqliteFileName)}")
                : new NpgsqlConnection(postgres);
            await connection.OpenAsync();
            var completedTwice = await ScalarAsync(connection,
                "SELECT COUNT(*) FROM (SELECT run_id, step_id, iteration FROM tasks WHERE kind = 'step' AND status = 'succeeded' GROUP BY run_id, step_id, iteration HAVING COUNT(*) > 1) AS twice");
            var abandoned = await ScalarAsync(connection, "SELECT COUNT(*) FROM tasks WHERE status = 'abandoned'");
            string? integrity = null;
            if (postgres is null)
            {
                await using var check = connection.CreateCommand();
                check.CommandText = "PRAGMA integrity_check";
                integrity = (string?)await check.ExecuteScalarAsync();
            }

            var succeededRuns = runIds.Count(id => statuses.GetValueOrDefault(id) == "succeeded");
            var lost = runIds.Count(id => !statuses.TryGetValue(id, out var status) || (Ended(status) && status != "succeeded"));
            var stuck = runIds.Count(id => statuses.TryGetValue(id, out var status) && !Ended(status));
            BatteryReport.Reliability(output, 1, $"{Runs} runs × {Steps} http steps, {db}", runIds.Count, succeededRuns, lost, completedTwice + twiceAtSink.Count, stuck,
                ("kills", kills), ("abandoned attempts", abandoned), ("integrity", integrity ?? "n/a"), ("seed", seed));

            runIds.Count.ShouldBe(Runs);
            runs.Select(r => (string)r["id"]!).ShouldBe(runIds, ignoreOrder: true);
            stuck.ShouldBe(0, $"runs still open (seed {seed}): {string.Join(", ", runs.Where(r => !Ended(r)).Select(r => $"{r["id"]} {r["status"]}"))}");
            runs.ShouldAllBe(r => (string)r["status"]! == "succeeded", $"seed {seed}");
            lost.ShouldBe(0);
            completedTwice.ShouldBe(0, $"seed {seed}");
            twiceAtSink.ShouldBeEmpty($"seed {seed}");
            notOnce.ShouldBeEmpty($"seed {seed}");
            ((long)analytics["kpis"]!["runs"]!).ShouldBe(Runs, $"seed {seed}");
            ((long)analytics["kpis"]!["succeeded"]!).ShouldBe(Runs, $"seed {seed}");
            // The kills did land mid-attempt (else this test proves nothing).
            abandoned.ShouldBeGreaterThan(0, $"seed {seed}");
            if (postgres is null)
            {
                integrity.ShouldBe("ok");
            }
        }
        finally
        {
            await server.DisposeAsync();
        }
    }

    private static bool Ended(JsonObject run) => Ended((string)run["status"]!);

    private static bool Ended(string status) => status is "succeeded" or "failed" or "compensated";

    private static async Task<long> ScalarAsync(DbConnection connection, string sql)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        return Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }
}
