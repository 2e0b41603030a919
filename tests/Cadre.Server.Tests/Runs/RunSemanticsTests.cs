using System.Net;
using System.Text.Json.Nodes;
using Cadre.Server.Tests.Workflows;
using Cadre.Storage;
using Microsoft.AspNetCore.Http;

namespace Cadre.Server.Tests.Runs;

/// <summary>DESIGN §5 through the API: ordering, parallelism, skips, failures, compensation, loops, retries.</summary>
public sealed class RunSemanticsTests
{
    private static JsonObject Http(string id, string url, string[]? dependsOn = null, object? extra = null) =>
        Merge(new { id, activity = new { uniqueIdentifier = "http" }, dependsOn = dependsOn ?? [], input = new { method = "POST", url } }, extra);

    private static JsonObject Transform(string id, object input, string[]? dependsOn = null, object? extra = null) =>
        Merge(new { id, activity = new { uniqueIdentifier = "transform" }, dependsOn = dependsOn ?? [], input }, extra);

    private static JsonObject Merge(object step, object? extra)
    {
        var node = JsonNode.Parse(Api.Serialize(step))!.AsObject();
        foreach (var (key, value) in extra is null ? [] : JsonNode.Parse(Api.Serialize(extra))!.AsObject())
        {
            node[key] = value?.DeepClone();
        }

        return node;
    }

    private static readonly object NoRetry = new { retryPolicy = new { maximumAttempts = 1 } };

    [Theory, AllDatabases]
    public async Task Start_ChainOfTransforms_RunsInlineAndAnswersTheLastOutput(DatabaseKind db)
    {
        var app = await EngineApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        var steps = Enumerable.Range(1, 40).Select(i => (object)Transform(
            $"s{i}",
            new { id = i == 1 ? "{{ context.body.id }}" : $"{{{{ steps.s{i - 1}.output.id }}}}", counter = i == 1 ? "{{ context.body.counter + 1 }}" : $"{{{{ steps.s{i - 1}.output.counter + 1 }}}}" },
            i == 1 ? null : [$"s{i - 1}"])).ToArray();
        var flow = await workspace.CreateFlowAsync(steps);

        var run = await workspace.StartAsync(flow, new { input = new { id = 7, counter = 0 } });

        ((string)run["status"]!).ShouldBe("succeeded");
        run["output"]!.ToJsonString().ShouldBe("""{"id":7,"counter":40}""");
        ((string)run["displayId"]!).ShouldBe($"{flow.ToUpperInvariant()}-1");
        ((int)run["number"]!).ShouldBe(1);
        var tasks = await workspace.ListAllAsync(workspace.Runs($"/{run["id"]}/tasks"));
        tasks.Count.ShouldBe(40);
        tasks.ShouldAllBe(t => (string)t["status"]! == "succeeded");
        var events = await workspace.ListAllAsync(workspace.Runs($"/{run["id"]}/events"));
        events.Count(e => (string)e["type"]! == "step" && (string)e["data"]!["status"]! == "succeeded").ShouldBe(40);
        events.Select(e => (long)e["id"]!).ShouldBeInOrder();
        ((int)(await workspace.StartAsync(flow, new { input = new { id = 8, counter = 0 } }))["number"]!).ShouldBe(2);
    }

    [Theory, AllDatabases]
    public async Task Start_WithAFreeWorker_StartsTheFirstStepInTheSameCommit(DatabaseKind db)
    {
        var app = await EngineApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        await using var server = await FakeHttpServer.StartAsync(context => context.Response.WriteAsJsonAsync(new { ok = true }));
        var flow = await workspace.CreateFlowAsync([Http("call", server.Address + "go", extra: NoRetry)]);

        var run = await workspace.StartAsync(flow, wait: null);

        // The answer to the start already shows the step started: no wake-up, lease or start commit came between.
        RunApi.StepStatus(run, "call").ShouldBe("running", run.ToJsonString());
        var done = await workspace.WaitForRunAsync((string)run["id"]!);
        ((string)done["status"]!).ShouldBe("succeeded", done.ToJsonString());
        var events = await workspace.ListAllAsync(workspace.Runs($"/{run["id"]}/events"));
        var queued = events.First(e => (string)e["type"]! == "status");
        var started = events.First(e => (string)e["type"]! == "step" && (string)e["data"]!["status"]! == "started");
        ((DateTime)started["createdAt"]!).ShouldBe((DateTime)queued["createdAt"]!);
        var task = (await workspace.ListAllAsync(workspace.Runs($"/{run["id"]}/tasks"))).ShouldHaveSingleItem();
        ((string)task["status"]!).ShouldBe("succeeded");
        ((int)task["attempt"]!).ShouldBe(1);
    }

    [Theory, AllDatabases]
    public async Task Start_ParallelBranches_RunAtTheSameTime_ThenTheMergeSeesBoth(DatabaseKind db)
    {
        var app = await EngineApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        var bothInside = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var inside = 0;
        await using var server = await FakeHttpServer.StartAsync(async context =>
        {
            if (Interlocked.Increment(ref inside) == 2)
            {
                bothInside.TrySetResult();
            }

            // Each branch answers only once the other has arrived: they must overlap to succeed.
            var overlapped = await Task.WhenAny(bothInside.Task, Task.Delay(TimeSpan.FromSeconds(10))) == bothInside.Task;
            context.Response.StatusCode = overlapped ? 200 : 500;
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync($$"""{"branch": "{{context.Request.Path.Value!.Trim('/')}}"}""");
        });
        var flow = await workspace.CreateFlowAsync(
        [
            Http("left", server.Address + "left", extra: NoRetry),
            Http("right", server.Address + "right", extra: NoRetry),
            Transform("merge", new { both = "{{ [steps.left.output.body.branch, steps.right.output.body.branch] }}" }, ["left", "right"]),
        ]);

        var run = await workspace.StartAsync(flow);

        ((string)run["status"]!).ShouldBe("succeeded", run.ToJsonString());
        run["output"]!["both"]!.ToJsonString().ShouldBe("""["left","right"]""");
    }

    [Theory, AllDatabases]
    public async Task Start_WhenFalse_SkipsTheStep_AndDependentsStillRun(DatabaseKind db)
    {
        var app = await EngineApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        var flow = await workspace.CreateFlowAsync(
        [
            Transform("check", new { go = "{{ context.body.go }}" }),
            Transform("maybe", new { ran = true }, ["check"], new { when = new Dictionary<string, object> { ["{{ steps.check.output.go }}"] = new Dictionary<string, object> { ["~eq"] = true } } }),
            Transform("after", new { maybe = "{{ steps.maybe.status }}" }, ["maybe"]),
        ]);

        var skipped = await workspace.StartAsync(flow, new { input = new { go = false } });
        var taken = await workspace.StartAsync(flow, new { input = new { go = true } });

        RunApi.StepStatus(skipped, "maybe").ShouldBe("skipped");
        skipped["output"]!.ToJsonString().ShouldBe("""{"maybe":"skipped"}""");
        RunApi.StepStatus(taken, "maybe").ShouldBe("succeeded");
        taken["output"]!.ToJsonString().ShouldBe("""{"maybe":"succeeded"}""");
    }

    [Theory, AllDatabases]
    public async Task Abort_FailsTheRun_AndUndoesCompletedStepsNewestFirst(DatabaseKind db)
    {
        var (workspace, server) = await SinkAsync(db);
        await using var _ = server;
        var flow = await workspace.CreateFlowAsync(CompensatedChain(server, onFailure: "abort"));

        var run = await workspace.StartAsync(flow);

        ((string)run["status"]!).ShouldBe("failed", run.ToJsonString());
        ((string)run["error"]!["stepId"]!).ShouldBe("charge");
        ((string)run["error"]!["type"]!).ShouldBe("http_400");
        RunApi.StepStatus(run, "reserve").ShouldBe("compensated");
        RunApi.StepStatus(run, "ship").ShouldBe("compensated");
        RunApi.StepStatus(run, "charge").ShouldBe("failed");
        Paths(server).ShouldBe(["/do/reserve", "/do/ship", "/fail", "/undo/ship", "/undo/reserve"]);
    }

    [Theory, AllDatabases]
    public async Task Compensate_UndoesAndEndsCompensated(DatabaseKind db)
    {
        var (workspace, server) = await SinkAsync(db);
        await using var _ = server;
        var flow = await workspace.CreateFlowAsync(CompensatedChain(server, onFailure: "compensate"));

        var run = await workspace.StartAsync(flow);

        ((string)run["status"]!).ShouldBe("compensated", run.ToJsonString());
        Paths(server).ShouldBe(["/do/reserve", "/do/ship", "/fail", "/undo/ship", "/undo/reserve"]);
        var events = await workspace.ListAllAsync(workspace.Runs($"/{run["id"]}/events?type=status"));
        events.Select(e => (string)e["data"]!["status"]!).ShouldBe(["queued", "running", "compensating", "compensated"]);
    }

    [Theory, AllDatabases]
    public async Task Compensation_ThatFails_IsRecordedAndTheUnwindGoesOn(DatabaseKind db)
    {
        var (workspace, server) = await SinkAsync(db);
        await using var _ = server;
        var steps = CompensatedChain(server, onFailure: "abort");
        steps[1]["compensation"]!["input"]!["url"] = server.Address + "fail";
        var flow = await workspace.CreateFlowAsync([.. steps]);

        var run = await workspace.StartAsync(flow);

        ((string)run["status"]!).ShouldBe("failed");
        RunApi.StepStatus(run, "ship").ShouldBe("compensation_failed");
        RunApi.StepStatus(run, "reserve").ShouldBe("compensated");
        var events = await workspace.ListAllAsync(workspace.Runs($"/{run["id"]}/events?type=step"));
        events.ShouldContain(e => (string)e["data"]!["status"]! == "compensation_failed" && (string)e["data"]!["stepId"]! == "ship");
    }

    [Theory, AllDatabases]
    public async Task Continue_RecordsTheFailure_AndDependentsReadTheError(DatabaseKind db)
    {
        var (workspace, server) = await SinkAsync(db);
        await using var _ = server;
        var flow = await workspace.CreateFlowAsync(
        [
            Http("lookup", server.Address + "fail", extra: new { onFailure = "continue", retryPolicy = new { maximumAttempts = 1 } }),
            Transform("fallback", new { reason = "{{ steps.lookup.error.type }}", status = "{{ steps.lookup.status }}" }, ["lookup"]),
        ]);

        var run = await workspace.StartAsync(flow);

        ((string)run["status"]!).ShouldBe("succeeded", run.ToJsonString());
        RunApi.StepStatus(run, "lookup").ShouldBe("failed");
        run["output"]!.ToJsonString().ShouldBe("""{"reason":"http_400","status":"failed"}""");
    }

    [Theory, AllDatabases]
    public async Task Retry_BacksOffAndTriesAgain_WithANewIdempotencyKeyEachAttempt(DatabaseKind db)
    {
        var app = await EngineApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        var calls = 0;
        await using var server = await FakeHttpServer.StartAsync(context =>
        {
            context.Response.StatusCode = Interlocked.Increment(ref calls) <= 2 ? 503 : 200;
            return Task.CompletedTask;
        });
        var flow = await workspace.CreateFlowAsync(
            [Http("flaky", server.Address + "flaky", extra: new { retryPolicy = new { maximumAttempts = 5, initialInterval = "10ms", maximumInterval = "50ms" } })]);

        var run = await workspace.StartAsync(flow);

        ((string)run["status"]!).ShouldBe("succeeded", run.ToJsonString());
        ((int)RunApi.Step(run, "flaky")["attempts"]!).ShouldBe(3);
        var id = (string)run["id"]!;
        server.Requests.Select(r => r.Headers["Idempotency-Key"]).ShouldBe([$"{id}/flaky/1", $"{id}/flaky/2", $"{id}/flaky/3"]);
        var tasks = await workspace.ListAllAsync(workspace.Runs($"/{id}/tasks"));
        tasks.Select(t => (string)t["status"]!).ShouldBe(["failed", "failed", "succeeded"]);
        tasks.Select(t => (string)t["idempotencyKey"]!).ShouldBe([$"{id}/flaky/1", $"{id}/flaky/2", $"{id}/flaky/3"]);
        ((string)tasks[0]["error"]!["type"]!).ShouldBe("http_503");
    }

    [Theory, AllDatabases]
    public async Task Retry_NonRetryableError_FailsAtOnce(DatabaseKind db)
    {
        var app = await EngineApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        await using var server = await FakeHttpServer.StartAsync(context =>
        {
            context.Response.StatusCode = 503;
            return Task.CompletedTask;
        });
        var flow = await workspace.CreateFlowAsync(
            [Http("down", server.Address + "down", extra: new { retryPolicy = new { maximumAttempts = 5, initialInterval = "10ms", nonRetryableErrors = new[] { "http_503" } } })]);

        var run = await workspace.StartAsync(flow);

        ((string)run["status"]!).ShouldBe("failed");
        ((int)RunApi.Step(run, "down")["attempts"]!).ShouldBe(1);
        server.Requests.Count.ShouldBe(1);
    }

    [Theory, AllDatabases]
    public async Task Loop_StopsWhenUntilHolds_OrAtMaxIterations(DatabaseKind db)
    {
        var app = await EngineApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        object[] Steps(int maxIterations) =>
        [
            Transform("start", new { target = "{{ context.body.target }}" }),
            new
            {
                id = "again", activity = new { uniqueIdentifier = "loop" }, dependsOn = new[] { "start" },
                loop = new
                {
                    body = new[] { "work" }, maxIterations,
                    until = new Dictionary<string, object> { ["{{ steps.work.output.pass }}"] = new Dictionary<string, object> { ["~gte"] = "{{ steps.start.output.target }}" } },
                },
            },
            Transform("work", new { pass = "{{ run.iteration }}", previous = "{{ steps.work.output.pass ?? 0 }}" }, ["again"]),
            Transform("after", new { loop = "{{ steps.again.output }}", last = "{{ steps.work.output }}" }, ["again", "work"]),
        ];
        var flow = await workspace.CreateFlowAsync(Steps(5));

        var byUntil = await workspace.StartAsync(flow, new { input = new { target = 3 } });
        var byMax = await workspace.StartAsync(flow, new { input = new { target = 99 } });

        ((string)byUntil["status"]!).ShouldBe("succeeded", byUntil.ToJsonString());
        byUntil["output"]!.ToJsonString().ShouldBe("""{"loop":{"iterations":3,"stoppedBy":"until"},"last":{"pass":3,"previous":2}}""");
        byMax["output"]!.ToJsonString().ShouldBe("""{"loop":{"iterations":5,"stoppedBy":"maxIterations"},"last":{"pass":5,"previous":4}}""");
        var tasks = await workspace.ListAllAsync(workspace.Runs($"/{byUntil["id"]}/tasks"));
        tasks.Where(t => (string)t["stepId"]! == "work").Select(t => (string)t["idempotencyKey"]!)
            .ShouldBe([$"{byUntil["id"]}/work/1", $"{byUntil["id"]}/work/1/2", $"{byUntil["id"]}/work/1/3"]);
    }

    [Theory, AllDatabases]
    public async Task RetryFromFailed_ReRunsTheFailedStep_AndKeepsEarlierOutputs(DatabaseKind db)
    {
        var app = await EngineApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        var healthy = false;
        await using var server = await FakeHttpServer.StartAsync(context =>
        {
            context.Response.StatusCode = context.Request.Path == "/flaky" && !Volatile.Read(ref healthy) ? 400 : 200;
            return Task.CompletedTask;
        });
        var flow = await workspace.CreateFlowAsync(
        [
            Http("first", server.Address + "first", extra: NoRetry),
            Http("second", server.Address + "flaky", ["first"], NoRetry),
            Transform("done", new { first = "{{ steps.first.output.status }}", second = "{{ steps.second.output.status }}" }, ["second"]),
        ]);
        var failed = await workspace.StartAsync(flow);
        ((string)failed["status"]!).ShouldBe("failed");
        Volatile.Write(ref healthy, true);

        var retried = await workspace.Owner.PostAsync(workspace.Runs($"/{failed["id"]}/retry"), null);

        await retried.ShouldBeAsync(HttpStatusCode.OK);
        var run = await workspace.WaitForRunAsync((string)failed["id"]!);
        ((string)run["status"]!).ShouldBe("succeeded", run.ToJsonString());
        run["output"]!.ToJsonString().ShouldBe("""{"first":200,"second":200}""");
        server.Requests.Select(r => r.PathAndQuery).ShouldBe(["/first", "/flaky", "/flaky"]);
        ((int)RunApi.Step(run, "second")["attempts"]!).ShouldBe(2);
        ((int)RunApi.Step(run, "first")["attempts"]!).ShouldBe(1);
    }

    [Theory, AllDatabases]
    public async Task Rerun_StartsAFreshRunWithTheSameInput(DatabaseKind db)
    {
        var app = await EngineApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        var flow = await workspace.CreateFlowAsync([Transform("echo", new { body = "{{ context.body }}", prompt = "{{ context.prompt }}" })]);
        var first = await workspace.StartAsync(flow, new { input = new { n = 1 }, prompt = "again" });

        var response = await workspace.Owner.PostAsync(workspace.Runs($"/{first["id"]}/rerun"), null);

        await response.ShouldBeAsync(HttpStatusCode.Created);
        var rerun = await workspace.WaitForRunAsync((string)(await response.ReadObjectAsync())["id"]!);
        ((string)rerun["id"]!).ShouldNotBe((string)first["id"]!);
        ((string)rerun["trigger"]!["type"]!).ShouldBe("rerun");
        ((string)rerun["context"]!["trigger"]!["rerunOf"]!).ShouldBe((string)first["id"]!);
        rerun["output"]!.ToJsonString().ShouldBe(first["output"]!.ToJsonString());
    }

    [Theory, AllDatabases]
    public async Task Start_WithTheSameIdempotencyKey_AnswersTheSameRun(DatabaseKind db)
    {
        var app = await EngineApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        var flow = await workspace.CreateFlowAsync([Transform("echo", new { n = "{{ context.body.n }}" })]);

        var first = await workspace.StartAsync(flow, new { input = new { n = 1 } }, idempotencyKey: "start-1");
        var again = await workspace.StartAsync(flow, new { input = new { n = 1 } }, idempotencyKey: "start-1");
        var other = await workspace.StartAsync(flow, new { input = new { n = 1 } }, idempotencyKey: "start-2");

        ((string)again["id"]!).ShouldBe((string)first["id"]!);
        ((string)other["id"]!).ShouldNotBe((string)first["id"]!);
        (await workspace.ListAllAsync(workspace.Workflows($"/{flow}/runs"))).Count.ShouldBe(2);
    }

    [Theory, AllDatabases]
    public async Task Start_WithAKeyOfTheTriggers_IsRefused(DatabaseKind db)
    {
        var workspace = await (await EngineApps.Get(db)).CreateWorkspaceAsync();
        var flow = await workspace.CreateFlowAsync([Transform("echo", new { n = 1 })]);

        foreach (var key in new[] { "event:ev_1", "hook:msg_1", "schedule:2026-01-01T00:00:00Z" })
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, workspace.Workflows($"/{flow}/runs")) { Content = Api.JsonContent(new { }) };
            request.Headers.Add("Idempotency-Key", key);
            (await (await workspace.Owner.SendAsync(request)).ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity)).Errors!.Keys.ShouldContain("Idempotency-Key");
        }

        (await workspace.ListAllAsync(workspace.Workflows($"/{flow}/runs"))).ShouldBeEmpty();
    }

    private static async Task<(TestWorkspace Workspace, FakeHttpServer Server)> SinkAsync(DatabaseKind db)
    {
        var app = await EngineApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        var server = await FakeHttpServer.StartAsync(context =>
        {
            context.Response.StatusCode = context.Request.Path == "/fail" ? 400 : 200;
            return Task.CompletedTask;
        });
        return (workspace, server);
    }

    /// <summary>reserve → ship → charge (fails); reserve and ship each undo themselves.</summary>
    private static JsonObject[] CompensatedChain(FakeHttpServer server, string onFailure) =>
    [
        Http("reserve", server.Address + "do/reserve", extra: new { retryPolicy = new { maximumAttempts = 1 }, compensation = new { activity = new { uniqueIdentifier = "http" }, input = new { method = "POST", url = server.Address + "undo/reserve" } } }),
        Http("ship", server.Address + "do/ship", ["reserve"], new { retryPolicy = new { maximumAttempts = 1 }, compensation = new { activity = new { uniqueIdentifier = "http" }, input = new { method = "POST", url = server.Address + "undo/ship" } } }),
        Http("charge", server.Address + "fail", ["ship"], new { onFailure, retryPolicy = new { maximumAttempts = 1 } }),
    ];

    private static List<string> Paths(FakeHttpServer server)
    {
        lock (server.Requests)
        {
            return [.. server.Requests.Select(r => r.PathAndQuery)];
        }
    }
}
