using System.Data.Common;
using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using Cadre.Runs;
using Cadre.Server.Tests.Runs;
using Cadre.Server.Tests.Workflows;
using Cadre.Storage;
using Microsoft.Data.Sqlite;
using Npgsql;
using Xunit.Abstractions;

namespace Cadre.Server.Tests.Battery;

/// <summary>
/// Battery item 3: the durable waits and the unwind across SIGKILLs of the server process. Three
/// batches of runs, one kill each: sleeps whose timers fall due while the server is dead (or just
/// after it is back); approvals decided while the server is killed (and decided again after the
/// restart); compensations unwinding a failed run with the kill landing inside an undo's call to the
/// sink. Afterwards each timer fired once and its next step ran once, each approval took one decision
/// and a second one answers 409, and each compensation's effect reached the sink under one key.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
[Trait("Battery", "3")]
public sealed class DurableWaitKillTests(ITestOutputHelper output)
{
    private static readonly string[] Ended = ["succeeded", "failed", "compensated", "halted"];

    [Fact]
    public Task TimersApprovalsAndCompensations_AcrossKillsOnSqlite_EachFiresConsumesOrUnwindsOnce() => KillAcrossWaitsAsync(DatabaseKind.Sqlite);

    /// <summary>The same on PostgreSQL, where a dead process's leases come back when they lapse: on demand, as it doubles the item's time.</summary>
    [OnDemandFact]
    public Task TimersApprovalsAndCompensations_AcrossKillsOnPostgres_EachFiresConsumesOrUnwindsOnce() => KillAcrossWaitsAsync(DatabaseKind.Postgres);

    private async Task KillAcrossWaitsAsync(DatabaseKind db)
    {
        var perKind = BatteryScale.Pick(8, 25);
        var undoInFlight = 0;
        await using var sink = await FakeHttpServer.StartAsync(async context =>
        {
            var path = context.Request.Path.Value!;
            if (path == "/fail")
            {
                context.Response.StatusCode = 400;
                return;
            }

            if (!path.StartsWith("/undo/", StringComparison.Ordinal))
            {
                return;
            }

            // An undo is slow, so the kill lands inside one.
            Interlocked.Increment(ref undoInFlight);
            try
            {
                await Task.Delay(Random.Shared.Next(100, 300));
            }
            finally
            {
                Interlocked.Decrement(ref undoInFlight);
            }
        });
        var directory = TestDirectories.Create("waits");
        var adminKey = "cadre_test_admin_" + Guid.NewGuid().ToString("N");
        var postgres = db == DatabaseKind.Postgres ? await TestPostgres.CreateDatabaseAsync() : null;
        var environment = ServerProcess.KillableEnvironment(adminKey, postgres);

        var server = ServerProcess.Start(directory, environment);
        HttpClient? owner = null, approver = null;
        try
        {
            await server.WaitUntilListeningAsync();
            var workspaceName = Api.UniqueName("waits");
            string ownerKey;
            using (var admin = server.Client(adminKey))
            {
                await (await admin.PostJsonAsync("/api/v1/workspaces", new { name = workspaceName })).ShouldBeAsync(HttpStatusCode.Created);
                ownerKey = await admin.CreateKeyAsync(workspaceName, "owner");
            }

            owner = server.Client(ownerKey);
            var (approverId, approverKey) = await owner.CreateServiceAccountAsync(workspaceName, "operator");
            approver = server.Client(approverKey);
            var workspace = new TestWorkspace(workspaceName, "", ownerKey, owner);
            async Task KillAndRestartAsync(Func<Task>? whileDown = null)
            {
                await server.KillAsync();
                await server.DisposeAsync();
                if (whileDown is not null)
                {
                    await whileDown();
                }

                server = ServerProcess.Start(directory, environment);
                await server.WaitUntilListeningAsync();
                owner.Dispose();
                approver.Dispose();
                owner = server.Client(ownerKey);
                approver = server.Client(approverKey);
                workspace = workspace with { Owner = owner };
            }

            await CreateAsync(owner, workspaceName, "timer",
            [
                new { id = "wait", activity = new { uniqueIdentifier = "sleep" }, input = new { until = "{{ context.body.until }}" } },
                Http("after", sink.Address + "after-timer", ["wait"]),
            ]);
            await CreateAsync(owner, workspaceName, "approve",
            [
                new { id = "signoff", activity = new { uniqueIdentifier = "approval" }, input = new { message = "Go?" }, approval = new { approvers = new[] { approverId } } },
                Http("after", sink.Address + "after-approval", ["signoff"]),
            ]);
            await CreateAsync(owner, workspaceName, "unwind",
            [
                Http("reserve", sink.Address + "do/reserve", [], compensation: sink.Address + "undo/reserve"),
                Http("ship", sink.Address + "do/ship", ["reserve"], compensation: sink.Address + "undo/ship"),
                new
                {
                    id = "charge", activity = new { uniqueIdentifier = "http" }, dependsOn = new[] { "ship" },
                    input = new { method = "POST", url = sink.Address + "fail" }, onFailure = "compensate", retryPolicy = new { maximumAttempts = 1 },
                },
            ]);

            // Timers: due 3 s (and a little more per run, for the starts) to 2 s later, the server killed once none is before
            // its sleep, and kept dead until the first half are due.
            var batch = DateTimeOffset.UtcNow.AddSeconds(3 + (0.15 * perKind));
            var dueAt = Enumerable.Range(0, perKind).Select(i => batch.AddSeconds(2.0 * i / perKind)).ToArray();
            var timerRuns = new List<string>();
            for (var i = 0; i < perKind; i++)
            {
                timerRuns.Add(await StartAsync(owner, workspaceName, "timer", new { until = dueAt[i].ToString("O", CultureInfo.InvariantCulture) }));
            }

            await Eventually.HoldsAsync(
                async () => await CountAsync(workspace, "timer", "queued") + await CountAsync(workspace, "timer", "running") == 0, "every timer run waits (or is past it)", seconds: 60);
            var timersKilledAt = DateTimeOffset.UtcNow;
            await KillAndRestartAsync(async () =>
            {
                var halfDue = dueAt[perKind / 2] - DateTimeOffset.UtcNow;
                if (halfDue > TimeSpan.Zero)
                {
                    await Task.Delay(halfDue + TimeSpan.FromMilliseconds(200));
                }
            });
            var timersBackAt = DateTimeOffset.UtcNow;
            var dueWhileDown = dueAt.Count(d => d > timersKilledAt && d < timersBackAt);

            // Approvals: every decision sent at once, the server killed as soon as half are acknowledged.
            var approvalRuns = new List<string>();
            for (var i = 0; i < perKind; i++)
            {
                approvalRuns.Add(await StartAsync(owner, workspaceName, "approve", new { }));
            }

            var approvals = await Eventually.HoldsAsync(
                () => workspace.ListAllAsync($"/api/v1/workspaces/{workspaceName}/approvals?status=pending"), a => a.Count == perKind, "every approval is pending", seconds: 60);
            var approvalIds = approvals.Select(a => (string)a["id"]!).ToList();
            var acknowledged = new HashSet<string>(StringComparer.Ordinal);
            var halfAcknowledged = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var decisions = approvalIds.Select(async id =>
            {
                try
                {
                    using var response = await approver.PostJsonAsync($"/api/v1/workspaces/{workspaceName}/approvals/{id}/decisions", new { decision = "approve" });
                    if (response.StatusCode == HttpStatusCode.OK)
                    {
                        lock (acknowledged)
                        {
                            acknowledged.Add(id);
                            if (acknowledged.Count >= (perKind + 1) / 2)
                            {
                                halfAcknowledged.TrySetResult();
                            }
                        }
                    }
                }
                catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException or ObjectDisposedException)
                {
                    // Cut by the kill: the decision may or may not have committed.
                }
            }).ToList();
            await halfAcknowledged.Task.WaitAsync(TimeSpan.FromSeconds(60));
            await KillAndRestartAsync();
            await Task.WhenAll(decisions);
            var cutByKill = perKind - acknowledged.Count;

            // The approver sends each decision again, as a client that lost its answer would: refused for each acknowledged one;
            // for one cut by the kill, refused if it had committed, else this is the one decision.
            var secondRefused = 0;
            var retriedAccepted = 0;
            foreach (var id in approvalIds)
            {
                using var again = await approver.PostJsonAsync($"/api/v1/workspaces/{workspaceName}/approvals/{id}/decisions", new { decision = "approve" });
                if (acknowledged.Contains(id) || again.StatusCode != HttpStatusCode.OK)
                {
                    await again.ShouldBeProblemAsync(HttpStatusCode.Conflict);
                    secondRefused++;
                }
                else
                {
                    retriedAccepted++;
                }
            }

            // Compensations: each run fails at its third step and unwinds two; the kill lands inside an undo's call.
            var unwindRuns = new List<string>();
            for (var i = 0; i < perKind; i++)
            {
                unwindRuns.Add(await StartAsync(owner, workspaceName, "unwind", new { }));
            }

            await Eventually.HoldsAsync(() => Volatile.Read(ref undoInFlight) > 0, "an undo is calling the sink", seconds: 60);
            await KillAndRestartAsync();

            var allRuns = timerRuns.Concat(approvalRuns).Concat(unwindRuns).ToList();
            var statuses = new Dictionary<string, string>();
            var deadline = DateTime.UtcNow.AddSeconds(120);
            do
            {
                var listed = await workspace.ListAllAsync(workspace.Runs());
                statuses = listed.ToDictionary(r => (string)r["id"]!, r => (string)r["status"]!);
                if (allRuns.All(id => statuses.TryGetValue(id, out var status) && Ended.Contains(status)))
                {
                    break;
                }

                await Task.Delay(100);
            }
            while (DateTime.UtcNow < deadline);

            // Each approval's record: one decision, applied once.
            var decisionCounts = new Dictionary<string, int>();
            foreach (var id in approvalIds)
            {
                var approval = await (await owner.GetAsync($"/api/v1/workspaces/{workspaceName}/approvals/{id}")).ReadObjectAsync();
                decisionCounts[id] = approval["decisions"]!.AsArray().Count;
            }

            await server.KillAsync();
            await using var connection = postgres is null
                ? (DbConnection)new SqliteConnection($"Data Source={Path.Combine(directory, "data", DatabaseTarget.SqliteFileName)}")
                : new NpgsqlConnection(postgres);
            await connection.OpenAsync();
            var completions = await CompletionsAsync(connection);
            var abandonedUndos = await ScalarAsync(connection, "SELECT COUNT(*) FROM tasks WHERE kind = 'compensation' AND status = 'abandoned'");
            var abandoned = await ScalarAsync(connection, "SELECT COUNT(*) FROM tasks WHERE status = 'abandoned'");

            // What each run's effects looked like at the sink: the keys per (run, path).
            var keysAtSink = new Dictionary<(string Run, string Path), HashSet<string>>();
            var undoCalls = 0;
            lock (sink.Requests)
            {
                foreach (var request in sink.Requests)
                {
                    var key = request.Headers.GetValueOrDefault("Idempotency-Key", "(none)");
                    var path = request.PathAndQuery;
                    undoCalls += path.StartsWith("/undo/", StringComparison.Ordinal) ? 1 : 0;
                    var run = key.Split('/')[0];
                    if (!keysAtSink.TryGetValue((run, path), out var keys))
                    {
                        keysAtSink[(run, path)] = keys = new HashSet<string>(StringComparer.Ordinal);
                    }

                    keys.Add(key);
                }
            }

            // An effect is right when it arrived under exactly the key of the one completed attempt (or undo).
            var wrong = new List<string>();
            void Once(string run, string step, string kind, string path)
            {
                var done = completions.GetValueOrDefault((run, step, kind)) ?? [];
                var keys = keysAtSink.GetValueOrDefault((run, path)) ?? [];
                if (done.Count != 1 || !keys.SetEquals(done))
                {
                    wrong.Add($"{run} {step} {kind}: completed {string.Join(" ", done)}, at the sink {string.Join(" ", keys)}");
                }
            }

            foreach (var run in timerRuns)
            {
                Once(run, "after", "step", "/after-timer");
                if ((completions.GetValueOrDefault((run, "wait", "timer"))?.Count ?? 0) != 1)
                {
                    wrong.Add($"{run} wait: the timer fired {completions.GetValueOrDefault((run, "wait", "timer"))?.Count ?? 0} times");
                }
            }

            foreach (var run in approvalRuns.Where(r => statuses.GetValueOrDefault(r) == "succeeded"))
            {
                Once(run, "after", "step", "/after-approval");
            }

            foreach (var run in unwindRuns)
            {
                Once(run, "reserve", "compensation", "/undo/reserve");
                Once(run, "ship", "compensation", "/undo/ship");
            }

            var expected = timerRuns.Select(r => (Run: r, Status: "succeeded"))
                .Concat(approvalRuns.Select(r => (Run: r, Status: "succeeded")))
                .Concat(unwindRuns.Select(r => (Run: r, Status: "compensated")))
                .ToList();
            var stuck = allRuns.Count(r => !statuses.TryGetValue(r, out var status) || !Ended.Contains(status));
            var succeeded = expected.Count(e => statuses.GetValueOrDefault(e.Run) == e.Status);
            var lost = allRuns.Count - succeeded - stuck;
            var twiceDecided = decisionCounts.Values.Count(c => c != 1);
            var completedTwice = completions.Values.Count(keys => keys.Count > 1);
            BatteryReport.Reliability(output, 3, $"{perKind} timers, {perKind} approvals, {perKind} compensations, 3 kills, {db}", allRuns.Count, succeeded, lost,
                completedTwice + twiceDecided + wrong.Count, stuck,
                ("timers due while down", dueWhileDown), ("decisions cut by the kill", cutByKill), ("second decisions refused 409", secondRefused), ("retries that were the decision", retriedAccepted),
                ("undo calls", undoCalls), ("undos redelivered", abandonedUndos), ("abandoned attempts", abandoned));

            stuck.ShouldBe(0, string.Join(", ", allRuns.Where(r => !Ended.Contains(statuses.GetValueOrDefault(r) ?? "")).Select(r => $"{r} {statuses.GetValueOrDefault(r)}")));
            foreach (var (run, status) in expected)
            {
                statuses[run].ShouldBe(status, run);
            }

            lost.ShouldBe(0);
            completedTwice.ShouldBe(0);
            decisionCounts.Values.ShouldAllBe(c => c == 1);
            wrong.ShouldBeEmpty();
            secondRefused.ShouldBe(perKind - retriedAccepted);
            // Each kill hit what it was meant to: timers due while the server was dead, decisions in flight or just committed, an undo mid-call.
            dueWhileDown.ShouldBeGreaterThan(0);
            acknowledged.Count.ShouldBeGreaterThan(0);
            abandonedUndos.ShouldBeGreaterThan(0);
            if (postgres is null)
            {
                await using var integrity = connection.CreateCommand();
                integrity.CommandText = "PRAGMA integrity_check";
                ((string?)await integrity.ExecuteScalarAsync()).ShouldBe("ok");
            }
        }
        finally
        {
            owner?.Dispose();
            approver?.Dispose();
            await server.DisposeAsync();
        }
    }

    private static object Http(string id, string url, string[] dependsOn, string? compensation = null) => new
    {
        id,
        activity = new { uniqueIdentifier = "http" },
        dependsOn,
        input = new { method = "POST", url },
        // A lapsed lease counts as an attempt: unlimited, so only a real failure could end a run.
        retryPolicy = new { maximumAttempts = 0, initialInterval = "50ms", maximumInterval = "500ms" },
        compensation = compensation is null ? null : new { activity = new { uniqueIdentifier = "http" }, input = new { method = "POST", url = compensation } },
    };

    private static async Task CreateAsync(HttpClient owner, string workspace, string name, object[] steps)
    {
        var workflow = WorkflowApi.Body(name);
        workflow["steps"] = JsonNode.Parse(Api.Serialize(steps));
        await (await owner.PostAsync($"/api/v1/workspaces/{workspace}/workflows", Api.JsonContent(workflow))).ShouldBeAsync(HttpStatusCode.Created);
    }

    private static async Task<string> StartAsync(HttpClient owner, string workspace, string workflow, object input)
    {
        var response = await owner.PostJsonAsync($"/api/v1/workspaces/{workspace}/workflows/{workflow}/runs", new { input });
        await response.ShouldBeAsync(HttpStatusCode.Created);
        return (string)(await response.ReadObjectAsync())["id"]!;
    }

    private static async Task<int> CountAsync(TestWorkspace workspace, string workflow, string status) =>
        (await workspace.ListAllAsync(workspace.Runs($"?workflow={workflow}&status={status}"))).Count;

    /// <summary>The keys of the succeeded tasks, per run, step and kind (step, timer, compensation).</summary>
    private static async Task<Dictionary<(string Run, string Step, string Kind), List<string>>> CompletionsAsync(DbConnection connection)
    {
        var completions = new Dictionary<(string, string, string), List<string>>();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT run_id, step_id, kind, attempt, iteration FROM tasks WHERE status = 'succeeded'";
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            var (run, step, kind) = (reader.GetString(0), reader.GetString(1), reader.GetString(2));
            if (!completions.TryGetValue((run, step, kind), out var keys))
            {
                completions[(run, step, kind)] = keys = [];
            }

            keys.Add(ActivityContext.KeyFor(run, step, reader.GetInt32(3), reader.GetInt32(4), kind == "compensation"));
        }

        return completions;
    }

    private static async Task<long> ScalarAsync(DbConnection connection, string sql)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        return Convert.ToInt64(await command.ExecuteScalarAsync(), CultureInfo.InvariantCulture);
    }
}
