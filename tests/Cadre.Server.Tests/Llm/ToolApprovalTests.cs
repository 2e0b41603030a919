using System.Net;
using System.Text.Json.Nodes;
using Cadre.Server.Tests.Infrastructure;
using Cadre.Server.Tests.Runs;
using Cadre.Server.Tests.Workflows;
using Cadre.Storage;
using Microsoft.AspNetCore.Http;

namespace Cadre.Server.Tests.Llm;

/// <summary>Tools that wait for people's approval before each call: a skill's <c>approval</c> or a step's <c>toolApproval</c>.</summary>
public sealed class ToolApprovalTests
{
    private static JsonObject AgentStep(object input) => new()
    {
        ["id"] = "work",
        ["activity"] = new JsonObject { ["uniqueIdentifier"] = "agent" },
        ["input"] = JsonNode.Parse(Api.Serialize(input)),
    };

    private static async Task ConnectAsync(TestWorkspace workspace, FakeModelServer fake) =>
        await (await workspace.Owner.PostJsonAsync($"/api/v1/workspaces/{workspace.Name}/providers", new
        {
            name = "fake", kind = "openai", baseUrl = fake.OpenAIEndpoint.ToString(), apiKey = "sk-tool-approval-key",
        })).ShouldBeAsync(HttpStatusCode.Created);

    /// <summary>An agent that asks for the time once, each look at the clock needing <paramref name="approver"/>'s approval; the model then says <paramref name="answer"/>.</summary>
    private static Task<string> ClockFlowAsync(TestWorkspace workspace, FakeModelServer fake, string approver, string answer, string? timeout = null)
    {
        fake.Enqueue(new FakeReply { ToolCalls = [new FakeToolCall("call_t", "current_time", "{}")] });
        fake.Enqueue(new FakeReply { Text = answer });
        var approval = new JsonObject { ["approvers"] = new JsonArray(approver) };
        if (timeout is not null)
        {
            approval["timeout"] = timeout;
        }

        return workspace.CreateFlowAsync([AgentStep(new
        {
            prompt = "What time is it?", skills = new[] { "current_time" }, model = new { provider = "fake", model = "gpt-4o" },
            toolApproval = new JsonObject { ["current_time"] = approval },
        })]);
    }

    private static string Decisions(TestWorkspace workspace, JsonObject approval) => $"/api/v1/workspaces/{workspace.Name}/approvals/{approval["id"]}/decisions";

    [Theory, AllDatabases]
    public async Task SkillWithApproval_WaitsForTheDecision_ThenCallsTheToolOnce(DatabaseKind db)
    {
        var app = await EngineApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        var (alice, aliceKey) = await workspace.Owner.CreateServiceAccountAsync(workspace.Name, "operator");
        await using var sink = await CountingSink.StartAsync();
        await using var fake = await FakeModelServer.StartAsync();
        await ConnectAsync(workspace, fake);
        await (await workspace.Owner.PostJsonAsync($"/api/v1/workspaces/{workspace.Name}/skills", new
        {
            name = "refund", kind = "http", description = "Refund an order.",
            config = new { method = "POST", url = sink.Server.Address + "refund/{{ args.order }}", parameters = new { type = "object", required = new[] { "order" }, properties = new { order = new { type = "integer" } } } },
            approval = new { approvers = new[] { alice }, timeout = "1h" },
        })).ShouldBeAsync(HttpStatusCode.Created);
        fake.Enqueue(new FakeReply { ToolCalls = [new FakeToolCall("call_r", "refund", """{"order": 42}""")] });
        fake.Enqueue(new FakeReply { Text = "Refunded order 42." });
        var flow = await workspace.CreateFlowAsync([AgentStep(new { prompt = "Refund order 42.", skills = new[] { "refund" }, model = new { provider = "fake", model = "gpt-4o" } })]);
        var runId = (string)(await workspace.StartAsync(flow, wait: null))["id"]!;

        var waiting = await workspace.WaitForRunAsync(runId, r => (string)r["status"]! == "waiting");
        RunApi.StepStatus(waiting, "work").ShouldBe("waiting");
        using var aliceClient = app.Client(aliceKey);
        var approval = (await (await aliceClient.GetAsync($"/api/v1/workspaces/{workspace.Name}/approvals?approver=me&status=pending")).ReadObjectAsync())["results"]!
            .AsArray().ShouldHaveSingleItem()!.AsObject();
        ((string)approval["summary"]!["tool"]!).ShouldBe("refund");
        ((int)approval["summary"]!["arguments"]!["order"]!).ShouldBe(42);
        ((string)approval["runId"]!).ShouldBe(runId);
        sink.Calls.ShouldBe(0);
        fake.Requests.Count.ShouldBe(1);

        await (await aliceClient.PostJsonAsync(Decisions(workspace, approval), new { decision = "approve" })).ShouldBeAsync(HttpStatusCode.OK);
        var done = await workspace.WaitForRunAsync(runId);

        ((string)done["status"]!).ShouldBe("succeeded", done.ToJsonString());
        ((string)RunApi.Step(done, "work")["output"]!["text"]!).ShouldBe("Refunded order 42.");
        sink.Calls.ShouldBe(1);
        // The first model turn was not asked again after the wait, nor billed twice.
        fake.Requests.Count.ShouldBe(2);
        (await workspace.ListAllAsync(workspace.Runs($"/{runId}/events?type=usage"))).Count.ShouldBe(2);
        var statuses = (await workspace.ListAllAsync(workspace.Runs($"/{runId}/events?type=approval"))).Select(e => (string)e["data"]!["status"]!);
        statuses.ShouldBe(["pending", "pending", "approved"]);
    }

    [Theory, AllDatabases]
    public async Task RejectedCall_IsNotRun_AndTheModelIsToldWhy(DatabaseKind db)
    {
        var app = await EngineApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        var (alice, aliceKey) = await workspace.Owner.CreateServiceAccountAsync(workspace.Name, "operator");
        await using var sink = await CountingSink.StartAsync();
        await using var fake = await FakeModelServer.StartAsync();
        await ConnectAsync(workspace, fake);
        fake.Enqueue(new FakeReply { ToolCalls = [new FakeToolCall("call_h", "http_request", $$"""{"url": "{{sink.Server.Address}}delete-everything", "method": "POST"}""")] });
        fake.Enqueue(new FakeReply { Text = "I was not allowed to." });
        var flow = await workspace.CreateFlowAsync([AgentStep(new
        {
            prompt = "Clean up.", skills = new[] { "http_request" }, model = new { provider = "fake", model = "gpt-4o" },
            toolApproval = new { http_request = new { approvers = new[] { alice } } },
        })]);
        var runId = (string)(await workspace.StartAsync(flow, wait: null))["id"]!;
        await workspace.WaitForRunAsync(runId, r => (string)r["status"]! == "waiting");
        var approval = (await workspace.ListAllAsync($"/api/v1/workspaces/{workspace.Name}/approvals?run={runId}")).Single();
        using var aliceClient = app.Client(aliceKey);

        await (await aliceClient.PostJsonAsync(Decisions(workspace, approval), new { decision = "reject", comment = "Never delete everything." })).ShouldBeAsync(HttpStatusCode.OK);
        var done = await workspace.WaitForRunAsync(runId);

        ((string)done["status"]!).ShouldBe("succeeded", done.ToJsonString());
        sink.Calls.ShouldBe(0);
        var told = (string)fake.Requests[1].Body["messages"]!.AsArray().Single(m => (string)m!["role"]! == "tool")!["content"]!;
        told.ShouldContain("rejected");
        told.ShouldContain("Never delete everything.");
    }

    [Fact]
    public async Task DecisionDuringAHalt_IsActedOnAtResume_WithoutStartingOver()
    {
        var app = await EngineApps.Get(DatabaseKind.Sqlite);
        var workspace = await app.CreateWorkspaceAsync();
        var (alice, aliceKey) = await workspace.Owner.CreateServiceAccountAsync(workspace.Name, "operator");
        await using var fake = await FakeModelServer.StartAsync();
        await ConnectAsync(workspace, fake);
        var flow = await ClockFlowAsync(workspace, fake, alice, "It is late.");
        var runId = (string)(await workspace.StartAsync(flow, wait: null))["id"]!;
        await workspace.WaitForRunAsync(runId, r => (string)r["status"]! == "waiting");
        var approval = (await workspace.ListAllAsync($"/api/v1/workspaces/{workspace.Name}/approvals?run={runId}")).Single();
        using var aliceClient = app.Client(aliceKey);

        await (await workspace.Owner.PostAsync(workspace.Runs($"/{runId}/halt"), null)).ShouldBeAsync(HttpStatusCode.OK);
        await (await aliceClient.PostJsonAsync(Decisions(workspace, approval), new { decision = "approve" })).ShouldBeAsync(HttpStatusCode.OK);
        // The decision's commit is the one that would have woken the step: after it, nothing may have moved.
        (await workspace.ListAllAsync(workspace.Runs($"/{runId}/events?type=approval"))).ShouldContain(e => (string)e["data"]!["status"]! == "approved");
        var halted = await workspace.GetRunAsync(runId);
        ((string)halted["status"]!).ShouldBe("halted");
        RunApi.StepStatus(halted, "work").ShouldBe("waiting");
        fake.Requests.Count.ShouldBe(1);
        await (await workspace.Owner.PostAsync(workspace.Runs($"/{runId}/resume"), null)).ShouldBeAsync(HttpStatusCode.OK);
        var done = await workspace.WaitForRunAsync(runId);

        ((string)done["status"]!).ShouldBe("succeeded", done.ToJsonString());
        fake.Requests.Count.ShouldBe(2);
        ((int)RunApi.Step(done, "work")["attempts"]!).ShouldBe(1);
        (await workspace.ListAllAsync($"/api/v1/workspaces/{workspace.Name}/approvals?run={runId}")).Count.ShouldBe(1);
    }

    [Fact]
    public async Task UnansweredApproval_ExpiresAtItsDeadline()
    {
        var app = await EngineApps.Get(DatabaseKind.Sqlite);
        var workspace = await app.CreateWorkspaceAsync();
        var (alice, _) = await workspace.Owner.CreateServiceAccountAsync(workspace.Name, "operator");
        await using var fake = await FakeModelServer.StartAsync();
        await ConnectAsync(workspace, fake);
        var flow = await ClockFlowAsync(workspace, fake, alice, "Nobody let me look at the clock.", timeout: "1s");

        var run = await workspace.StartAsync(flow, wait: "20s");

        ((string)run["status"]!).ShouldBe("succeeded", run.ToJsonString());
        ((string)fake.Requests[1].Body["messages"]!.AsArray().Single(m => (string)m!["role"]! == "tool")!["content"]!).ShouldContain("deadline");
        var approval = (await workspace.ListAllAsync($"/api/v1/workspaces/{workspace.Name}/approvals?run={run["id"]}")).Single();
        ((string)approval["status"]!).ShouldBe("expired");
    }

    [Fact]
    public async Task BadApprovalSettings_AreRefused()
    {
        var app = await EngineApps.Get(DatabaseKind.Sqlite);
        var workspace = await app.CreateWorkspaceAsync();
        var skill = new
        {
            name = "ping", kind = "http", description = "Ping.",
            config = new { url = "https://example.com/ping", parameters = new { type = "object" } },
            approval = new { approvers = new[] { "usr_a" }, quorum = 2, onTimeout = "shrug" },
        };

        var problem = await (await workspace.Owner.PostJsonAsync($"/api/v1/workspaces/{workspace.Name}/skills", skill)).ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity);

        problem.Errors!.Keys.Order().ShouldBe(["approval.onTimeout", "approval.quorum"]);
        (await workspace.Owner.GetAsync($"/api/v1/workspaces/{workspace.Name}/skills/ping")).StatusCode.ShouldBe(HttpStatusCode.NotFound);
        var created = await (await workspace.Owner.PostJsonAsync($"/api/v1/workspaces/{workspace.Name}/skills", skill with { approval = new { approvers = new[] { "usr_a" }, quorum = 1, onTimeout = "reject" } }))
            .ReadObjectAsync();
        ((string)created["approval"]!["approvers"]![0]!).ShouldBe("usr_a");
        var cleared = await (await workspace.Owner.PatchJsonAsync($"/api/v1/workspaces/{workspace.Name}/skills/ping", new { approval = new { } })).ReadObjectAsync();
        cleared["approval"].ShouldBeNull();
    }

    /// <summary>A tool's server that counts the calls it gets.</summary>
    private sealed class CountingSink : IAsyncDisposable
    {
        private int _calls;

        public FakeHttpServer Server { get; private set; } = null!;

        public int Calls => Volatile.Read(ref _calls);

        public static async Task<CountingSink> StartAsync()
        {
            var sink = new CountingSink();
            sink.Server = await FakeHttpServer.StartAsync(context =>
            {
                Interlocked.Increment(ref sink._calls);
                return context.Response.WriteAsJsonAsync(new { ok = true });
            });
            return sink;
        }

        public ValueTask DisposeAsync() => Server.DisposeAsync();
    }
}
