using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using Cadre.Runs;
using Cadre.Server.Tests.Workflows;
using Npgsql;

namespace Cadre.Server.Tests.Runs;

/// <summary>
/// The scale-out bar (issue 9): three node processes on one PostgreSQL run a batch of 10-step runs
/// (http steps calling a sink with their idempotency keys, and durable sleeps) while one node is
/// SIGKILLed and restarted twice and PostgreSQL itself is restarted once in immediate mode, as a
/// crash would. Afterwards every run succeeded, no attempt completed twice, every step's effect
/// reached the sink under its one key, nothing is left queued or leased, and the nodes that were not
/// killed served requests and ran steps after PostgreSQL came back without being restarted.
/// </summary>
/// <remarks>
/// <c>CADRE_TEST_SCALEOUT_RUNS</c> sets the number of runs (default <see cref="DefaultRuns"/>, the
/// issue's full size, which fits CI's budget on two cores in about a minute).
/// </remarks>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class ScaleOutFaultTests
{
    private const int DefaultRuns = 500;
    private const int Steps = 10;
    private const int Nodes = 3;

    [PostgresFact]
    public async Task ThreeNodes_OneKilledTwice_PostgresRestarted_EveryRunSucceeds_NoAttemptTwice_EveryEffectUnderItsKey()
    {
        var runs = int.TryParse(Environment.GetEnvironmentVariable("CADRE_TEST_SCALEOUT_RUNS"), CultureInfo.InvariantCulture, out var size) ? size : DefaultRuns;
        // An outside service's latency: it widens the window in which a fault lands mid-request.
        await using var sink = await FakeHttpServer.StartAsync(_ => Task.Delay(Random.Shared.Next(2, 20)));
        await using var cluster = await PostgresCluster.StartAsync();
        var database = await cluster.CreateDatabaseAsync();
        await using var nodes = await ServerNodes.StartAsync(Nodes, database, "scale");
        var workspaceName = nodes.WorkspaceName;

        var workflow = WorkflowApi.Body("scale");
        workflow["steps"] = JsonNode.Parse(Api.Serialize(Enumerable.Range(1, Steps).Select(i => new
        {
            id = $"s{i}",
            activity = new { uniqueIdentifier = i % 2 == 1 ? "http" : "sleep" },
            dependsOn = i == 1 ? Array.Empty<string>() : [$"s{i - 1}"],
            input = i % 2 == 1 ? (object)new { method = "POST", url = sink.Address + $"s{i}" } : new { duration = "30ms" },
            // A lapsed lease counts as an attempt: unlimited, so only a real failure could end a run.
            retryPolicy = new { maximumAttempts = 0, initialInterval = "50ms", maximumInterval = "500ms" },
        })));
        await (await nodes.Client(0).PostAsync($"/api/v1/workspaces/{workspaceName}/workflows", Api.JsonContent(workflow))).ShouldBeAsync(HttpStatusCode.Created);
        var runIds = new string[runs];

        // Starts runs [from, to), each through node i % 3, with an idempotency key so a start
        // retried after a 503 (the database restarting) makes no second run.
        async Task StartAsync(int from, int to) => await Parallel.ForEachAsync(Enumerable.Range(from, to - from), new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (i, _) =>
        {
            await Eventually.HoldsAsync(async () =>
            {
                using var start = new HttpRequestMessage(HttpMethod.Post, $"/api/v1/workspaces/{workspaceName}/workflows/scale/runs") { Content = Api.JsonContent(new { }) };
                start.Headers.Add("Idempotency-Key", $"scale-{i}");
                using var response = await nodes.Client(i % Nodes).SendAsync(start);
                if (response.StatusCode == HttpStatusCode.ServiceUnavailable)
                {
                    return false;
                }

                await response.ShouldBeAsync(HttpStatusCode.Created);
                runIds[i] = (string)(await response.ReadObjectAsync())["id"]!;
                return true;
            }, $"run {i} started on node {i % Nodes}", seconds: 60);
        });

        async Task WhileAStepCallsTheSinkAsync(Func<Task> fault)
        {
            await Eventually.HoldsAsync(() => sink.InFlight > 0, "a step is calling the sink");
            await fault();
        }

        await StartAsync(0, runs * 2 / 5);
        var firstKillAt = DateTime.UtcNow;
        await WhileAStepCallsTheSinkAsync(() => nodes.KillAndRestartAsync(2));
        await StartAsync(runs * 2 / 5, runs * 3 / 5);
        await WhileAStepCallsTheSinkAsync(cluster.RestartServerAsync);
        var restartedAt = DateTime.UtcNow;
        // Every node takes starts again without a restart of its own (503s while its pooled connections fail are retried).
        await StartAsync(runs * 3 / 5, runs * 4 / 5);
        await WhileAStepCallsTheSinkAsync(() => nodes.KillAndRestartAsync(2));
        await StartAsync(runs * 4 / 5, runs);

        await using var connection = new NpgsqlConnection(database);
        await connection.OpenAsync();
        try
        {
            await Eventually.HoldsAsync(
                async () => await ServerNodes.ScalarAsync(connection, "SELECT COUNT(*) FROM runs WHERE status NOT IN ('succeeded', 'failed', 'halted', 'compensated')") == 0,
                "every run ended", seconds: 120, every: TimeSpan.FromMilliseconds(250));
        }
        catch (TimeoutException)
        {
            await using var stuck = new NpgsqlCommand(
                "SELECT string_agg(r.id || ' ' || r.status || ': ' || s.step_id || ' ' || s.status, '; ') FROM runs AS r JOIN run_steps AS s ON s.run_id = r.id " +
                "WHERE r.status NOT IN ('succeeded', 'failed', 'halted', 'compensated') AND s.status NOT IN ('succeeded', 'pending')", connection);
            throw new TimeoutException($"Runs still open after 120 s: {await stuck.ExecuteScalarAsync()}");
        }

        (await ServerNodes.ScalarAsync(connection, "SELECT COUNT(*) FROM runs WHERE status = 'succeeded'")).ShouldBe(runs);
        runIds.Distinct().Count().ShouldBe(runs);
        (await ServerNodes.ScalarAsync(connection, "SELECT COUNT(*) FROM run_steps WHERE status = 'succeeded'")).ShouldBe(runs * Steps);
        // One completion per step and per sleep's timer, none twice, nothing left in the queue or leased.
        (await ServerNodes.ScalarAsync(connection, "SELECT COUNT(*) FROM tasks WHERE kind = 'step' AND status = 'succeeded'")).ShouldBe(runs * Steps);
        (await ServerNodes.ScalarAsync(connection, "SELECT COUNT(*) FROM (SELECT 1 FROM tasks WHERE status = 'succeeded' GROUP BY run_id, step_id, iteration, kind HAVING COUNT(*) > 1) AS twice")).ShouldBe(0);
        (await ServerNodes.ScalarAsync(connection, "SELECT COUNT(*) FROM tasks WHERE kind = 'timer' AND status = 'succeeded'")).ShouldBe(runs * Steps / 2);
        (await ServerNodes.ScalarAsync(connection, "SELECT COUNT(*) FROM tasks WHERE status IN ('queued', 'leased')")).ShouldBe(0);
        // The kills landed mid-attempt (else this proves little).
        (await ServerNodes.ScalarAsync(connection, "SELECT COUNT(*) FROM tasks WHERE status = 'abandoned'")).ShouldBeGreaterThan(0);

        // Every http step reached the sink under the key of its one completed attempt, and only under that key.
        var keysAtSink = sink.IdempotencyKeys();

        var completed = new HashSet<string>(StringComparer.Ordinal);
        await using (var tasks = new NpgsqlCommand("SELECT run_id, step_id, attempt, iteration FROM tasks WHERE kind = 'step' AND status = 'succeeded'", connection))
        await using (var reader = await tasks.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                if (int.Parse(reader.GetString(1)[1..], CultureInfo.InvariantCulture) % 2 == 1)
                {
                    completed.Add(ActivityContext.KeyFor(reader.GetString(0), reader.GetString(1), reader.GetInt32(2), reader.GetInt32(3)));
                }
            }
        }

        completed.Count.ShouldBe(runs * Steps / 2);
        completed.Except(keysAtSink).ShouldBeEmpty("completed steps whose call never reached the sink");
        keysAtSink.Except(completed).ShouldBeEmpty("calls under a key no completed attempt has (a second attempt's effect)");

        // The nodes never restarted took work after PostgreSQL's restart, and answer as ready: the
        // workers that ran steps before the first kill and again after the restart are theirs (the
        // killed node's first process was gone by then, and a restarted node leases under a new name).
        await using (var owners = new NpgsqlCommand(
            "SELECT COUNT(DISTINCT lease_owner) FROM tasks WHERE status = 'succeeded' AND started_at > $2 " +
            "AND lease_owner IN (SELECT lease_owner FROM tasks WHERE status = 'succeeded' AND started_at < $1)", connection))
        {
            owners.Parameters.Add(new NpgsqlParameter { Value = firstKillAt });
            owners.Parameters.Add(new NpgsqlParameter { Value = restartedAt });
            Convert.ToInt64(await owners.ExecuteScalarAsync(), CultureInfo.InvariantCulture).ShouldBe(Nodes - 1);
        }

        foreach (var node in nodes.Nodes)
        {
            using var anonymous = node.Client();
            await (await anonymous.GetAsync("/readyz")).ShouldBeAsync(HttpStatusCode.OK);
        }
    }
}
