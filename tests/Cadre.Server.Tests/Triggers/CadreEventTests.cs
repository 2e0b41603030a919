using System.Net;
using System.Text.Json.Nodes;
using Cadre.Server.Tests.Runs;
using Cadre.Server.Tests.Workflows;
using Cadre.Storage;

namespace Cadre.Server.Tests.Triggers;

/// <summary>Cadre's own happenings start the workflows that listen for them, and a chain of workflows reacting to each other ends.</summary>
public sealed class CadreEventTests
{
    private static string Events(TestWorkspace workspace, string rest = "") => $"/api/v1/workspaces/{workspace.Name}/events{rest}";

    private static async Task<string> ListenerAsync(TestWorkspace workspace, string eventType, object? filters = null)
    {
        var name = await workspace.CreateFlowAsync(
            [new { id = "echo", activity = new { uniqueIdentifier = "transform" }, input = new { type = "{{ context.event.type }}", payload = "{{ context.event.payload }}" } }],
            new { type = "event", trigger = filters is null ? (object)new { eventType } : new { eventType, filters } });
        await (await workspace.Owner.PostAsync(workspace.Workflows($"/{name}/activate"), null)).ShouldBeAsync(HttpStatusCode.OK);
        return name;
    }

    private static async Task<List<JsonObject>> RunsOfAsync(TestWorkspace workspace, string workflow) =>
        await workspace.ListAllAsync(workspace.Workflows($"/{workflow}/runs"));

    [Theory, AllDatabases]
    public async Task RunFailed_StartsTheWorkflowsListeningForIt_WithTheRunInThePayload(DatabaseKind db)
    {
        var workspace = await (await EngineApps.Get(db)).CreateWorkspaceAsync();
        var failing = await workspace.CreateFlowAsync(
            [new { id = "boom", activity = new { uniqueIdentifier = "http" }, input = new { url = "http://127.0.0.1:1/nothing" }, retryPolicy = new { maximumAttempts = 1 } }]);
        var onFailure = await ListenerAsync(workspace, "run.failed");
        // Not its own successes: a filter keeps a listener from answering itself.
        var onSuccess = await ListenerAsync(workspace, "run.succeeded",
            new Dictionary<string, object> { ["{{ context.event.payload.workflowId }}"] = new Dictionary<string, object> { ["~neq"] = "{{ workflow.id }}" } });

        var failed = await workspace.StartAsync(failing);

        ((string)failed["status"]!).ShouldBe("failed");
        await Eventually.HoldsAsync(async () => (await RunsOfAsync(workspace, onFailure)).Count == 1, "the run.failed listener ran");
        var listener = await workspace.WaitForRunAsync((string)(await RunsOfAsync(workspace, onFailure))[0]["id"]!);
        ((string)listener["output"]!["payload"]!["runId"]!).ShouldBe((string)failed["id"]!);
        ((string)listener["output"]!["payload"]!["error"]!).ShouldNotBeNullOrEmpty();
        var events = await workspace.ListAllAsync(Events(workspace, "?origin=cadre"));
        events.ShouldContain(e => (string)e["type"]! == "run.failed");
        // The first listener's success started the run.succeeded listener, whose own success it ignores.
        await Eventually.HoldsAsync(async () => (await RunsOfAsync(workspace, onSuccess)).Count == 1, "the run.succeeded listener ran for the first listener");
        var second = await workspace.WaitForRunAsync((string)(await RunsOfAsync(workspace, onSuccess))[0]["id"]!);
        ((string)second["output"]!["payload"]!["runId"]!).ShouldBe((string)listener["id"]!);
        await Eventually.HoldsAsync(
            async () => (await workspace.ListAllAsync(Events(workspace, "?type=run.succeeded"))) is { Count: 2 } all && all.All(e => e["dispatchedAt"] is not null),
            "both successes dispatched");
        (await RunsOfAsync(workspace, onSuccess)).Count.ShouldBe(1);
    }

    [Theory, AllDatabases]
    public async Task WorkflowTriggeredByItsOwnRuns_StopsAfterTheChainLimit(DatabaseKind db)
    {
        var workspace = await (await EngineApps.Get(db)).CreateWorkspaceAsync();
        var starter = await workspace.CreateFlowAsync([new { id = "noop", activity = new { uniqueIdentifier = "transform" }, input = new { ok = true } }]);
        var echo = await ListenerAsync(workspace, "run.*");

        await workspace.StartAsync(starter);

        // The starter's success, then each of the echo's own: 8 echo runs, and the 9th event starts nothing.
        await Eventually.HoldsAsync(
            async () => (await workspace.ListAllAsync(Events(workspace, "?type=run.succeeded"))) is { Count: 9 } all && all.All(e => e["dispatchedAt"] is not null),
            "nine run.succeeded events, all dispatched");
        (await RunsOfAsync(workspace, echo)).Count.ShouldBe(Cadre.Triggers.EventDispatcher.MaxDepth);
        var last = (await workspace.ListAllAsync(Events(workspace, "?type=run.succeeded")))[0];
        last["runs"]!.AsArray().ShouldBeEmpty();
    }

    [Theory, AllDatabases]
    public async Task PersonaPublished_AndApprovalRequested_StartTheirListeners(DatabaseKind db)
    {
        var workspace = await (await EngineApps.Get(db)).CreateWorkspaceAsync();
        var onPublish = await ListenerAsync(workspace, "persona.published");
        var onApproval = await ListenerAsync(workspace, "approval.*");
        var (approver, _) = await workspace.Owner.CreateServiceAccountAsync(workspace.Name, "operator");
        var gated = await workspace.CreateFlowAsync(
            [new { id = "gate", activity = new { uniqueIdentifier = "approval" }, input = new { message = "Go?" }, approval = new { approvers = new[] { approver } } }]);

        var persona = await workspace.Owner.PostJsonAsync($"/api/v1/workspaces/{workspace.Name}/personas", new { name = "helper", displayName = "Helper", instructions = "Help." });
        await persona.ShouldBeAsync(HttpStatusCode.Created);
        var waiting = (string)(await workspace.StartAsync(gated, wait: null))["id"]!;

        await Eventually.HoldsAsync(async () => (await RunsOfAsync(workspace, onPublish)).Count == 1, "the persona.published listener ran");
        await Eventually.HoldsAsync(async () => (await RunsOfAsync(workspace, onApproval)).Count == 1, "the approval.requested listener ran");
        var published = await workspace.WaitForRunAsync((string)(await RunsOfAsync(workspace, onPublish))[0]["id"]!);
        ((string)published["output"]!["payload"]!["name"]!).ShouldBe("helper");
        var asked = await workspace.WaitForRunAsync((string)(await RunsOfAsync(workspace, onApproval))[0]["id"]!);
        ((string)asked["output"]!["type"]!).ShouldBe("approval.requested");
        ((string)asked["output"]!["payload"]!["runId"]!).ShouldBe(waiting);
        await workspace.Owner.PostAsync(workspace.Runs($"/{waiting}/halt"), null);
    }
}
