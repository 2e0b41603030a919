using System.Net;
using System.Text.Json.Nodes;
using Cadre.Retention;
using Cadre.Runs;
using Cadre.Server.Tests.Files;
using Cadre.Server.Tests.Personas;
using Cadre.Server.Tests.Runs;
using Cadre.Server.Tests.Storage;
using Cadre.Storage;
using Cadre.Triggers;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Cadre.Server.Tests.Retention;

/// <summary>
/// Retention: ended runs past it go with every row of theirs, and nothing else does (runs in progress,
/// recent runs, a parent before its children, undispatched or claimed events, pending deliveries);
/// a workspace's own periods win over the instance's; bad periods are refused.
/// </summary>
public sealed class RetentionTests
{
    private static readonly TimeSpan Month = TimeSpan.FromDays(31);

    // The duty's own passes (one at start, then daily) stay out of the way: the tests sweep when they choose.
    private static Dictionary<string, string?> Settings(params (string Key, string Value)[] more)
    {
        var settings = new Dictionary<string, string?>(EngineApps.Settings) { ["Cadre:Retention:Interval"] = "1.00:00:00", ["Cadre:Retention:BatchSize"] = "2" };
        foreach (var (key, value) in more)
        {
            settings[key] = value;
        }

        return settings;
    }

    private static object Transform(string id = "only") => new { id, activity = new { uniqueIdentifier = "transform" }, input = new { ok = true } };

    private static object Approval(string approver) => new
    {
        id = "signoff", activity = new { uniqueIdentifier = "approval" }, input = new { message = "Go?" }, approval = new { approvers = new[] { approver } },
    };

    [Theory, AllDatabases]
    public async Task Sweep_DeletesRunsEndedBeforeRetention_WithEveryRowOfTheirs_AndNothingElse(DatabaseKind db)
    {
        await using var app = await CadreApp.StartAsync(db, Settings());
        var workspace = await app.CreateWorkspaceAsync();
        var (approver, approverKey) = await workspace.Owner.CreateServiceAccountAsync(workspace.Name, "operator");
        using var approverClient = app.Client(approverKey);
        var quick = await workspace.CreateFlowAsync([Transform(), Transform("then")]);
        var approved = await workspace.CreateFlowAsync([Approval(approver)]);
        var napping = await workspace.CreateFlowAsync([new { id = "nap", activity = new { uniqueIdentifier = "sleep" }, input = new { duration = "1h" } }]);
        var file = await workspace.UploadAsync(app, "a.png", "image/png", FileApi.Png);

        // Ended a month ago: a run with a file, and one with a decided approval.
        var old = (string)(await workspace.StartAsync(quick, new { attachments = new[] { new { storageId = file } } }))["id"]!;
        var oldApproved = (string)(await workspace.StartAsync(approved, wait: null))["id"]!;
        await workspace.WaitForRunAsync(oldApproved, r => (string)r["status"]! == "waiting");
        await (await approverClient.PostJsonAsync($"/api/v1/workspaces/{workspace.Name}/approvals/{(await workspace.ApprovalOfAsync(oldApproved))["id"]}/decisions", new { decision = "approve" }))
            .ShouldBeAsync(HttpStatusCode.OK);
        ((string)(await workspace.WaitForRunAsync(oldApproved))["status"]!).ShouldBe("succeeded");
        // Kept: a run that ended just now, and one still in progress (even with an end recorded long ago).
        var recent = (string)(await workspace.StartAsync(quick))["id"]!;
        var waiting = (string)(await workspace.StartAsync(napping, wait: null))["id"]!;
        await workspace.WaitForRunAsync(waiting, r => (string)r["status"]! == "waiting");
        // Rows other features write for a run: an agent's checkpoint and session note, an event wait; and an
        // event a step of a run in progress claimed but has not read yet.
        var persona = (string)(await workspace.CreatePersonaAsync(Api.UniqueName("p")))["id"]!;
        var claimed = (string)(await SendEventAsync(workspace, "order.claimed"))["id"]!;
        var dispatched = (string)(await SendEventAsync(workspace, "order.done"))["id"]!;
        var fresh = (string)(await SendEventAsync(workspace, "order.new"))["id"]!;
        await using (var scope = app.Services.CreateAsyncScope())
        {
            var context = scope.ServiceProvider.GetRequiredService<CadreDbContext>();
            var now = DateTime.UtcNow;
            context.StepCheckpoints.Add(new StepCheckpoint { RunId = old, AttemptKey = $"{old}/only/1", State = "{}", UpdatedAt = now });
            context.Memories.Add(new Cadre.Llm.MemoryNote { Id = $"mem_{Guid.NewGuid():N}", WorkspaceId = workspace.Id, PersonaId = persona, RunId = old, Content = "noted", Source = "agent", CreatedAt = now, UpdatedAt = now });
            context.EventWaits.Add(new EventWait { RunId = old, StepId = "then", Iteration = 1, Attempt = 1, WorkspaceId = workspace.Id, EventType = "never.comes", CreatedAt = now });
            context.EventWaits.Add(new EventWait { RunId = waiting, StepId = "nap", Iteration = 1, Attempt = 1, WorkspaceId = workspace.Id, EventType = "order.claimed", EventId = claimed, CreatedAt = now });
            await context.SaveChangesAsync();
        }

        await app.EndedAgoAsync(Month, old, oldApproved, waiting);
        await app.RecordedAgoAsync(Month, claimed, dispatched);
        var before = await app.RowsOfRunsAsync([old, oldApproved]);
        foreach (var table in new[] { "run_steps", "tasks", "run_events", "approvals", "approval_approvers", "approval_decisions", "step_checkpoints", "persona_memories", "event_waits", "run_files" })
        {
            before[table].ShouldBeGreaterThan(0, $"the test should give the deleted runs rows in {table}");
        }

        await app.SweepAsync();

        (await workspace.RunStatusCodeAsync(old)).ShouldBe(HttpStatusCode.NotFound);
        (await workspace.RunStatusCodeAsync(oldApproved)).ShouldBe(HttpStatusCode.NotFound);
        (await app.RowsOfRunsAsync([old, oldApproved])).Where(t => t.Value > 0).ShouldBeEmpty();
        (await workspace.RunStatusCodeAsync(recent)).ShouldBe(HttpStatusCode.OK);
        ((string)(await workspace.GetRunAsync(waiting))["status"]!).ShouldBe("waiting");
        (await app.RowsOfRunsAsync([recent, waiting])).ShouldContain(t => t.Key == "run_steps" && t.Value == 2 + 1);
        ((int)(await (await workspace.Owner.GetAsync(workspace.Runs())).ReadObjectAsync())["count"]!).ShouldBe(2);
        // Events: the old dispatched one goes; the claimed one and the recent one stay.
        (await workspace.Owner.GetAsync($"/api/v1/workspaces/{workspace.Name}/events/{dispatched}")).StatusCode.ShouldBe(HttpStatusCode.NotFound);
        (await workspace.Owner.GetAsync($"/api/v1/workspaces/{workspace.Name}/events/{claimed}")).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await workspace.Owner.GetAsync($"/api/v1/workspaces/{workspace.Name}/events/{fresh}")).StatusCode.ShouldBe(HttpStatusCode.OK);
        // The file the run used is the workspace's: its reference went with the run, the file stays.
        (await workspace.Owner.GetAsync(workspace.Files($"/{file}"))).StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Theory, AllDatabases]
    public async Task Sweep_LeavesAParentWhileItHasAChild_AndTakesBothOnceTheChildEndedLongEnoughAgo(DatabaseKind db)
    {
        await using var app = await CadreApp.StartAsync(db, Settings());
        var workspace = await app.CreateWorkspaceAsync();
        var (approver, approverKey) = await workspace.Owner.CreateServiceAccountAsync(workspace.Name, "operator");
        using var approverClient = app.Client(approverKey);
        var child = await workspace.CreateFlowAsync([Approval(approver)]);
        var parent = await workspace.CreateFlowAsync(
            [new { id = "call", activity = new { uniqueIdentifier = "run_workflow" }, input = new { workflow = child, input = new { }, wait = false } }]);
        var parentRun = await workspace.StartAsync(parent);
        ((string)parentRun["status"]!).ShouldBe("succeeded", parentRun.ToJsonString());
        var parentId = (string)parentRun["id"]!;
        var childId = (string)RunApi.Step(parentRun, "call")["output"]!["runId"]!;
        await workspace.WaitForRunAsync(childId, r => (string)r["status"]! == "waiting");
        await app.EndedAgoAsync(Month, parentId);

        await app.SweepAsync();

        // The child is still running, and reports to its parent when it ends.
        (await workspace.RunStatusCodeAsync(parentId)).ShouldBe(HttpStatusCode.OK);
        var approval = await workspace.ApprovalOfAsync(childId);
        await (await approverClient.PostJsonAsync($"/api/v1/workspaces/{workspace.Name}/approvals/{approval["id"]}/decisions", new { decision = "reject" })).ShouldBeAsync(HttpStatusCode.OK);
        ((string)(await workspace.WaitForRunAsync(childId))["status"]!).ShouldBe("failed");
        await app.SweepAsync();
        // The child ended just now: both stay until it too is past retention.
        (await workspace.RunStatusCodeAsync(parentId)).ShouldBe(HttpStatusCode.OK);
        (await workspace.RunStatusCodeAsync(childId)).ShouldBe(HttpStatusCode.OK);

        await app.EndedAgoAsync(Month, childId);
        await app.SweepAsync();

        (await workspace.RunStatusCodeAsync(childId)).ShouldBe(HttpStatusCode.NotFound);
        (await workspace.RunStatusCodeAsync(parentId)).ShouldBe(HttpStatusCode.NotFound);
    }

    [Theory, AllDatabases]
    public async Task WorkspaceRetention_WinsOverTheInstances_BothWays(DatabaseKind db)
    {
        await using var app = await CadreApp.StartAsync(db, Settings(("Cadre:Retention:Runs", "1.00:00:00")));
        var byDefault = await app.CreateWorkspaceAsync();
        var shorter = await app.CreateWorkspaceAsync();
        var forever = await app.CreateWorkspaceAsync();
        await (await shorter.Owner.PatchJsonAsync($"/api/v1/workspaces/{shorter.Name}", new { settings = new { retention = new { runs = "2h" } } })).ShouldBeAsync(HttpStatusCode.OK);
        await (await forever.Owner.PatchJsonAsync($"/api/v1/workspaces/{forever.Name}", new { settings = new { retention = new { runs = "forever", events = "7d" } } })).ShouldBeAsync(HttpStatusCode.OK);
        var runs = new Dictionary<TestWorkspace, (string ThreeHours, string TwoDays)>();
        foreach (var workspace in new[] { byDefault, shorter, forever })
        {
            var flow = await workspace.CreateFlowAsync([Transform()]);
            var threeHours = (string)(await workspace.StartAsync(flow))["id"]!;
            var twoDays = (string)(await workspace.StartAsync(flow))["id"]!;
            await app.EndedAgoAsync(TimeSpan.FromHours(3), threeHours);
            await app.EndedAgoAsync(TimeSpan.FromDays(2), twoDays);
            runs[workspace] = (threeHours, twoDays);
        }

        var deleted = await app.SweepAsync();

        // The instance keeps a day; one workspace keeps two hours, another forever.
        (await byDefault.RunStatusCodeAsync(runs[byDefault].ThreeHours)).ShouldBe(HttpStatusCode.OK);
        (await byDefault.RunStatusCodeAsync(runs[byDefault].TwoDays)).ShouldBe(HttpStatusCode.NotFound);
        (await shorter.RunStatusCodeAsync(runs[shorter].ThreeHours)).ShouldBe(HttpStatusCode.NotFound);
        (await shorter.RunStatusCodeAsync(runs[shorter].TwoDays)).ShouldBe(HttpStatusCode.NotFound);
        (await forever.RunStatusCodeAsync(runs[forever].ThreeHours)).ShouldBe(HttpStatusCode.OK);
        (await forever.RunStatusCodeAsync(runs[forever].TwoDays)).ShouldBe(HttpStatusCode.OK);
        deleted.Runs.ShouldBe(3);
    }

    [Theory, AllDatabases]
    public async Task WorkspaceRetention_BadPeriods_Are422_AndChangeNothing(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        var path = $"/api/v1/workspaces/{workspace.Name}";
        await (await workspace.Owner.PatchJsonAsync(path, new { settings = new { retention = new { runs = "30d", events = "forever", deliveries = "PT12H" } } })).ShouldBeAsync(HttpStatusCode.OK);

        var cases = new (object Retention, string Field)[]
        {
            ("30d", "settings.retention"),
            (new[] { "30d" }, "settings.retention"),
            (new { runs = "30m" }, "settings.retention.runs"),
            (new { events = "0s" }, "settings.retention.events"),
            (new { deliveries = 30 }, "settings.retention.deliveries"),
            (new { runs = "soon" }, "settings.retention.runs"),
            (new { runs = "-1d" }, "settings.retention.runs"),
            (new { runs = "never" }, "settings.retention.runs"),
            (new { executions = "7d" }, "settings.retention.executions"),
        };
        foreach (var (retention, field) in cases)
        {
            var problem = await (await workspace.Owner.PatchJsonAsync(path, new { settings = new { retention } })).ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity);
            string.Join(' ', problem.Errors!.Keys).ShouldBe(field, Api.Serialize(retention));
        }

        using var admin = app.AdminClient();
        var created = await admin.PostJsonAsync("/api/v1/workspaces", new { name = Api.UniqueName("ret"), settings = new { retention = new { runs = "1m" } } });
        (await created.ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity)).Errors!.Keys.ShouldBe(["settings.retention.runs"]);
        var kept = await (await workspace.Owner.GetAsync(path)).ReadObjectAsync();
        kept["settings"]!["retention"]!.ToJsonString().ShouldBe("""{"runs":"30d","events":"forever","deliveries":"PT12H"}""");
        // null removes a period (merge patch): the instance's applies again.
        var patched = await (await workspace.Owner.PatchJsonAsync(path, new { settings = new { retention = new { runs = (string?)null } } })).ReadObjectAsync();
        patched["settings"]!["retention"]!.ToJsonString().ShouldBe("""{"events":"forever","deliveries":"PT12H"}""");
    }

    [Theory, AllDatabases]
    public async Task Sweep_DeletesDispatchedEventsAndSettledDeliveries_KeepsUndispatchedAndPending(DatabaseKind db)
    {
        // Core services alone, with no dispatcher or sender running, so undispatched and pending rows stay so.
        await using var core = await CoreServices.CreateAsync(db);
        await core.Migrator().MigrateAsync(CancellationToken.None);
        var now = DateTime.UtcNow;
        var old = now - Month;
        await using (var scope = core.Scope())
        {
            var context = scope.Get<CadreDbContext>();
            foreach (var (id, settings) in new[] { ("ws_a", "{}"), ("ws_b", """{"retention":{"events":"forever","deliveries":"40d"}}""") })
            {
                context.Workspaces.Add(new Cadre.Workspaces.Workspace { Id = id, Name = id.Replace('_', '-'), DisplayName = id, Settings = settings, Version = 1, CreatedAt = now, UpdatedAt = now });
                context.WorkspaceEvents.AddRange(
                    Event($"{id}_old", id, old, dispatched: old),
                    Event($"{id}_undispatched", id, old, dispatched: null),
                    Event($"{id}_recent", id, now, dispatched: now));
                context.WebhookDeliveries.AddRange(
                    Delivery($"{id}_delivered", id, "delivered", old, old),
                    Delivery($"{id}_dead", id, "dead", old, old),
                    Delivery($"{id}_pending", id, "pending", old, null),
                    Delivery($"{id}_recent", id, "delivered", now, now));
                context.WebhookDeliveryAttempts.Add(new WebhookDeliveryAttempt { DeliveryId = $"{id}_delivered", Attempt = 1, StartedAt = old, DurationMs = 5, StatusCode = 200 });
            }

            await context.SaveChangesAsync();
        }

        var deleted = await core.Get<RetentionService>().SweepAsync(CancellationToken.None);

        await using (var scope = core.Scope())
        {
            var context = scope.Get<CadreDbContext>();
            (await context.WorkspaceEvents.Select(e => e.Id).OrderBy(e => e).ToListAsync())
                .ShouldBe(["ws_a_recent", "ws_a_undispatched", "ws_b_old", "ws_b_recent", "ws_b_undispatched"]);
            (await context.WebhookDeliveries.Select(d => d.Id).OrderBy(d => d).ToListAsync())
                .ShouldBe(["ws_a_pending", "ws_a_recent", "ws_b_dead", "ws_b_delivered", "ws_b_pending", "ws_b_recent"]);
            (await context.WebhookDeliveryAttempts.Select(a => a.DeliveryId).ToListAsync()).ShouldBe(["ws_b_delivered"]);
        }

        deleted.ShouldBe(new RetentionResult(0, 1, 2));
    }

    private static async Task<JsonObject> SendEventAsync(TestWorkspace workspace, string type)
    {
        var created = await workspace.Owner.PostJsonAsync($"/api/v1/workspaces/{workspace.Name}/event-types", new { name = type, schema = new { type = "object" } });
        await created.ShouldBeAsync(HttpStatusCode.Created);
        var response = await workspace.Owner.PostJsonAsync($"/api/v1/workspaces/{workspace.Name}/events", new { type, payload = new { } });
        await response.ShouldBeAsync(HttpStatusCode.Created);
        return await response.ReadObjectAsync();
    }

    private static WorkspaceEvent Event(string id, string workspaceId, DateTime recorded, DateTime? dispatched) => new()
    {
        Id = id, WorkspaceId = workspaceId, Type = "order.done", Payload = "{}", Origin = "api", CreatedAt = recorded, DispatchedAt = dispatched,
    };

    private static WebhookDelivery Delivery(string id, string workspaceId, string status, DateTime created, DateTime? finished) => new()
    {
        Id = id, WorkspaceId = workspaceId, Url = "https://example.com/hook", EventType = "run.succeeded", Payload = "{}", Status = status,
        Attempts = finished is null ? 0 : 1, NextAttemptAt = finished is null ? created : null, CreatedAt = created, FinishedAt = finished,
    };
}
