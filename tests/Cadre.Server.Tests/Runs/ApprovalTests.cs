using System.Net;
using System.Text.Json.Nodes;
using Cadre.Server.Tests.Workflows;
using Cadre.Storage;

namespace Cadre.Server.Tests.Runs;

/// <summary>Approval steps: the inbox, quorum, rejection, each approver once, timeouts (reject, approve, escalate), a restart while waiting.</summary>
public sealed class ApprovalTests
{
    private static object[] Steps(string[] approvers, int quorum = 1, string? timeout = null, string? onTimeout = null, string[]? escalateTo = null) =>
    [
        new
        {
            id = "signoff", activity = new { uniqueIdentifier = "approval" },
            input = new { message = "Ship order {{ context.body.order }}?" },
            approval = new { approvers, quorum, timeout, onTimeout, escalateTo },
        },
        new { id = "ship", activity = new { uniqueIdentifier = "transform" }, dependsOn = new[] { "signoff" }, input = new { decided = "{{ steps.signoff.output.decision }}" } },
    ];

    [Theory, AllDatabases]
    public async Task Quorum_OfTwo_ApprovesAfterTheSecondApproval_EachApproverOnce(DatabaseKind db)
    {
        var app = await EngineApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        var (alice, aliceKey) = await workspace.Owner.CreateServiceAccountAsync(workspace.Name, "operator");
        var (bob, bobKey) = await workspace.Owner.CreateServiceAccountAsync(workspace.Name, "operator");
        var (carol, _) = await workspace.Owner.CreateServiceAccountAsync(workspace.Name, "operator");
        var (_, malloryKey) = await workspace.Owner.CreateServiceAccountAsync(workspace.Name, "operator");
        var flow = await workspace.CreateFlowAsync(Steps([alice, bob, carol], quorum: 2));
        var run = await workspace.StartAsync(flow, new { input = new { order = 42 } }, wait: null);
        var id = (string)run["id"]!;
        await workspace.WaitForRunAsync(id, r => (string)r["status"]! == "waiting");
        using var aliceClient = app.Client(aliceKey);
        using var bobClient = app.Client(bobKey);
        using var mallory = app.Client(malloryKey);

        var inbox = await (await aliceClient.GetAsync($"/api/v1/workspaces/{workspace.Name}/approvals?approver=me&status=pending")).ReadObjectAsync();
        var approval = inbox["results"]!.AsArray().ShouldHaveSingleItem()!.AsObject();
        ((string)approval["summary"]!["message"]!).ShouldBe("Ship order 42?");
        ((string)approval["runId"]!).ShouldBe(id);
        var decisions = $"/api/v1/workspaces/{workspace.Name}/approvals/{approval["id"]}/decisions";
        (await (await mallory.GetAsync($"/api/v1/workspaces/{workspace.Name}/approvals?approver=me")).ReadObjectAsync())["count"]!.GetValue<int>().ShouldBe(0);

        await (await aliceClient.PostJsonAsync(decisions, new { decision = "approve", comment = "Looks right." })).ShouldBeAsync(HttpStatusCode.OK);
        (await aliceClient.PostJsonAsync(decisions, new { decision = "approve" })).StatusCode.ShouldBe(HttpStatusCode.Conflict);
        (await mallory.PostJsonAsync(decisions, new { decision = "approve" })).StatusCode.ShouldBe(HttpStatusCode.Forbidden);
        (await bobClient.PostJsonAsync(decisions, new { decision = "maybe" })).StatusCode.ShouldBe(HttpStatusCode.UnprocessableEntity);
        ((string)(await workspace.GetRunAsync(id))["status"]!).ShouldBe("waiting");
        var second = await bobClient.PostJsonAsync(decisions, new { decision = "approve" });

        await second.ShouldBeAsync(HttpStatusCode.OK);
        var settled = await second.ReadObjectAsync();
        ((string)settled["status"]!).ShouldBe("approved");
        settled["decisions"]!.AsArray().Select(d => (string)d!["by"]!).ShouldBe([alice, bob]);
        ((string)settled["decisions"]![0]!["comment"]!).ShouldBe("Looks right.");
        var done = await workspace.WaitForRunAsync(id);
        ((string)done["status"]!).ShouldBe("succeeded");
        done["output"]!.ToJsonString().ShouldBe("""{"decided":"approved"}""");
        (await bobClient.PostJsonAsync(decisions, new { decision = "reject" })).StatusCode.ShouldBe(HttpStatusCode.Conflict);
        var events = await workspace.ListAllAsync(workspace.Runs($"/{id}/events?type=approval"));
        events.Select(e => (string)e["data"]!["status"]!).ShouldBe(["pending", "pending", "pending", "approved"]);
    }

    [Theory, AllDatabases]
    public async Task Reject_FailsTheStep(DatabaseKind db)
    {
        var app = await EngineApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        var (alice, aliceKey) = await workspace.Owner.CreateServiceAccountAsync(workspace.Name, "operator");
        var flow = await workspace.CreateFlowAsync(Steps([alice]));
        var run = await workspace.StartAsync(flow, wait: null);
        var id = (string)run["id"]!;
        await workspace.WaitForRunAsync(id, r => (string)r["status"]! == "waiting");
        var approval = (await workspace.ListAllAsync($"/api/v1/workspaces/{workspace.Name}/approvals?run={id}")).Single();
        using var aliceClient = app.Client(aliceKey);

        await (await aliceClient.PostJsonAsync($"/api/v1/workspaces/{workspace.Name}/approvals/{approval["id"]}/decisions", new { decision = "reject", comment = "Not today." })).ShouldBeAsync(HttpStatusCode.OK);

        var done = await workspace.WaitForRunAsync(id);
        ((string)done["status"]!).ShouldBe("failed");
        ((string)done["error"]!["type"]!).ShouldBe("approval_rejected");
        ((string)done["error"]!["details"]!["decisions"]![0]!["comment"]!).ShouldBe("Not today.");
    }

    [Theory, AllDatabases]
    public async Task Timeout_RejectsApprovesOrEscalates_AsConfigured(DatabaseKind db)
    {
        var app = await EngineApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        var (alice, aliceKey) = await workspace.Owner.CreateServiceAccountAsync(workspace.Name, "operator");
        var (bob, bobKey) = await workspace.Owner.CreateServiceAccountAsync(workspace.Name, "operator");
        var rejecting = await workspace.CreateFlowAsync(Steps([alice], timeout: "1s"));
        var approving = await workspace.CreateFlowAsync(Steps([alice], timeout: "1s", onTimeout: "approve"));
        var escalating = await workspace.CreateFlowAsync(Steps([alice], timeout: "1s", onTimeout: "escalate", escalateTo: [bob]));

        var rejected = await workspace.StartAsync(rejecting, wait: null);
        var approved = await workspace.StartAsync(approving, wait: null);
        var escalated = await workspace.StartAsync(escalating, wait: null);

        var rejectedDone = await workspace.WaitForRunAsync((string)rejected["id"]!);
        ((string)rejectedDone["status"]!).ShouldBe("failed");
        ((string)rejectedDone["error"]!["details"]!["reason"]!).ShouldBe("timeout");
        var approvedDone = await workspace.WaitForRunAsync((string)approved["id"]!);
        ((string)approvedDone["status"]!).ShouldBe("succeeded");
        var escalatedId = (string)escalated["id"]!;
        var approval = await WaitForApprovalAsync(workspace, escalatedId, a => (int)a["escalations"]! == 1);
        approval["approvers"]!.AsArray().Select(a => (string)a!).ShouldBe([bob]);
        using var aliceClient = app.Client(aliceKey);
        using var bobClient = app.Client(bobKey);
        var decisions = $"/api/v1/workspaces/{workspace.Name}/approvals/{approval["id"]}/decisions";
        (await aliceClient.PostJsonAsync(decisions, new { decision = "approve" })).StatusCode.ShouldBe(HttpStatusCode.Forbidden);
        await (await bobClient.PostJsonAsync(decisions, new { decision = "approve" })).ShouldBeAsync(HttpStatusCode.OK);
        ((string)(await workspace.WaitForRunAsync(escalatedId))["status"]!).ShouldBe("succeeded");
    }

    [Theory, AllDatabases]
    public async Task Approval_WaitsAcrossARestart(DatabaseKind db)
    {
        var first = await CadreApp.StartAsync(db, EngineApps.Settings);
        var workspace = await first.CreateWorkspaceAsync();
        var (alice, aliceKey) = await workspace.Owner.CreateServiceAccountAsync(workspace.Name, "operator");
        var flow = await workspace.CreateFlowAsync(Steps([alice]));
        var id = (string)(await workspace.StartAsync(flow, wait: null))["id"]!;
        var approval = await WaitForApprovalAsync(workspace, id, _ => true);
        await first.DisposeAsync();

        await using var second = await CadreApp.StartAsync(db, EngineApps.Settings, databaseSetting: first.DatabaseSetting, dataDir: first.DataDir, adminKey: first.AdminKey);
        using var aliceClient = second.Client(aliceKey);
        await (await aliceClient.PostJsonAsync($"/api/v1/workspaces/{workspace.Name}/approvals/{approval["id"]}/decisions", new { decision = "approve" })).ShouldBeAsync(HttpStatusCode.OK);

        var again = workspace with { Owner = second.Client(workspace.OwnerKey) };
        ((string)(await again.WaitForRunAsync(id))["status"]!).ShouldBe("succeeded");
    }

    [Theory, AllDatabases]
    public async Task Approvals_BadInput_AnswersProblems(DatabaseKind db)
    {
        var app = await EngineApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        var approvals = $"/api/v1/workspaces/{workspace.Name}/approvals";

        (await workspace.Owner.GetAsync(approvals + "/apr_ghost")).StatusCode.ShouldBe(HttpStatusCode.NotFound);
        (await workspace.Owner.PostJsonAsync(approvals + "/apr_ghost/decisions", new { decision = "approve" })).StatusCode.ShouldBe(HttpStatusCode.NotFound);
        (await workspace.Owner.GetAsync(approvals + "?status=maybe")).StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await workspace.Owner.PostJsonAsync(approvals + "/apr_ghost/decisions", new { decision = "approve", comment = new string('x', 5000) })).StatusCode.ShouldBe(HttpStatusCode.UnprocessableEntity);
        var viewer = app.Client(await workspace.Owner.CreateKeyAsync(workspace.Name, "viewer"));
        (await viewer.PostJsonAsync(approvals + "/apr_ghost/decisions", new { decision = "approve" })).StatusCode.ShouldBe(HttpStatusCode.Forbidden);
    }

    private static async Task<JsonObject> WaitForApprovalAsync(TestWorkspace workspace, string runId, Func<JsonObject, bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            var found = await workspace.ListAllAsync($"/api/v1/workspaces/{workspace.Name}/approvals?run={runId}");
            if (found.FirstOrDefault(condition) is { } approval)
            {
                return approval;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"No approval of run {runId} got there in 30 s.");
            }

            await Task.Delay(50);
        }
    }
}
