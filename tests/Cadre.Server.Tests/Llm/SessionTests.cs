using System.Net;
using System.Text.Json.Nodes;
using Cadre.Server.Tests.Infrastructure;
using Cadre.Server.Tests.Runs;
using Cadre.Server.Tests.Workflows;
using Cadre.Storage;

namespace Cadre.Server.Tests.Llm;

/// <summary>Session runs: further prompts into a running agent, its history, the busy policies, halt, idle timeout.</summary>
public sealed class SessionTests
{
    private static JsonObject SessionStep(object? extra = null)
    {
        var input = new JsonObject
        {
            ["prompt"] = "{{ context.prompt }}",
            ["session"] = true,
            ["model"] = new JsonObject { ["provider"] = "fake", ["model"] = "gpt-4o" },
        };
        foreach (var (key, value) in extra is null ? [] : JsonNode.Parse(Api.Serialize(extra))!.AsObject())
        {
            input[key] = value?.DeepClone();
        }

        return new JsonObject { ["id"] = "chat", ["activity"] = new JsonObject { ["uniqueIdentifier"] = "agent" }, ["input"] = input };
    }

    private static async Task<(TestWorkspace Workspace, FakeModelServer Fake)> SetUpAsync(DatabaseKind db)
    {
        var app = await EngineApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        var fake = await FakeModelServer.StartAsync();
        await (await workspace.Owner.PostJsonAsync($"/api/v1/workspaces/{workspace.Name}/providers", new
        {
            name = "fake", kind = "openai", baseUrl = fake.OpenAIEndpoint.ToString(), apiKey = "sk-session-test-key",
        })).ShouldBeAsync(HttpStatusCode.Created);
        return (workspace, fake);
    }

    private static Task<HttpResponseMessage> SendAsync(TestWorkspace workspace, string runId, object body) =>
        workspace.Owner.PostJsonAsync(workspace.Runs($"/{runId}/messages"), body);

    private static Task<JsonObject> WaitForIdleAsync(TestWorkspace workspace, string runId, int answers) =>
        workspace.WaitForRunAsync(runId, r => (string)r["status"]! == "waiting"
            && r["messages"]!.AsArray().Count(m => (string)m!["role"]! == "assistant") == answers);

    [Theory, AllDatabases]
    public async Task Session_AnswersEachPromptWithItsHistory_AndEndsOnRequest(DatabaseKind db)
    {
        var (workspace, fake) = await SetUpAsync(db);
        await using var _ = fake;
        fake.Enqueue(new FakeReply { Text = "Hello Ada." });
        fake.Enqueue(new FakeReply { Text = "You are Ada." });
        var flow = await workspace.CreateFlowAsync([SessionStep()]);
        var run = await workspace.StartAsync(flow, new { prompt = "Hi, I am Ada." }, wait: null);
        var runId = (string)run["id"]!;

        var idle = await WaitForIdleAsync(workspace, runId, answers: 1);
        RunApi.StepStatus(idle, "chat").ShouldBe("waiting");
        idle["messages"]!.AsArray().Select(m => $"{m!["role"]}: {m["text"]}").ShouldBe(["user: Hi, I am Ada.", "assistant: Hello Ada."]);

        var sent = await SendAsync(workspace, runId, new { content = "Who am I?" });
        await sent.ShouldBeAsync(HttpStatusCode.Created);
        var message = await sent.ReadObjectAsync();
        ((string)message["role"]!).ShouldBe("user");
        ((string)message["stepId"]!).ShouldBe("chat");

        var second = await WaitForIdleAsync(workspace, runId, answers: 2);
        second["messages"]!.AsArray().Select(m => (string)m!["text"]!).ShouldBe(["Hi, I am Ada.", "Hello Ada.", "Who am I?", "You are Ada."]);
        fake.Requests.Count.ShouldBe(2);
        fake.Requests[1].Body["messages"]!.AsArray().Select(m => $"{m!["role"]}: {m["content"]}").ShouldBe(
            ["user: Hi, I am Ada.", "assistant: Hello Ada.", "user: Who am I?"]);
        // Each turn is billed once, though the step's attempt ran twice.
        (await workspace.ListAllAsync(workspace.Runs($"/{runId}/events?type=usage"))).Count.ShouldBe(2);
        ((int)RunApi.Step(second, "chat")["attempts"]!).ShouldBe(1);

        await (await SendAsync(workspace, runId, new { end = true })).ShouldBeAsync(HttpStatusCode.Created);
        var done = await workspace.WaitForRunAsync(runId);

        ((string)done["status"]!).ShouldBe("succeeded", done.ToJsonString());
        var output = RunApi.Step(done, "chat")["output"]!;
        ((string)output["text"]!).ShouldBe("You are Ada.");
        output["session"]!.ToJsonString().ShouldBe("""{"prompts":2,"endedBy":"request"}""");
        ((long)done["usage"]!["inputTokens"]!).ShouldBeGreaterThan(0);
        (await SendAsync(workspace, runId, new { content = "Still there?" })).StatusCode.ShouldBe(HttpStatusCode.Conflict);
        fake.Requests.Count.ShouldBe(2);
    }

    [Fact]
    public async Task PromptsWhileAnswering_AreQueuedRejectedOrInterrupt()
    {
        var (workspace, fake) = await SetUpAsync(DatabaseKind.Sqlite);
        await using var _ = fake;
        fake.Enqueue(new FakeReply { Text = string.Join(' ', Enumerable.Repeat("thinking", 30)), TokensPerSecond = 20 });
        fake.Enqueue(new FakeReply { Text = "Answer to the queued one." });
        fake.Enqueue(new FakeReply { Text = string.Join(' ', Enumerable.Repeat("rambling", 400)), TokensPerSecond = 20 });
        fake.Enqueue(new FakeReply { Text = "Stopped; what now?" });
        var flow = await workspace.CreateFlowAsync([SessionStep()]);
        var runId = (string)(await workspace.StartAsync(flow, new { prompt = "Think aloud." }, wait: null))["id"]!;
        await workspace.WaitForRunAsync(runId, r => RunApi.StepStatus(r, "chat") == "running");

        await (await SendAsync(workspace, runId, new { content = "Too soon", ifBusy = "reject" })).ShouldBeProblemAsync(HttpStatusCode.Conflict);
        await (await SendAsync(workspace, runId, new { content = "Queued question" })).ShouldBeAsync(HttpStatusCode.Created);

        // The queued prompt is answered right after the first answer, without being sent again.
        var idle = await WaitForIdleAsync(workspace, runId, answers: 2);
        idle["messages"]!.AsArray().Where(m => (string)m!["role"]! == "user").Select(m => (string)m!["text"]!).ShouldBe(["Think aloud.", "Queued question"]);
        fake.Requests[1].Body["messages"]!.AsArray().Last()!["content"]!.GetValue<string>().ShouldBe("Queued question");

        await (await SendAsync(workspace, runId, new { content = "Ramble on" })).ShouldBeAsync(HttpStatusCode.Created);
        await Eventually.HoldsAsync(() => fake.Requests.Count == 3, "the rambling answer is being streamed");
        await (await SendAsync(workspace, runId, new { content = "Stop!", ifBusy = "interrupt" })).ShouldBeAsync(HttpStatusCode.Created);

        await fake.WaitForClientDisconnectAsync(TimeSpan.FromSeconds(30));
        var after = await WaitForIdleAsync(workspace, runId, answers: 4);
        var asked = fake.Requests[3].Body["messages"]!.AsArray();
        ((string)asked[^1]!["content"]!).ShouldBe("Stop!");
        ((string)asked[^2]!["role"]!).ShouldBe("assistant");
        ((string)asked[^2]!["content"]!).ShouldEndWith("[interrupted]");
        ((string)after["messages"]!.AsArray().Last()!["text"]!).ShouldBe("Stopped; what now?");
        fake.Requests.Count.ShouldBe(4);
    }

    [Fact]
    public async Task Halt_StopsTheTurn_AndResumeCarriesOnTheConversation()
    {
        var (workspace, fake) = await SetUpAsync(DatabaseKind.Sqlite);
        await using var _ = fake;
        fake.Enqueue(new FakeReply { Text = "First answer." });
        fake.Enqueue(new FakeReply { Text = string.Join(' ', Enumerable.Repeat("slowly", 400)), TokensPerSecond = 20 });
        fake.Enqueue(new FakeReply { Text = "Second answer, after the halt." });
        var flow = await workspace.CreateFlowAsync([SessionStep()]);
        var runId = (string)(await workspace.StartAsync(flow, new { prompt = "One" }, wait: null))["id"]!;
        await WaitForIdleAsync(workspace, runId, answers: 1);
        await (await SendAsync(workspace, runId, new { content = "Two" })).ShouldBeAsync(HttpStatusCode.Created);
        await Eventually.HoldsAsync(() => fake.Requests.Count == 2, "the second answer is being streamed");

        await (await workspace.Owner.PostAsync(workspace.Runs($"/{runId}/halt"), null)).ShouldBeAsync(HttpStatusCode.OK);
        await fake.WaitForClientDisconnectAsync(TimeSpan.FromSeconds(30));
        await workspace.WaitForRunAsync(runId, r => (string)r["status"]! == "halted" && RunApi.StepStatus(r, "chat") == "pending");
        (await SendAsync(workspace, runId, new { content = "Three" })).StatusCode.ShouldBe(HttpStatusCode.Conflict);
        await (await workspace.Owner.PostAsync(workspace.Runs($"/{runId}/resume"), null)).ShouldBeAsync(HttpStatusCode.OK);

        var idle = await WaitForIdleAsync(workspace, runId, answers: 2);
        fake.Requests[2].Body["messages"]!.AsArray().Select(m => (string)m!["content"]!).ShouldBe(["One", "First answer.", "Two"]);
        ((string)idle["messages"]!.AsArray().Last()!["text"]!).ShouldBe("Second answer, after the halt.");
    }

    [Theory, AllDatabases]
    public async Task InfiniteSession_SummarisesOlderTurns_WhenTheContextFillsUp(DatabaseKind db)
    {
        var (workspace, fake) = await SetUpAsync(db);
        await using var _ = fake;
        fake.Enqueue(new FakeReply { Text = "Hello Ada." });
        fake.Enqueue(new FakeReply { Text = "Blue it is.", InputTokens = 5000 });
        fake.Enqueue(new FakeReply { Text = "Ada likes blue." });
        fake.Enqueue(new FakeReply { Text = "You like blue, Ada." });
        var flow = await workspace.CreateFlowAsync([SessionStep(new { infiniteSession = true, contextTokens = 4000, instructions = "You are a concierge." })]);
        var runId = (string)(await workspace.StartAsync(flow, new { prompt = "I am Ada." }, wait: null))["id"]!;
        await WaitForIdleAsync(workspace, runId, answers: 1);
        await (await SendAsync(workspace, runId, new { content = "I like blue." })).ShouldBeAsync(HttpStatusCode.Created);
        await WaitForIdleAsync(workspace, runId, answers: 2);

        await (await SendAsync(workspace, runId, new { content = "What do I like?" })).ShouldBeAsync(HttpStatusCode.Created);
        var idle = await WaitForIdleAsync(workspace, runId, answers: 3);

        fake.Requests.Count.ShouldBe(4);
        var summarising = fake.Requests[2].Body["messages"]!.AsArray();
        // The instructions (and any earlier summary) go with the turns being summarised.
        summarising.Select(m => (string)m!["content"]!).ShouldBe(["You are a concierge.", "I am Ada.", "Hello Ada.", summarising.Last()!["content"]!.GetValue<string>()]);
        ((string)summarising.Last()!["content"]!).ShouldStartWith("Summarise the conversation so far");
        var asked = fake.Requests[3].Body["messages"]!.AsArray();
        asked.Select(m => (string)m!["role"]!).ShouldBe(["system", "user", "assistant", "user"]);
        ((string)asked[0]!["content"]!).ShouldStartWith("You are a concierge.");
        ((string)asked[0]!["content"]!).ShouldEndWith("Ada likes blue.");
        asked.Skip(1).Select(m => (string)m!["content"]!).ShouldBe(["I like blue.", "Blue it is.", "What do I like?"]);
        // The conversation people see is whole; the summary is the model's working memory, billed as a call.
        idle["messages"]!.AsArray().Select(m => (string)m!["text"]!).ShouldBe(["I am Ada.", "Hello Ada.", "I like blue.", "Blue it is.", "What do I like?", "You like blue, Ada."]);
        (await workspace.ListAllAsync(workspace.Runs($"/{runId}/events?type=usage"))).Count.ShouldBe(4);
        await (await SendAsync(workspace, runId, new { end = true })).ShouldBeAsync(HttpStatusCode.Created);
        var done = await workspace.WaitForRunAsync(runId);
        RunApi.Step(done, "chat")["output"]!["session"]!.ToJsonString().ShouldBe("""{"prompts":3,"endedBy":"request","summaries":1}""");
    }

    [Fact]
    public async Task AgentSessionWorkflows_MakeTheirAgentStepsSessions_UnlessAStepSaysOtherwise()
    {
        var (workspace, fake) = await SetUpAsync(DatabaseKind.Sqlite);
        await using var _ = fake;
        fake.Enqueue(new FakeReply { Text = "Hi." });
        fake.Enqueue(new FakeReply { Text = "One-off." });
        var step = SessionStep();
        step["input"]!.AsObject().Remove("session");
        var chat = await workspace.CreateFlowAsync([step], extra: new { subType = "agent_session" });
        var oneOff = SessionStep(new { session = false });
        var single = await workspace.CreateFlowAsync([oneOff], extra: new { subType = "agent_session" });

        var chatRun = (string)(await workspace.StartAsync(chat, new { prompt = "Hello" }, wait: null))["id"]!;
        await WaitForIdleAsync(workspace, chatRun, answers: 1);
        var singleRun = await workspace.StartAsync(single, new { prompt = "Just once" });

        ((string)singleRun["status"]!).ShouldBe("succeeded", singleRun.ToJsonString());
        await (await SendAsync(workspace, (string)singleRun["id"]!, new { content = "More?" })).ShouldBeProblemAsync(HttpStatusCode.Conflict);
        await (await SendAsync(workspace, chatRun, new { end = true })).ShouldBeAsync(HttpStatusCode.Created);
        ((string)(await workspace.WaitForRunAsync(chatRun))["status"]!).ShouldBe("succeeded");
    }

    [Fact]
    public async Task PromptSentBeforeTheAgentBegins_IsQueued_AndFollowsTheOpeningPrompt()
    {
        var (workspace, fake) = await SetUpAsync(DatabaseKind.Sqlite);
        await using var _ = fake;
        fake.Enqueue(new FakeReply { Text = "Hello." });
        fake.Enqueue(new FakeReply { Text = "Early bird answered." });
        var chat = SessionStep();
        chat["dependsOn"] = new JsonArray("pause");
        var flow = await workspace.CreateFlowAsync([new JsonObject
        {
            ["id"] = "pause", ["activity"] = new JsonObject { ["uniqueIdentifier"] = "sleep" }, ["input"] = new JsonObject { ["duration"] = "1s" },
        }, chat]);
        var runId = (string)(await workspace.StartAsync(flow, new { prompt = "Opening" }, wait: null))["id"]!;

        await (await SendAsync(workspace, runId, new { content = "Early" })).ShouldBeAsync(HttpStatusCode.Created);
        var idle = await WaitForIdleAsync(workspace, runId, answers: 2);

        idle["messages"]!.AsArray().Select(m => (string)m!["text"]!).ShouldBe(["Opening", "Early", "Hello.", "Early bird answered."]);
        fake.Requests[1].Body["messages"]!.AsArray().Select(m => (string)m!["content"]!).ShouldBe(["Opening", "Hello.", "Early"]);
    }

    [Fact]
    public async Task IdleSession_EndsAfterItsTimeout()
    {
        var (workspace, fake) = await SetUpAsync(DatabaseKind.Sqlite);
        await using var _ = fake;
        fake.Enqueue(new FakeReply { Text = "Anything else?" });
        var flow = await workspace.CreateFlowAsync([SessionStep(new { sessionTimeout = "1s" })]);
        var runId = (string)(await workspace.StartAsync(flow, new { prompt = "Hello" }, wait: null))["id"]!;

        var done = await workspace.WaitForRunAsync(runId);

        ((string)done["status"]!).ShouldBe("succeeded", done.ToJsonString());
        RunApi.Step(done, "chat")["output"]!["session"]!.ToJsonString().ShouldBe("""{"prompts":1,"endedBy":"timeout"}""", done.ToJsonString());
    }

    [Fact]
    public async Task Messages_BadInput_IsRefusedAndChangesNothing()
    {
        var (workspace, fake) = await SetUpAsync(DatabaseKind.Sqlite);
        await using var _ = fake;
        fake.Enqueue(new FakeReply { Text = "Ready." });
        var flow = await workspace.CreateFlowAsync([SessionStep()]);
        var runId = (string)(await workspace.StartAsync(flow, new { prompt = "Hello" }, wait: null))["id"]!;
        await WaitForIdleAsync(workspace, runId, answers: 1);
        var plain = await workspace.CreateFlowAsync([new { id = "nap", activity = new { uniqueIdentifier = "sleep" }, input = new { duration = "1m" } }]);
        var plainRun = (string)(await workspace.StartAsync(plain, wait: null))["id"]!;

        (await SendAsync(workspace, "run_nope", new { content = "hi" })).StatusCode.ShouldBe(HttpStatusCode.NotFound);
        (await (await SendAsync(workspace, plainRun, new { content = "hi" })).ShouldBeProblemAsync(HttpStatusCode.Conflict)).Detail!.ShouldContain("session: true");
        foreach (var body in new object[] { new { }, new { content = "" }, new { content = "hi", ifBusy = "shout" }, new { content = "hi", end = true }, new { content = new string('x', 100_001) } })
        {
            await (await SendAsync(workspace, runId, body)).ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity);
        }

        using var broken = new StringContent("{not json", System.Text.Encoding.UTF8, "application/json");
        await (await workspace.Owner.PostAsync(workspace.Runs($"/{runId}/messages"), broken)).ShouldBeProblemAsync(HttpStatusCode.BadRequest);
        var run = await workspace.GetRunAsync(runId);
        run["messages"]!.AsArray().Count.ShouldBe(2);
        RunApi.StepStatus(run, "chat").ShouldBe("waiting");
        var listed = await (await workspace.Owner.GetAsync(workspace.Runs($"/{runId}/messages"))).ReadAsync<JsonArray>();
        listed.Count.ShouldBe(2);
        (await workspace.Owner.GetAsync(workspace.Runs("/run_nope/messages"))).StatusCode.ShouldBe(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task KilledMidTurn_TheSessionCarriesOn_WithoutAskingFinishedTurnsAgain()
    {
        await using var fake = await FakeModelServer.StartAsync();
        fake.Enqueue(new FakeReply { Text = "Noted: blue." });
        fake.Enqueue(new FakeReply { Text = "too late", TimeToFirstToken = TimeSpan.FromMinutes(5) });
        fake.Enqueue(new FakeReply { Text = "Your colour is blue." });
        var directory = TestDirectories.Create("session-crash");
        var (environment, adminKey) = ModelServerProcess.Environment();
        var server = ServerProcess.Start(directory, environment);
        try
        {
            var (workspaceName, ownerKey) = await ModelServerProcess.CreateWorkspaceAsync(server, adminKey, fake, "sk-session-crash-key");
            using var owner = server.Client(ownerKey);
            var workflow = WorkflowApi.Body("chat");
            workflow["steps"] = new JsonArray(SessionStep());
            await (await owner.PostAsync($"/api/v1/workspaces/{workspaceName}/workflows", Api.JsonContent(workflow))).ShouldBeAsync(HttpStatusCode.Created);
            var runId = (string)(await (await owner.PostJsonAsync($"/api/v1/workspaces/{workspaceName}/workflows/chat/runs", new { prompt = "My colour is blue." })).ReadObjectAsync())["id"]!;
            var runPath = $"/api/v1/workspaces/{workspaceName}/runs/{runId}";
            (await ModelServerProcess.WaitForRunAsync(owner, runPath, r => (string)r["status"]! == "waiting"))["status"]!.GetValue<string>().ShouldBe("waiting");
            await (await owner.PostJsonAsync(runPath + "/messages", new { content = "What is my colour?" })).ShouldBeAsync(HttpStatusCode.Created);
            await Eventually.HoldsAsync(() => fake.Requests.Count == 2, "the second turn reached the provider");
            await server.KillAsync();
            server = ServerProcess.Start(directory, environment);
            await server.WaitUntilListeningAsync();
            using var again = server.Client(ownerKey);
            var idle = await ModelServerProcess.WaitForRunAsync(again, runPath,
                r => (string)r["status"]! == "waiting" && r["messages"]!.AsArray().Count(m => (string)m!["role"]! == "assistant") == 2);

            idle["messages"]!.AsArray().Select(m => (string)m!["text"]!).ShouldBe(["My colour is blue.", "Noted: blue.", "What is my colour?", "Your colour is blue."], idle.ToJsonString());
            // Turn 1 was asked once; turn 2 twice (the killed request, then the resumed one, with the whole history).
            fake.Requests.Count.ShouldBe(3);
            fake.Requests[2].Body["messages"]!.AsArray().Select(m => (string)m!["content"]!).ShouldBe(["My colour is blue.", "Noted: blue.", "What is my colour?"]);
            await (await again.PostJsonAsync(runPath + "/messages", new { end = true })).ShouldBeAsync(HttpStatusCode.Created);
            var done = await ModelServerProcess.WaitForRunAsync(again, runPath, r => (string)r["status"]! is "succeeded" or "failed");
            ((string)done["status"]!).ShouldBe("succeeded", done.ToJsonString());
            RunApi.Step(done, "chat")["output"]!["session"]!.ToJsonString().ShouldBe("""{"prompts":2,"endedBy":"request"}""");
        }
        finally
        {
            await server.DisposeAsync();
        }
    }
}
