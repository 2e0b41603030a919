using System.Net;
using System.Text.Json.Nodes;
using Cadre.Server.Tests.Infrastructure;
using Cadre.Server.Tests.Runs;
using Cadre.Server.Tests.Workflows;
using Cadre.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace Cadre.Server.Tests.Llm;

/// <summary>The built-in tools that reach other workflows: <c>run_workflow</c> (a child run the agent waits for) and <c>emit_event</c>.</summary>
public sealed class AgentWorkflowToolTests
{
    private static JsonObject AgentStep(object input) => new()
    {
        ["id"] = "work",
        ["activity"] = new JsonObject { ["uniqueIdentifier"] = "agent" },
        ["input"] = JsonNode.Parse(Api.Serialize(input)),
    };

    private static async Task<(TestWorkspace Workspace, FakeModelServer Fake)> SetUpAsync(DatabaseKind db)
    {
        var app = await EngineApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        var fake = await FakeModelServer.StartAsync();
        await (await workspace.Owner.PostJsonAsync($"/api/v1/workspaces/{workspace.Name}/providers", new
        {
            name = "fake", kind = "openai", baseUrl = fake.OpenAIEndpoint.ToString(), apiKey = "sk-workflow-tools-key",
        })).ShouldBeAsync(HttpStatusCode.Created);
        return (workspace, fake);
    }

    /// <summary>A tool's JSON answer as the model got it (the adapter sends a string result as a JSON string).</summary>
    private static JsonNode ToolAnswer(string content) =>
        (JsonNode.Parse(content) is JsonValue quoted && quoted.TryGetValue<string>(out var inner) ? JsonNode.Parse(inner) : JsonNode.Parse(content))!;

    [Theory, AllDatabases]
    public async Task RunWorkflow_StartsOneChild_WaitsForItWithoutAWorker_AndAnswersItsOutput(DatabaseKind db)
    {
        var (workspace, fake) = await SetUpAsync(db);
        await using var _ = fake;
        var child = await workspace.CreateFlowAsync(
        [
            new { id = "pause", activity = new { uniqueIdentifier = "sleep" }, input = new { duration = "1s" } },
            new { id = "double", activity = new { uniqueIdentifier = "transform" }, dependsOn = new[] { "pause" }, input = new { doubled = "{{ context.body.n * 2 }}" } },
        ]);
        fake.Enqueue(new FakeReply { ToolCalls = [new FakeToolCall("call_c", "run_workflow", $$$"""{"workflow": "{{{child}}}", "input": {"n": 21}}""")] });
        fake.Enqueue(new FakeReply { Text = "It is 42." });
        var flow = await workspace.CreateFlowAsync([AgentStep(new { prompt = "Double 21.", skills = new[] { "run_workflow" }, model = new { provider = "fake", model = "gpt-4o" } })]);

        var run = await workspace.StartAsync(flow, wait: "30s");

        ((string)run["status"]!).ShouldBe("succeeded", run.ToJsonString());
        var answer = ToolAnswer((string)fake.Requests[1].Body["messages"]!.AsArray().Last(m => (string)m!["role"]! == "tool")!["content"]!);
        ((string)answer["status"]!).ShouldBe("succeeded");
        ((int)answer["output"]!["doubled"]!).ShouldBe(42);
        fake.Requests.Count.ShouldBe(2);
        var children = await workspace.ListAllAsync($"/api/v1/workspaces/{workspace.Name}/workflows/{child}/runs");
        ((string)children.ShouldHaveSingleItem()["parentRunId"]!).ShouldBe((string)run["id"]!);
        var steps = await workspace.ListAllAsync(workspace.Runs($"/{run["id"]}/events?type=step"));
        steps.ShouldContain(e => (string)e["data"]!["status"]! == "waiting" && (string)e["data"]!["reason"]! == "child");
        (await workspace.ListAllAsync(workspace.Runs($"/{run["id"]}/events?type=usage"))).Count.ShouldBe(2);
    }

    [Fact]
    public async Task RunWorkflow_ThatFailsOrIsUnknown_IsTheToolsAnswer_NotTheStepsFailure()
    {
        var (workspace, fake) = await SetUpAsync(DatabaseKind.Sqlite);
        await using var _ = fake;
        var failing = await workspace.CreateFlowAsync([new { id = "boom", activity = new { uniqueIdentifier = "http" }, input = new { url = "http://127.0.0.1:1/nothing" }, retryPolicy = new { maximumAttempts = 1 } }]);
        fake.Enqueue(new FakeReply { ToolCalls = [new FakeToolCall("call_x", "run_workflow", """{"workflow": "no-such-flow"}"""), new FakeToolCall("call_f", "run_workflow", $$"""{"workflow": "{{failing}}"}""")] });
        fake.Enqueue(new FakeReply { Text = "Both failed." });
        var flow = await workspace.CreateFlowAsync([AgentStep(new { prompt = "Try.", skills = new[] { "run_workflow" }, model = new { provider = "fake", model = "gpt-4o" } })]);

        var run = await workspace.StartAsync(flow, wait: "30s");

        ((string)run["status"]!).ShouldBe("succeeded", run.ToJsonString());
        var results = fake.Requests[1].Body["messages"]!.AsArray().Where(m => (string)m!["role"]! == "tool").Select(m => (string)m!["content"]!).ToList();
        results[0].ShouldContain("no-such-flow");
        results[1].ShouldContain("failed");
    }

    [Theory, AllDatabases]
    public async Task EmitEvent_EmitsOnce_AndWakesTheRunsWaitingForIt(DatabaseKind db)
    {
        var (workspace, fake) = await SetUpAsync(db);
        await using var _ = fake;
        var schema = new { type = "object", required = new[] { "orderId" }, properties = new { orderId = new { type = "string" } } };
        await (await workspace.Owner.PostJsonAsync($"/api/v1/workspaces/{workspace.Name}/event-types", new { name = "order.ready", schema })).ShouldBeAsync(HttpStatusCode.Created);
        var waiter = await workspace.CreateFlowAsync([new { id = "wait", activity = new { uniqueIdentifier = "wait_for_event" }, input = new { eventType = "order.ready", timeout = "1m" } }]);
        var waiting = (string)(await workspace.StartAsync(waiter, wait: null))["id"]!;
        await workspace.WaitForRunAsync(waiting, r => (string)r["status"]! == "waiting");
        fake.Enqueue(new FakeReply
        {
            ToolCalls = [new FakeToolCall("call_bad", "emit_event", """{"type": "order.ready", "payload": {"orderId": 7}}"""), new FakeToolCall("call_e", "emit_event", """{"type": "order.ready", "payload": {"orderId": "A-7"}}""")],
        });
        fake.Enqueue(new FakeReply { Text = "Announced." });
        var flow = await workspace.CreateFlowAsync([AgentStep(new { prompt = "Announce order A-7.", skills = new[] { "emit_event" }, model = new { provider = "fake", model = "gpt-4o" } })]);

        var run = await workspace.StartAsync(flow, wait: "30s");

        ((string)run["status"]!).ShouldBe("succeeded", run.ToJsonString());
        var results = fake.Requests[1].Body["messages"]!.AsArray().Where(m => (string)m!["role"]! == "tool").Select(m => (string)m!["content"]!).ToList();
        results[0].ShouldContain("does not follow the schema");
        ((int)ToolAnswer(results[1])["woke"]!).ShouldBe(1);
        var woken = await workspace.WaitForRunAsync(waiting);
        ((string)woken["status"]!).ShouldBe("succeeded");
        ((string)RunApi.Step(woken, "wait")["output"]!["event"]!["payload"]!["orderId"]!).ShouldBe("A-7");
        ((string)RunApi.Step(woken, "wait")["output"]!["event"]!["source"]!).ShouldBe($"agent:{run["id"]}");

        // A replay of the call (an attempt redelivered before its result was saved) carries the same key, and emits nothing new.
        var app = await EngineApps.Get(db);
        using var scope = app.Services.CreateScope();
        var replayed = await scope.ServiceProvider.GetRequiredService<Cadre.Runs.RunEngine>().EmitNowAsync(
            (string)run["id"]!, "work", new Cadre.Runs.EmitEvent("order.ready", "agent", new JsonObject { ["orderId"] = "A-7" }, $"{run["id"]}/work/1/call_e"), CancellationToken.None);
        ((bool)replayed["repeated"]!).ShouldBeTrue();
        var workspaceId = workspace.Id;
        scope.ServiceProvider.GetRequiredService<CadreDbContext>().WorkspaceEvents.Count(e => e.WorkspaceId == workspaceId && e.Type == "order.ready").ShouldBe(1);
    }
}
