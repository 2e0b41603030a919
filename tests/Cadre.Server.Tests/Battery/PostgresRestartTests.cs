using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using Cadre.Runs;
using Cadre.Server.Tests.Workflows;
using Npgsql;
using Xunit.Abstractions;

namespace Cadre.Server.Tests.Battery;

/// <summary>
/// Battery item 2: two node processes on a PostgreSQL cluster of the test's own while a client starts
/// runs at a steady rate, each with an <c>Idempotency-Key</c> and retried with the same key after a
/// 503, a 409 "in progress" or a broken connection, as a real client would. PostgreSQL is restarted
/// in immediate mode (as a crash would) twice during the load, each time while a step is calling the
/// sink. Afterwards every acknowledged start has exactly one run, every run succeeded with each step
/// completed once and its effect at the sink under its one key, and the nodes, never restarted, took
/// work after the restarts and answer ready.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
[Trait("Battery", "2")]
public sealed class PostgresRestartTests(ITestOutputHelper output)
{
    private const int Nodes = 2;

    /// <summary>s1 http → s2 sleep → s3 http: two effects at the sink and a durable timer per run.</summary>
    private const int Steps = 3;

    [PostgresFact]
    public async Task RestartedTwice_UnderASteadyStartRate_EveryAcknowledgedStartRunsExactlyOnce_NodesRecoverWithoutRestart()
    {
        var rate = BatteryScale.Pick(10, 20);
        var seconds = BatteryScale.Pick(12, 30);
        var total = rate * seconds;
        // An outside service's latency: it widens the window in which a restart lands mid-request.
        await using var sink = await FakeHttpServer.StartAsync(_ => Task.Delay(Random.Shared.Next(2, 20)));
        // A cluster of the test's own: restarting the shared one would break every other test's connections.
        await using var cluster = await PostgresCluster.StartAsync();
        var database = await cluster.CreateDatabaseAsync();
        // A start whose response was lost with the database holds its key this long (default 1 min) before a retry may run.
        await using var nodes = await ServerNodes.StartAsync(
            Nodes, database, "restart", environment => environment["Cadre__Idempotency__LockTimeout"] = "00:00:05", clientTimeout: TimeSpan.FromSeconds(30));
        var workspaceName = nodes.WorkspaceName;

        var workflow = WorkflowApi.Body("steady");
        workflow["steps"] = JsonNode.Parse(Api.Serialize(new object[]
        {
            Http("s1", sink.Address + "s1", []),
            new { id = "s2", activity = new { uniqueIdentifier = "sleep" }, dependsOn = new[] { "s1" }, input = new { duration = "50ms" } },
            Http("s3", sink.Address + "s3", ["s2"]),
        }));
        await (await nodes.Client(0).PostAsync($"/api/v1/workspaces/{workspaceName}/workflows", Api.JsonContent(workflow))).ShouldBeAsync(HttpStatusCode.Created);

        var runIds = new string?[total];
        long unavailable = 0, broken = 0, inProgress = 0, otherErrors = 0;
        var errors = new List<string>();

        // One start as a real client makes it: the same key and body until it is acknowledged (or 90 s pass).
        async Task StartAsync(int i)
        {
            var deadline = DateTime.UtcNow.AddSeconds(90);
            while (DateTime.UtcNow < deadline)
            {
                using var start = new HttpRequestMessage(HttpMethod.Post, $"/api/v1/workspaces/{workspaceName}/workflows/steady/runs")
                {
                    Content = Api.JsonContent(new { input = new { n = i } }),
                };
                start.Headers.Add("Idempotency-Key", $"steady-{i}");
                try
                {
                    using var response = await nodes.Client(i % Nodes).SendAsync(start);
                    if (response.StatusCode is HttpStatusCode.Created or HttpStatusCode.OK)
                    {
                        runIds[i] = (string)(await response.ReadObjectAsync())["id"]!;
                        return;
                    }

                    if (response.StatusCode == HttpStatusCode.ServiceUnavailable)
                    {
                        Interlocked.Increment(ref unavailable);
                    }
                    else if (response.StatusCode == HttpStatusCode.Conflict)
                    {
                        // "Request in progress": the first try's response was lost with the database; its key is held a while.
                        Interlocked.Increment(ref inProgress);
                    }
                    else
                    {
                        Interlocked.Increment(ref otherErrors);
                        var body = await response.Content.ReadAsStringAsync();
                        lock (errors)
                        {
                            errors.Add($"start {i}: {(int)response.StatusCode} {body}");
                        }
                    }
                }
                catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
                {
                    Interlocked.Increment(ref broken);
                }

                await Task.Delay(250);
            }
        }

        // Each restart waits for its moment in the load (a third and two thirds in), then for a step inside its call to the sink.
        var restartedAt = new List<DateTime>();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        async Task RestartTwiceAsync()
        {
            for (var restart = 1; restart <= 2; restart++)
            {
                var due = TimeSpan.FromSeconds(seconds * restart / 3.0) - clock.Elapsed;
                if (due > TimeSpan.Zero)
                {
                    await Task.Delay(due);
                }

                await Eventually.HoldsAsync(() => sink.InFlight > 0, "a step is calling the sink");
                await cluster.RestartServerAsync();
                restartedAt.Add(DateTime.UtcNow);
            }
        }

        var restarts = RestartTwiceAsync();
        var starts = new List<Task>(total);
        for (var i = 0; i < total; i++)
        {
            var due = TimeSpan.FromSeconds((double)i / rate) - clock.Elapsed;
            if (due > TimeSpan.Zero)
            {
                await Task.Delay(due);
            }

            starts.Add(StartAsync(i));
        }

        await restarts;
        await Task.WhenAll(starts);
        var loadSeconds = clock.Elapsed.TotalSeconds;

        // A few starts through each node after the load: the work they take shows each node's own workers recovered.
        const int Probes = 3;
        for (var node = 0; node < Nodes; node++)
        {
            for (var j = 0; j < Probes; j++)
            {
                using var probe = new HttpRequestMessage(HttpMethod.Post, $"/api/v1/workspaces/{workspaceName}/workflows/steady/runs") { Content = Api.JsonContent(new { }) };
                probe.Headers.Add("Idempotency-Key", $"probe-{node}-{j}");
                await (await nodes.Client(node).SendAsync(probe)).ShouldBeAsync(HttpStatusCode.Created);
            }
        }

        await using var connection = new NpgsqlConnection(database);
        await connection.OpenAsync();
        var ended = DateTime.UtcNow.AddSeconds(120);
        while (await ServerNodes.ScalarAsync(connection, "SELECT COUNT(*) FROM runs WHERE status NOT IN ('succeeded', 'failed', 'halted', 'compensated')") > 0 && DateTime.UtcNow < ended)
        {
            await Task.Delay(250);
        }

        var runs = new Dictionary<string, (string Status, string? Key)>();
        await using (var all = new NpgsqlCommand("SELECT id, status, idempotency_key FROM runs", connection))
        await using (var reader = await all.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                runs[reader.GetString(0)] = (reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetString(2));
            }
        }

        var acknowledged = runIds.Where(id => id is not null).Select(id => id!).ToList();
        var succeeded = acknowledged.Count(id => runs.TryGetValue(id, out var run) && run.Status == "succeeded");
        var lost = acknowledged.Count(id => !runs.TryGetValue(id, out var run) || run.Status is "failed" or "halted" or "compensated");
        var stuck = acknowledged.Count(id => runs.TryGetValue(id, out var run) && run.Status is not ("succeeded" or "failed" or "halted" or "compensated"));
        // A start that made a second run (under its key, or under none), and a step completed twice.
        var extraRuns = runs.Count - runs.Values.Where(r => r.Key is not null).Select(r => r.Key).Distinct().Count();
        var completedTwice = await ServerNodes.ScalarAsync(connection,
            "SELECT COUNT(*) FROM (SELECT 1 FROM tasks WHERE status = 'succeeded' GROUP BY run_id, step_id, iteration, kind HAVING COUNT(*) > 1) AS twice");

        // Every http step reached the sink under the key of its one completed attempt, and only under that key.
        var keysAtSink = sink.IdempotencyKeys();

        var completed = new HashSet<string>(StringComparer.Ordinal);
        await using (var tasks = new NpgsqlCommand("SELECT run_id, step_id, attempt, iteration FROM tasks WHERE kind = 'step' AND status = 'succeeded' AND step_id <> 's2'", connection))
        await using (var reader = await tasks.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                completed.Add(ActivityContext.KeyFor(reader.GetString(0), reader.GetString(1), reader.GetInt32(2), reader.GetInt32(3)));
            }
        }

        var effectsUnderAnotherKey = keysAtSink.Except(completed).Count();
        var effectsMissing = completed.Except(keysAtSink).Count();
        var abandoned = await ServerNodes.ScalarAsync(connection, "SELECT COUNT(*) FROM tasks WHERE status = 'abandoned'");

        // Every worker name is a node process's own (new at each start): exactly the two names, each with work after the second restart.
        var workers = new List<(string Owner, long After)>();
        await using (var owners = new NpgsqlCommand(
            "SELECT lease_owner, SUM(CASE WHEN started_at > $1 THEN 1 ELSE 0 END) FROM tasks WHERE status = 'succeeded' AND lease_owner <> 'inline' GROUP BY lease_owner", connection))
        {
            owners.Parameters.Add(new NpgsqlParameter { Value = restartedAt[^1] });
            await using var reader = await owners.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                workers.Add((reader.GetString(0), Convert.ToInt64(reader.GetValue(1), CultureInfo.InvariantCulture)));
            }
        }

        var recoveredNodes = workers.Count(w => w.After > 0);
        var ready = 0;
        foreach (var node in nodes.Nodes)
        {
            using var anonymous = node.Client();
            if (!node.HasExited && (await anonymous.GetAsync("/readyz")).StatusCode == HttpStatusCode.OK)
            {
                ready++;
            }
        }

        BatteryReport.Reliability(output, 2, $"{rate} starts/s for {seconds} s on {Nodes} nodes, PostgreSQL restarted twice", total, succeeded, lost,
            extraRuns + completedTwice + effectsUnderAnotherKey, stuck,
            ("acknowledged", acknowledged.Count), ("restarts", restartedAt.Count), ("503s", unavailable), ("409s in progress", inProgress),
            ("broken connections", broken), ("other errors", otherErrors), ("abandoned attempts", abandoned),
            ("nodes ready without restart", ready), ("nodes working after restarts", recoveredNodes), ("load s", Math.Round(loadSeconds)));

        errors.ShouldBeEmpty();
        acknowledged.Count.ShouldBe(total, "every start is acknowledged once the database is back");
        acknowledged.Distinct().Count().ShouldBe(total);
        restartedAt.Count.ShouldBe(2);
        stuck.ShouldBe(0);
        lost.ShouldBe(0);
        succeeded.ShouldBe(total);
        runs.Count.ShouldBe(total + (Nodes * Probes), "one run per start, none twice");
        extraRuns.ShouldBe(0);
        completedTwice.ShouldBe(0);
        effectsUnderAnotherKey.ShouldBe(0, "calls under a key no completed attempt has (a second attempt's effect)");
        effectsMissing.ShouldBe(0, "completed steps whose call never reached the sink");
        (await ServerNodes.ScalarAsync(connection, "SELECT COUNT(*) FROM runs WHERE status <> 'succeeded'")).ShouldBe(0, "the probes succeeded too");
        (unavailable + broken + inProgress).ShouldBeGreaterThan(0, "the restarts reached the client (else this proves little)");
        ready.ShouldBe(Nodes);
        workers.Count.ShouldBe(Nodes, "tasks ran only under the two node processes' names");
        recoveredNodes.ShouldBe(Nodes);
    }

    private static object Http(string id, string url, string[] dependsOn) => new
    {
        id,
        activity = new { uniqueIdentifier = "http" },
        dependsOn,
        input = new { method = "POST", url },
        // A lapsed lease counts as an attempt: unlimited, so only a real failure could end a run.
        retryPolicy = new { maximumAttempts = 0, initialInterval = "50ms", maximumInterval = "500ms" },
    };
}
