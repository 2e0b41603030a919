using System.Net;
using System.Text.Json.Nodes;
using Cadre.Server.Tests.Workflows;
using Cadre.Storage;
using Microsoft.AspNetCore.Http;

namespace Cadre.Server.Tests.Runs;

/// <summary>Halt and resume, durable timers across a restart, concurrency limits, and the runs API's unhappy paths.</summary>
public sealed class RunControlTests
{
    [Theory, AllDatabases]
    public async Task Halt_MidStep_CancelsTheAttempt_AndResumeRunsItAgain(DatabaseKind db)
    {
        var app = await EngineApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var calls = 0;
        await using var server = await FakeHttpServer.StartAsync(async context =>
        {
            if (Interlocked.Increment(ref calls) == 1)
            {
                entered.TrySetResult();
                // Hangs until the engine gives up on it (the halt cancels the request).
                await Task.WhenAny(release.Task, Task.Delay(Timeout.Infinite, context.RequestAborted));
            }
        });
        var flow = await workspace.CreateFlowAsync(
        [
            new { id = "slow", activity = new { uniqueIdentifier = "http" }, input = new { url = server.Address + "slow" } },
            new { id = "after", activity = new { uniqueIdentifier = "transform" }, dependsOn = new[] { "slow" }, input = new { status = "{{ steps.slow.output.status }}" } },
        ]);
        var run = await workspace.StartAsync(flow, wait: null);
        var id = (string)run["id"]!;
        await entered.Task.WaitAsync(TimeSpan.FromSeconds(20));

        var halted = await workspace.Owner.PostAsync(workspace.Runs($"/{id}/halt"), null);

        await halted.ShouldBeAsync(HttpStatusCode.OK);
        ((string)(await halted.ReadObjectAsync())["status"]!).ShouldBe("halted");
        var settled = await workspace.WaitForRunAsync(id, r => RunApi.StepStatus(r, "slow") == "pending");
        ((string)settled["status"]!).ShouldBe("halted");
        var tasks = await workspace.ListAllAsync(workspace.Runs($"/{id}/tasks"));
        ((string)tasks.Single()["status"]!).ShouldBe("cancelled");
        (await workspace.Owner.PostAsync(workspace.Runs($"/{id}/halt"), null)).StatusCode.ShouldBe(HttpStatusCode.Conflict);

        var resumed = await workspace.Owner.PostAsync(workspace.Runs($"/{id}/resume"), null);

        await resumed.ShouldBeAsync(HttpStatusCode.OK);
        var done = await workspace.WaitForRunAsync(id);
        ((string)done["status"]!).ShouldBe("succeeded", done.ToJsonString());
        ((int)RunApi.Step(done, "slow")["attempts"]!).ShouldBe(2);
        calls.ShouldBe(2);
        (await workspace.Owner.PostAsync(workspace.Runs($"/{id}/resume"), null)).StatusCode.ShouldBe(HttpStatusCode.Conflict);
        release.TrySetResult();
    }

    [Theory, AllDatabases]
    public async Task Sleep_SurvivesARestart_AndFiresOnce(DatabaseKind db)
    {
        var first = await CadreApp.StartAsync(db, EngineApps.Settings);
        var workspace = await first.CreateWorkspaceAsync();
        var flow = await workspace.CreateFlowAsync(
        [
            new { id = "nap", activity = new { uniqueIdentifier = "sleep" }, input = new { duration = "2s" } },
            new { id = "woke", activity = new { uniqueIdentifier = "transform" }, dependsOn = new[] { "nap" }, input = new { at = "{{ steps.nap.output.sleptUntil }}" } },
        ]);
        var run = await workspace.StartAsync(flow, wait: null);
        var id = (string)run["id"]!;
        await workspace.WaitForRunAsync(id, r => (string)r["status"]! == "waiting");
        await first.DisposeAsync();

        await using var second = await CadreApp.StartAsync(db, EngineApps.Settings, databaseSetting: first.DatabaseSetting, dataDir: first.DataDir, adminKey: first.AdminKey);
        var again = workspace with { Owner = second.Client(workspace.OwnerKey) };
        var done = await again.WaitForRunAsync(id);

        ((string)done["status"]!).ShouldBe("succeeded", done.ToJsonString());
        var timers = (await again.ListAllAsync(again.Runs($"/{id}/tasks"))).Where(t => (string)t["kind"]! == "timer").ToList();
        timers.Where(t => (string)t["status"]! == "succeeded").ShouldHaveSingleItem();
    }

    [Theory, AllDatabases]
    public async Task Concurrency_Queue_StartsTheNextRunWhenOneEnds(DatabaseKind db)
    {
        var app = await EngineApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        var flow = await workspace.CreateFlowAsync(Sleeper("300ms"), new { defaults = new { concurrency = new { maxRuns = 1, whenFull = "queue" } } });

        var first = await workspace.StartAsync(flow, wait: null);
        var second = await workspace.StartAsync(flow, wait: null);

        ((string)second["status"]!).ShouldBe("queued");
        var firstDone = await workspace.WaitForRunAsync((string)first["id"]!);
        var secondDone = await workspace.WaitForRunAsync((string)second["id"]!);
        ((string)firstDone["status"]!).ShouldBe("succeeded");
        ((string)secondDone["status"]!).ShouldBe("succeeded");
        ((DateTime)secondDone["startedAt"]!).ShouldBeGreaterThanOrEqualTo((DateTime)firstDone["finishedAt"]!);
    }

    [Theory, AllDatabases]
    public async Task Concurrency_Reject_Answers409(DatabaseKind db)
    {
        var app = await EngineApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        var flow = await workspace.CreateFlowAsync(Sleeper("5s"), new { defaults = new { concurrency = new { maxRuns = 1, whenFull = "reject" } } });
        var first = await workspace.StartAsync(flow, wait: null);

        var refused = await workspace.Owner.PostJsonAsync(workspace.Workflows($"/{flow}/runs"), new { });

        var problem = await refused.ShouldBeProblemAsync(HttpStatusCode.Conflict);
        problem.Detail!.ShouldContain("1 run(s) at once");
        (await workspace.ListAllAsync(workspace.Workflows($"/{flow}/runs"))).Count.ShouldBe(1);
        await workspace.Owner.PostAsync(workspace.Runs($"/{first["id"]}/halt"), null);
    }

    [Theory, AllDatabases]
    public async Task Concurrency_CancelOldest_EndsTheOldestRun(DatabaseKind db)
    {
        var app = await EngineApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        var flow = await workspace.CreateFlowAsync(Sleeper("5s"), new { defaults = new { concurrency = new { maxRuns = 1, whenFull = "cancel-oldest" } } });
        var first = await workspace.StartAsync(flow, wait: null);
        await workspace.WaitForRunAsync((string)first["id"]!, r => (string)r["status"]! == "waiting");

        var second = await workspace.StartAsync(flow, wait: null);

        var cancelled = await workspace.WaitForRunAsync((string)first["id"]!);
        ((string)cancelled["status"]!).ShouldBe("failed");
        ((string)cancelled["error"]!["type"]!).ShouldBe("cancelled");
        await workspace.WaitForRunAsync((string)second["id"]!, r => (string)r["status"]! == "waiting");
        await workspace.Owner.PostAsync(workspace.Runs($"/{second["id"]}/halt"), null);
    }

    [Theory, AllDatabases]
    public async Task RunsApi_BadInput_AnswersProblemsAndChangesNothing(DatabaseKind db)
    {
        var app = await EngineApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        var flow = await workspace.CreateFlowAsync([new { id = "only", activity = new { uniqueIdentifier = "transform" }, input = new { n = 1 } }]);
        var run = await workspace.StartAsync(flow);
        var id = (string)run["id"]!;

        (await workspace.Owner.PostJsonAsync(workspace.Workflows("/ghost/runs"), new { })).StatusCode.ShouldBe(HttpStatusCode.NotFound);
        (await workspace.Owner.PostJsonAsync(workspace.Workflows($"/{flow}/runs?wait=forever"), new { })).StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await workspace.Owner.PostJsonAsync(workspace.Workflows($"/{flow}/runs?wait=10m"), new { })).StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        var invalid = await workspace.Owner.PostJsonAsync(workspace.Workflows($"/{flow}/runs"), new { attachments = new object[] { 1 }, githubRepoUrl = "not a url", branchName = "has space" });
        var problem = await invalid.ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity);
        problem.Errors!.Keys.ShouldBe(["attachments[0]", "githubRepoUrl", "branchName"], ignoreOrder: true);
        (await workspace.Owner.PostAsync(workspace.Workflows($"/{flow}/runs"), new StringContent("{\"input\":", System.Text.Encoding.UTF8, "application/json"))).StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await workspace.Owner.PostJsonAsync(workspace.Workflows($"/{flow}/runs"), new { bogus = 1 })).StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await workspace.Owner.GetAsync(workspace.Runs("/run_ghost"))).StatusCode.ShouldBe(HttpStatusCode.NotFound);
        (await workspace.Owner.GetAsync(workspace.Runs("/run_ghost/tasks"))).StatusCode.ShouldBe(HttpStatusCode.NotFound);
        (await workspace.Owner.GetAsync(workspace.Runs("/run_ghost/events"))).StatusCode.ShouldBe(HttpStatusCode.NotFound);
        (await workspace.Owner.GetAsync(workspace.Runs("/run_ghost/stream"))).StatusCode.ShouldBe(HttpStatusCode.NotFound);
        (await workspace.Owner.GetAsync(workspace.Runs($"/{id}/tasks?cursor=bogus"))).StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await workspace.Owner.GetAsync(workspace.Runs("?status=sleeping"))).StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await workspace.Owner.GetAsync(workspace.Runs("?workflow=ghost"))).StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await workspace.Owner.GetAsync(workspace.Runs("?createdAfter=yesterday"))).StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await workspace.Owner.PostAsync(workspace.Runs($"/{id}/halt"), null)).StatusCode.ShouldBe(HttpStatusCode.Conflict);
        (await workspace.Owner.PostAsync(workspace.Runs($"/{id}/resume"), null)).StatusCode.ShouldBe(HttpStatusCode.Conflict);
        (await workspace.Owner.PostAsync(workspace.Runs($"/{id}/retry"), null)).StatusCode.ShouldBe(HttpStatusCode.Conflict);
        (await workspace.Owner.PostAsync(workspace.Runs("/run_ghost/rerun"), null)).StatusCode.ShouldBe(HttpStatusCode.NotFound);
        using var badResume = new HttpRequestMessage(HttpMethod.Get, workspace.Runs($"/{id}/stream"));
        badResume.Headers.Add("Last-Event-ID", "abc");
        (await workspace.Owner.SendAsync(badResume)).StatusCode.ShouldBe(HttpStatusCode.BadRequest);

        var viewer = app.Client(await workspace.Owner.CreateKeyAsync(workspace.Name, "viewer"));
        (await viewer.PostJsonAsync(workspace.Workflows($"/{flow}/runs"), new { })).StatusCode.ShouldBe(HttpStatusCode.Forbidden);
        (await viewer.GetAsync(workspace.Runs($"/{id}"))).StatusCode.ShouldBe(HttpStatusCode.OK);
        var other = await app.CreateWorkspaceAsync();
        (await other.Owner.GetAsync($"/api/v1/workspaces/{other.Name}/runs/{id}")).StatusCode.ShouldBe(HttpStatusCode.NotFound);

        var all = await workspace.ListAllAsync(workspace.Runs());
        all.ShouldHaveSingleItem();
        ((string)all[0]["id"]!).ShouldBe(id);
    }

    [Theory, AllDatabases]
    public async Task ListRuns_FiltersByWorkflowStatusTriggerAndTime(DatabaseKind db)
    {
        var app = await EngineApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        var ok = await workspace.CreateFlowAsync([new { id = "only", activity = new { uniqueIdentifier = "transform" }, input = new { n = 1 } }]);
        var bad = await workspace.CreateFlowAsync([new { id = "only", activity = new { uniqueIdentifier = "transform" }, input = new { n = "{{ 1 / context.body.zero }}" } }]);
        var before = DateTimeOffset.UtcNow.AddSeconds(-1);
        await workspace.StartAsync(ok);
        await workspace.StartAsync(ok);
        var failed = await workspace.StartAsync(bad, new { input = new { zero = "x" } });

        ((string)failed["status"]!).ShouldBe("failed", failed.ToJsonString());
        (await workspace.ListAllAsync(workspace.Runs($"?workflow={ok}"))).Count.ShouldBe(2);
        (await workspace.ListAllAsync(workspace.Workflows($"/{bad}/runs"))).Count.ShouldBe(1);
        (await workspace.ListAllAsync(workspace.Runs("?status=failed"))).ShouldHaveSingleItem();
        (await workspace.ListAllAsync(workspace.Runs("?status=failed,succeeded"))).Count.ShouldBe(3);
        (await workspace.ListAllAsync(workspace.Runs("?trigger=manual"))).Count.ShouldBe(3);
        (await workspace.ListAllAsync(workspace.Runs("?trigger=schedule"))).ShouldBeEmpty();
        (await workspace.ListAllAsync(workspace.Runs($"?createdAfter={Uri.EscapeDataString(before.ToString("O"))}"))).Count.ShouldBe(3);
        (await workspace.ListAllAsync(workspace.Runs($"?createdBefore={Uri.EscapeDataString(before.ToString("O"))}"))).ShouldBeEmpty();
    }

    [Theory, AllDatabases]
    public async Task StepTimeout_CancelsTheAttempt_AndCountsAsARetryableFailure(DatabaseKind db)
    {
        var app = await EngineApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        await using var server = await FakeHttpServer.StartAsync(async context =>
            await Task.Delay(Timeout.Infinite, context.RequestAborted).ContinueWith(_ => { }, TaskScheduler.Default));
        var flow = await workspace.CreateFlowAsync(
            [new { id = "hang", activity = new { uniqueIdentifier = "http" }, timeout = "300ms", input = new { url = server.Address + "hang" }, retryPolicy = new { maximumAttempts = 2, initialInterval = "10ms" } }]);

        var run = await workspace.StartAsync(flow);

        ((string)run["status"]!).ShouldBe("failed", run.ToJsonString());
        ((string)run["error"]!["type"]!).ShouldBe("timeout");
        ((int)RunApi.Step(run, "hang")["attempts"]!).ShouldBe(2);
    }

    [Theory, AllDatabases]
    public async Task WorkspaceStream_CarriesEveryRunsEvents_FilteredByWorkflow(DatabaseKind db)
    {
        var app = await EngineApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        var watched = await workspace.CreateFlowAsync([new { id = "only", activity = new { uniqueIdentifier = "transform" }, input = new { n = 1 } }]);
        var other = await workspace.CreateFlowAsync([new { id = "only", activity = new { uniqueIdentifier = "transform" }, input = new { n = 2 } }]);
        var a = await workspace.StartAsync(watched);
        await workspace.StartAsync(other);
        var b = await workspace.StartAsync(watched);
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(3));
        var seen = new List<RunStreamTests.StreamEvent>();

        // The workspace stream never ends by itself: read what it replays, then stop.
        try
        {
            await RunStreamTests.ReadStreamAsync(workspace.Owner, $"/api/v1/workspaces/{workspace.Name}/stream?workflow={watched}&type=status", into: seen, cancellation: stop.Token);
        }
        catch (OperationCanceledException)
        {
        }

        var expected = (await workspace.ListAllAsync(workspace.Runs($"/{a["id"]}/events?type=status")))
            .Concat(await workspace.ListAllAsync(workspace.Runs($"/{b["id"]}/events?type=status"))).Select(e => (long)e["id"]!).Order();
        seen.Select(e => e.Id).ShouldBe(expected);
        (await workspace.Owner.GetAsync($"/api/v1/workspaces/{workspace.Name}/stream?workflow=ghost")).StatusCode.ShouldBe(HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Fairness_OneWorkspacesBacklog_DoesNotStarveAnother()
    {
        var settings = new Dictionary<string, string?>(EngineApps.Settings) { ["Cadre:Engine:Workers"] = "1" };
        await using var app = await CadreApp.StartAsync(DatabaseKind.Sqlite, settings);
        await using var server = await FakeHttpServer.StartAsync(_ => Task.Delay(50));
        var busy = await app.CreateWorkspaceAsync();
        var quiet = await app.CreateWorkspaceAsync();
        object[] Steps() => [new { id = "call", activity = new { uniqueIdentifier = "http" }, input = new { url = server.Address + "work" } }];
        var busyFlow = await busy.CreateFlowAsync(Steps());
        var quietFlow = await quiet.CreateFlowAsync(Steps());
        var backlog = new List<string>();
        for (var i = 0; i < 30; i++)
        {
            backlog.Add((string)(await busy.StartAsync(busyFlow, wait: null))["id"]!);
        }

        var lone = await quiet.StartAsync(quietFlow, wait: null);

        var loneDone = await quiet.WaitForRunAsync((string)lone["id"]!);
        var lastOfBacklog = await busy.WaitForRunAsync(backlog[^1]);
        ((DateTime)loneDone["finishedAt"]!).ShouldBeLessThan((DateTime)lastOfBacklog["finishedAt"]!);
        // Taken within a few leases, not after the whole backlog (each lease picks a workspace at
        // random, so waiting more than 15 leases has a chance of 1 in 30 000).
        var finishedAfter = 0;
        foreach (var id in backlog)
        {
            if ((DateTime)(await busy.WaitForRunAsync(id))["finishedAt"]! > (DateTime)loneDone["finishedAt"]!)
            {
                finishedAfter++;
            }
        }

        finishedAfter.ShouldBeGreaterThan(14);
    }

    [Theory, AllDatabases]
    public async Task Events_PageOldestFirst_ForwardAndBack(DatabaseKind db)
    {
        var app = await EngineApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        var flow = await workspace.CreateFlowAsync([.. Enumerable.Range(1, 6).Select(i => (object)new { id = $"s{i}", activity = new { uniqueIdentifier = "transform" }, input = new { n = i } })]);
        var run = await workspace.StartAsync(flow);
        var all = await workspace.ListAllAsync(workspace.Runs($"/{run["id"]}/events"));

        var first = await (await workspace.Owner.GetAsync(workspace.Runs($"/{run["id"]}/events?limit=5"))).ReadObjectAsync();
        var second = await (await workspace.Owner.GetAsync((string)first["next"]!)).ReadObjectAsync();
        var back = await (await workspace.Owner.GetAsync((string)second["previous"]!)).ReadObjectAsync();

        ((int)first["count"]!).ShouldBe(all.Count);
        first["previous"].ShouldBeNull();
        Ids(first).ShouldBe(all.Take(5).Select(e => (long)e["id"]!));
        Ids(second).ShouldBe(all.Skip(5).Take(5).Select(e => (long)e["id"]!));
        Ids(back).ShouldBe(Ids(first));
    }

    private static IEnumerable<long> Ids(System.Text.Json.Nodes.JsonObject page) => page["results"]!.AsArray().Select(e => (long)e!["id"]!);

    [Theory, AllDatabases]
    public async Task WorkspaceSetting_MaxConcurrentRuns_QueuesAcrossWorkflows(DatabaseKind db)
    {
        var app = await EngineApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        using var admin = app.AdminClient();
        (await admin.PatchJsonAsync($"/api/v1/workspaces/{workspace.Name}", new { settings = new { maxConcurrentRuns = "two" } })).StatusCode.ShouldBe(HttpStatusCode.UnprocessableEntity);
        await (await admin.PatchJsonAsync($"/api/v1/workspaces/{workspace.Name}", new { settings = new { maxConcurrentRuns = 1 } })).ShouldBeAsync(HttpStatusCode.OK);
        var one = await workspace.CreateFlowAsync(Sleeper("300ms"));
        var other = await workspace.CreateFlowAsync(Sleeper("300ms"));

        var first = await workspace.StartAsync(one, wait: null);
        var second = await workspace.StartAsync(other, wait: null);

        ((string)second["status"]!).ShouldBe("queued");
        var firstDone = await workspace.WaitForRunAsync((string)first["id"]!);
        var secondDone = await workspace.WaitForRunAsync((string)second["id"]!);
        ((string)secondDone["status"]!).ShouldBe("succeeded");
        ((DateTime)secondDone["startedAt"]!).ShouldBeGreaterThanOrEqualTo((DateTime)firstDone["finishedAt"]!);
    }

    [PostgresFact]
    public async Task ApiOnlyNode_QueuesWork_AndAWorkerNodeOnTheSameDatabaseRunsIt()
    {
        var settings = new Dictionary<string, string?>(EngineApps.Settings) { ["Cadre:Engine:Enabled"] = "false" };
        await using var api = await CadreApp.StartAsync(DatabaseKind.Postgres, settings);
        var workspace = await api.CreateWorkspaceAsync();
        var flow = await workspace.CreateFlowAsync(
        [
            new { id = "nap", activity = new { uniqueIdentifier = "sleep" }, input = new { duration = "10ms" } },
            new { id = "after", activity = new { uniqueIdentifier = "transform" }, dependsOn = new[] { "nap" }, input = new { done = true } },
        ]);

        var run = await workspace.StartAsync(flow, wait: "1s");

        // Nothing on this node runs steps: the sleep stays queued.
        ((string)run["status"]!).ShouldBe("running");
        RunApi.StepStatus(run, "nap").ShouldBe("queued");
        await using var worker = await CadreApp.StartAsync(DatabaseKind.Postgres, EngineApps.Settings, databaseSetting: api.DatabaseSetting, adminKey: api.AdminKey);
        var done = await workspace.WaitForRunAsync((string)run["id"]!);
        ((string)done["status"]!).ShouldBe("succeeded");
    }

    private static object[] Sleeper(string duration) => [new { id = "nap", activity = new { uniqueIdentifier = "sleep" }, input = new { duration } }];
}
