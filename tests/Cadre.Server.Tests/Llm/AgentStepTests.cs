using System.Net;
using System.Text.Json.Nodes;
using Cadre.Server.Tests.Infrastructure;
using Cadre.Server.Tests.Personas;
using Cadre.Server.Tests.Runs;
using Cadre.Server.Tests.Workflows;
using Cadre.Storage;
using Microsoft.AspNetCore.Http;

namespace Cadre.Server.Tests.Llm;

public sealed class AgentStepTests
{
    private const string Key = "sk-fake-agent-key-0123456789";

    private static JsonObject AgentStep(object input) => new()
    {
        ["id"] = "work",
        ["activity"] = new JsonObject { ["uniqueIdentifier"] = "agent" },
        ["input"] = JsonNode.Parse(Api.Serialize(input)),
    };

    private static async Task ConnectAsync(TestWorkspace workspace, FakeModelServer fake, string name = "fake") =>
        await (await workspace.Owner.PostJsonAsync($"/api/v1/workspaces/{workspace.Name}/providers", new
        {
            name, kind = "openai", baseUrl = fake.OpenAIEndpoint.ToString(), apiKey = Key,
        })).ShouldBeAsync(HttpStatusCode.Created);

    [Theory, AllDatabases]
    public async Task Mock_CallsATool_ThenAnswersWithItsResult(DatabaseKind db)
    {
        var app = await EngineApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        var flow = await workspace.CreateFlowAsync([AgentStep(new
        {
            prompt = "What time is it?", skills = new[] { "current_time" }, model = new { provider = "mock", model = "tool:current_time:{}" },
        })]);

        var run = await workspace.StartAsync(flow);

        ((string)run["status"]!).ShouldBe("succeeded", run.ToJsonString());
        var output = RunApi.Step(run, "work")["output"]!;
        ((int)output["turns"]!).ShouldBe(2);
        ((string)output["text"]!).ShouldStartWith("The tool answered: \"20");
        var messages = output["messages"]!.AsArray();
        messages.Select(m => (string)m!["role"]!).ShouldBe(["user", "assistant", "tool", "assistant"]);
        ((string)messages[1]!["toolCalls"]![0]!["name"]!).ShouldBe("current_time");
        var logs = await workspace.ListAllAsync(workspace.Runs($"/{run["id"]}/events?type=log"));
        logs.ShouldContain(e => ((string)e["data"]!["message"]!).StartsWith("Called current_time", StringComparison.Ordinal));
        (await workspace.ListAllAsync(workspace.Runs($"/{run["id"]}/events?type=usage"))).Count.ShouldBe(2);
    }

    [Theory, AllDatabases]
    public async Task Persona_GivesInstructionsModelAndSkills_AndToolCallsCarryIdempotencyKeys(DatabaseKind db)
    {
        var app = await EngineApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        await using var fake = await FakeModelServer.StartAsync();
        var received = new List<string>();
        await using var sink = await FakeHttpServer.StartAsync(async context =>
        {
            lock (received)
            {
                received.Add(context.Request.Headers["Idempotency-Key"].ToString());
            }

            await context.Response.WriteAsJsonAsync(new { balance = 42 });
        });
        await ConnectAsync(workspace, fake);
        await workspace.CreatePersonaAsync("billing", new
        {
            instructions = "You are a {{ params.tone }} billing assistant.",
            parameters = new[] { new { name = "tone", type = "string", @default = "cheerful" } },
            model = new { provider = "fake", model = "gpt-4o" },
            skills = new[] { new { @ref = "http_request" } },
        });
        fake.Enqueue(new FakeReply { ToolCalls = [new FakeToolCall("call_1", "http_request", $$"""{"url": "{{sink.Address}}balance"}""")] });
        fake.Enqueue(new FakeReply { Text = "Your balance is 42." });
        var flow = await workspace.CreateFlowAsync([AgentStep(new { persona = "billing", prompt = "What is my balance?", parameters = new { tone = "terse" } })]);

        var run = await workspace.StartAsync(flow);

        ((string)run["status"]!).ShouldBe("succeeded", run.ToJsonString());
        ((string)RunApi.Step(run, "work")["output"]!["text"]!).ShouldBe("Your balance is 42.");
        ((int)RunApi.Step(run, "work")["output"]!["personaVersion"]!).ShouldBe(1);
        fake.Requests.Count.ShouldBe(2);
        ((string)fake.Requests[0].Body["messages"]![0]!["content"]!).ShouldBe("You are a terse billing assistant.");
        fake.Requests[0].Body["tools"]!.AsArray().Select(t => (string)t!["function"]!["name"]!).ShouldBe(["http_request"]);
        fake.Requests[0].Body["tools"]![0]!["function"]!["parameters"]!["properties"]!.AsObject().Select(p => p.Key).ShouldBe(["url", "method", "body"]);
        fake.Requests[0].Body["tools"]![0]!["function"]!["parameters"]!["required"]!.AsArray().Select(r => (string)r!).ShouldBe(["url"]);
        var toolMessage = fake.Requests[1].Body["messages"]!.AsArray().Single(m => (string)m!["role"]! == "tool")!;
        ((string)toolMessage["content"]!).ShouldContain("42");
        received.ShouldBe([$"{run["id"]}/work/1/call_1"]);
    }

    [Fact]
    public async Task WorkflowSettings_SupplyPersonaSkillsAndGuardrails_AndTokenSavingOptionsApply()
    {
        var app = await EngineApps.Get(DatabaseKind.Sqlite);
        var workspace = await app.CreateWorkspaceAsync();
        await using var fake = await FakeModelServer.StartAsync();
        await using var sink = await FakeHttpServer.StartAsync(context => context.Response.WriteAsJsonAsync(new[] { new { id = 1, name = "a" }, new { id = 2, name = "b" } }));
        await ConnectAsync(workspace, fake);
        await workspace.CreatePersonaAsync("runner", new { instructions = "You run errands.", model = new { provider = "fake", model = "gpt-4o" } });
        await (await workspace.Owner.PostJsonAsync($"/api/v1/workspaces/{workspace.Name}/guardrails", new { name = "no-done", kind = "deny_topic", action = "warn", config = new { phrase = "done" } }))
            .ShouldBeAsync(HttpStatusCode.Created);
        fake.Enqueue(new FakeReply { ToolCalls = [new FakeToolCall("call_i", "http_request", $$"""{"url": "{{sink.Address}}items"}""")] });
        fake.Enqueue(new FakeReply { Text = "All done." });
        var flow = await workspace.CreateFlowAsync(
            [AgentStep(new { prompt = "List the items.", terse = true, tsvToolResults = true })],
            extra: new { executingAgent = "runner", skillIds = new[] { "http_request" }, guardrailIds = new[] { "no-done" } });

        var run = await workspace.StartAsync(flow);

        ((string)run["status"]!).ShouldBe("succeeded", run.ToJsonString());
        ((string)fake.Requests[0].Body["messages"]![0]!["content"]!).ShouldBe("You run errands.\n\n" + "Answer in as few words as possible: no greeting, no preamble, no restating the question, no filler; fragments and lists are fine. Keep every fact.");
        fake.Requests[0].Body["tools"]!.AsArray().Select(t => (string)t!["function"]!["name"]!).ShouldBe(["http_request"]);
        var toolResult = (string)fake.Requests[1].Body["messages"]!.AsArray().Single(m => (string)m!["role"]! == "tool")!["content"]!;
        // The adapter sends a string result as a JSON string.
        var answer = JsonNode.Parse(toolResult) is JsonValue quoted ? JsonNode.Parse((string)quoted!) : JsonNode.Parse(toolResult);
        ((string)answer!["body"]!).ShouldBe("id\tname\n1\ta\n2\tb\n");
        var warnings = await workspace.ListAllAsync(workspace.Runs($"/{run["id"]}/events?type=log"));
        warnings.ShouldContain(e => e["data"]!["guardrail"] != null && (string)e["data"]!["guardrail"]!["guardrail"]! == "no-done");
    }

    [Fact]
    public async Task PersonaPipeline_IteratesUntilTheCheckerApproves()
    {
        var app = await EngineApps.Get(DatabaseKind.Sqlite);
        var workspace = await app.CreateWorkspaceAsync();
        await using var fake = await FakeModelServer.StartAsync();
        await ConnectAsync(workspace, fake);
        await workspace.CreatePersonaAsync("writer", new { instructions = "You write.", model = new { provider = "fake", model = "gpt-4o" } });
        await workspace.CreatePersonaAsync("editor", new { instructions = "You review.", model = new { provider = "fake", model = "gpt-4o" } });
        fake.Enqueue(new FakeReply { Text = "A long first draft." });
        fake.Enqueue(new FakeReply { Text = """{"approved": false, "feedback": "Make it shorter."}""" });
        fake.Enqueue(new FakeReply { Text = "Short draft." });
        fake.Enqueue(new FakeReply { Text = """{"approved": true, "feedback": "Good."}""" });
        var name = Api.UniqueName("pipe");
        var body = WorkflowApi.Body(name);
        body.Remove("steps");
        body["personaPipeline"] = JsonNode.Parse(Api.Serialize(new { designer = new { persona = "writer" }, checker = new { persona = "editor" }, maxIterations = 3 }));
        await (await workspace.Owner.PostAsync(workspace.Workflows(), Api.JsonContent(body))).ShouldBeAsync(HttpStatusCode.Created);

        var run = await workspace.StartAsync(name, new { input = new { prompt = "Write a slogan." } });

        ((string)run["status"]!).ShouldBe("succeeded", run.ToJsonString());
        var result = RunApi.Step(run, "result")["output"]!;
        ((string)result["text"]!).ShouldBe("Short draft.");
        ((bool)result["approved"]!).ShouldBeTrue();
        fake.Requests.Count.ShouldBe(4);
        var secondDraftPrompt = (string)fake.Requests[2].Body["messages"]!.AsArray().Last()!["content"]!;
        secondDraftPrompt.ShouldContain("Make it shorter.");
        secondDraftPrompt.ShouldContain("A long first draft.");
    }

    [Fact]
    public async Task MaxTurns_StopsTheLoop_AndUnknownSkills_FailAtOnce()
    {
        var app = await EngineApps.Get(DatabaseKind.Sqlite);
        var workspace = await app.CreateWorkspaceAsync();
        var looping = await workspace.CreateFlowAsync([AgentStep(new
        {
            prompt = "Keep checking the time.", skills = new[] { "current_time" }, maxTurns = 1, model = new { provider = "mock", model = "tool:current_time:{}" },
        })]);
        var unknown = await workspace.CreateFlowAsync([AgentStep(new { prompt = "Deploy.", skills = new[] { "deploy_to_prod" }, model = new { provider = "mock", model = "echo" } })]);

        var stopped = await workspace.StartAsync(looping);
        var refused = await workspace.StartAsync(unknown);

        ((string)stopped["status"]!).ShouldBe("failed");
        ((string)RunApi.Step(stopped, "work")["error"]!["type"]!).ShouldBe("max_turns");
        ((string)refused["status"]!).ShouldBe("failed");
        var error = RunApi.Step(refused, "work")["error"]!;
        ((string)error["type"]!).ShouldBe("skill_not_found");
        ((string)error["message"]!).ShouldContain("deploy_to_prod");
        ((int)RunApi.Step(refused, "work")["attempts"]!).ShouldBe(1);
    }

    [Fact]
    public async Task StructuredOutput_GetsOneRepair()
    {
        var app = await EngineApps.Get(DatabaseKind.Sqlite);
        var workspace = await app.CreateWorkspaceAsync();
        await using var fake = await FakeModelServer.StartAsync();
        await ConnectAsync(workspace, fake);
        fake.Enqueue(new FakeReply { Text = "The score is high." });
        fake.Enqueue(new FakeReply { Text = """{"score": 0.8}""" });
        var flow = await workspace.CreateFlowAsync([AgentStep(new
        {
            prompt = "Score it.", model = new { provider = "fake", model = "gpt-4o" },
            outputSchema = new { type = "object", required = new[] { "score" }, properties = new { score = new { type = "number" } } },
        })]);

        var run = await workspace.StartAsync(flow);

        ((string)run["status"]!).ShouldBe("succeeded", run.ToJsonString());
        ((double)RunApi.Step(run, "work")["output"]!["json"]!["score"]!).ShouldBe(0.8);
        fake.Requests.Count.ShouldBe(2);
        ((string)fake.Requests[1].Body["messages"]!.AsArray().Last()!["content"]!).ShouldContain("Answer again with only the JSON");
    }

    [Fact]
    public async Task KilledMidConversation_ResumesFromTheLastTurn_WithoutAskingFinishedTurnsAgain()
    {
        await using var fake = await FakeModelServer.StartAsync();
        // Turn 1 asks for the time; turn 2 hangs until the server is killed; after the restart, turn 2 answers.
        fake.Enqueue(new FakeReply { ToolCalls = [new FakeToolCall("call_t", "current_time", "{}")] });
        fake.Enqueue(new FakeReply { Text = "too late", TimeToFirstToken = TimeSpan.FromMinutes(5) });
        fake.Enqueue(new FakeReply { Text = "It is now." });
        var directory = TestDirectories.Create("agent-crash");
        var (environment, adminKey) = ModelServerProcess.Environment();
        var server = ServerProcess.Start(directory, environment);
        try
        {
            var (workspaceName, ownerKey) = await ModelServerProcess.CreateWorkspaceAsync(server, adminKey, fake, Key);
            using var owner = server.Client(ownerKey);
            var workflow = WorkflowApi.Body("agent");
            workflow["steps"] = new JsonArray(AgentStep(new { prompt = "What time is it?", skills = new[] { "current_time" }, model = new { provider = "fake", model = "gpt-4o" } }));
            await (await owner.PostAsync($"/api/v1/workspaces/{workspaceName}/workflows", Api.JsonContent(workflow))).ShouldBeAsync(HttpStatusCode.Created);
            var started = await (await owner.PostJsonAsync($"/api/v1/workspaces/{workspaceName}/workflows/agent/runs", new { })).ReadObjectAsync();
            var runId = (string)started["id"]!;
            await Eventually.HoldsAsync(() => fake.Requests.Count == 2, "turn 2 reached the provider");
            await server.KillAsync();
            server = ServerProcess.Start(directory, environment);
            await server.WaitUntilListeningAsync();
            using var again = server.Client(ownerKey);
            var run = await ModelServerProcess.WaitForRunAsync(again, $"/api/v1/workspaces/{workspaceName}/runs/{runId}", r => (string)r["status"]! is "succeeded" or "failed");

            ((string)run["status"]!).ShouldBe("succeeded", run.ToJsonString());
            ((string)RunApi.Step(run, "work")["output"]!["text"]!).ShouldBe("It is now.");
            // Turn 1 was asked once; turn 2 twice (the killed request, then the resumed one), which carried the tool's result.
            fake.Requests.Count.ShouldBe(3);
            fake.Requests[2].Body["messages"]!.AsArray().ShouldContain(m => (string)m!["role"]! == "tool");
            ((int)RunApi.Step(run, "work")["output"]!["turns"]!).ShouldBe(2);
        }
        finally
        {
            await server.DisposeAsync();
        }
    }
}
