using System.Net;
using System.Text.Json.Nodes;
using Cadre.Server.Tests.Infrastructure;
using Cadre.Server.Tests.Runs;
using Cadre.Storage;

namespace Cadre.Server.Tests.Llm;

public sealed class LlmStepTests
{
    private const string Key = "sk-fake-provider-key-0123456789";

    private static JsonObject LlmStep(object model, string prompt = "Say hello", object? extra = null)
    {
        var step = new JsonObject
        {
            ["id"] = "ask",
            ["activity"] = new JsonObject { ["uniqueIdentifier"] = "llm" },
            ["input"] = JsonNode.Parse(Api.Serialize(new { model, prompt })),
        };
        foreach (var (key, value) in extra is null ? [] : JsonNode.Parse(Api.Serialize(extra))!.AsObject())
        {
            step["input"]![key] = value?.DeepClone();
        }

        return step;
    }

    private static async Task<List<JsonObject>> EventsAsync(TestWorkspace workspace, JsonObject run, string type) =>
        await workspace.ListAllAsync(workspace.Runs($"/{run["id"]}/events?type={type}"));

    [Theory, AllDatabases]
    public async Task Mock_AnswersItsScript_StreamsIt_AndCountsTheUsage(DatabaseKind db)
    {
        var app = await EngineApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        var flow = await workspace.CreateFlowAsync([LlmStep(new { provider = "mock", model = "reply:Hello there, dear friend" }, prompt: "one two three")]);

        var run = await workspace.StartAsync(flow);

        ((string)run["status"]!).ShouldBe("succeeded", run.ToJsonString());
        var output = RunApi.Step(run, "ask")["output"]!;
        ((string)output["text"]!).ShouldBe("Hello there, dear friend");
        ((string)output["provider"]!).ShouldBe("mock");
        ((int)output["usage"]!["inputTokens"]!).ShouldBe(3);
        ((int)output["usage"]!["outputTokens"]!).ShouldBe(4);
        ((long)run["usage"]!["inputTokens"]!).ShouldBe(3);
        ((long)run["usage"]!["outputTokens"]!).ShouldBe(4);
        ((decimal)run["usage"]!["costUsd"]!).ShouldBe(0m);
        string.Concat((await EventsAsync(workspace, run, "message_delta")).Select(e => (string)e["data"]!["text"]!)).ShouldBe("Hello there, dear friend");
        ((string)(await EventsAsync(workspace, run, "message")).Single()["data"]!["text"]!).ShouldBe("Hello there, dear friend");
        ((string)(await EventsAsync(workspace, run, "usage")).Single()["data"]!["model"]!).ShouldBe("reply:Hello there, dear friend");
    }

    [Theory, AllDatabases]
    public async Task OpenAICompatible_StreamsThroughTheSdk_AndPricesTheUsage_WithoutShowingTheKey(DatabaseKind db)
    {
        var app = await EngineApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        await using var fake = await FakeModelServer.StartAsync();
        fake.Enqueue(new FakeReply { Text = "Streaming works fine", InputTokens = 12, OutputTokens = 5, CachedInputTokens = 2 });
        await (await workspace.Owner.PostJsonAsync($"/api/v1/workspaces/{workspace.Name}/providers", new
        {
            name = "fake-openai", kind = "openai", baseUrl = fake.OpenAIEndpoint.ToString(), apiKey = Key,
        })).ShouldBeAsync(HttpStatusCode.Created);
        var flow = await workspace.CreateFlowAsync([LlmStep(new { provider = "fake-openai", model = "gpt-4o" }, extra: new { system = "Be brief." })]);

        var run = await workspace.StartAsync(flow);

        ((string)run["status"]!).ShouldBe("succeeded", run.ToJsonString());
        ((string)RunApi.Step(run, "ask")["output"]!["text"]!).ShouldBe("Streaming works fine");
        // gpt-4o's list price: 10 fresh input tokens at $2.50, 2 cached at $1.25, 5 output at $10 per million.
        ((decimal)run["usage"]!["costUsd"]!).ShouldBe(0.0000775m);
        ((decimal)RunApi.Step(run, "ask")["output"]!["cost"]!).ShouldBe(0.0000775m);
        ((long)run["usage"]!["cachedInputTokens"]!).ShouldBe(2);
        // The list carries each run's usage too, so a table of runs shows their cost without reading each one.
        ((decimal)(await workspace.ListAllAsync(workspace.Runs(""))).Single()["usage"]!["costUsd"]!).ShouldBe(0.0000775m);
        var request = fake.Requests.Single();
        request.Api.ShouldBe("openai");
        request.Stream.ShouldBeTrue();
        request.Headers["Authorization"].ShouldBe($"Bearer {Key}");
        ((string)request.Body["messages"]![0]!["content"]!).ShouldBe("Be brief.");
        string.Concat((await EventsAsync(workspace, run, "message_delta")).Select(e => (string)e["data"]!["text"]!)).ShouldBe("Streaming works fine");
        var everything = await workspace.ListAllAsync(workspace.Runs($"/{run["id"]}/events"));
        everything.ShouldAllBe(e => !e.ToJsonString().Contains(Key));
        run.ToJsonString().ShouldNotContain(Key);
        app.Logs.Messages.ShouldAllBe(m => !m.Contains(Key));
    }

    [Theory, AllDatabases]
    public async Task Anthropic_StreamsThroughTheSdk_WithCachedTokens(DatabaseKind db)
    {
        var app = await EngineApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        await using var fake = await FakeModelServer.StartAsync();
        fake.Enqueue(new FakeReply { Text = "Claude says hi", InputTokens = 20, OutputTokens = 3, CachedInputTokens = 8 });
        await (await workspace.Owner.PostJsonAsync($"/api/v1/workspaces/{workspace.Name}/providers", new
        {
            name = "fake-anthropic", kind = "anthropic", baseUrl = fake.Address.ToString(), apiKey = Key,
        })).ShouldBeAsync(HttpStatusCode.Created);
        var flow = await workspace.CreateFlowAsync([LlmStep(new { provider = "fake-anthropic", model = "claude-sonnet-4-5" })]);

        var run = await workspace.StartAsync(flow);

        ((string)run["status"]!).ShouldBe("succeeded", run.ToJsonString());
        ((string)RunApi.Step(run, "ask")["output"]!["text"]!).ShouldBe("Claude says hi");
        fake.Requests.Single().Api.ShouldBe("anthropic");
        // The official SDK (13.x) sends the key as a bearer token.
        fake.Requests.Single().Headers["Authorization"].ShouldBe($"Bearer {Key}");
        ((long)run["usage"]!["outputTokens"]!).ShouldBe(3);
        ((long)run["usage"]!["cachedInputTokens"]!).ShouldBe(8);
        ((decimal)run["usage"]!["costUsd"]!).ShouldBeGreaterThan(0m);
    }

    [Fact]
    public async Task RateLimited_IsRetriedAfterRetryAfter_ThenSucceeds()
    {
        var app = await EngineApps.Get(DatabaseKind.Sqlite);
        var workspace = await app.CreateWorkspaceAsync();
        await using var fake = await FakeModelServer.StartAsync();
        fake.Enqueue(new FakeReply { Status = 429, RetryAfter = TimeSpan.Zero });
        fake.Enqueue(new FakeReply { Status = 503 });
        fake.Enqueue(new FakeReply { Text = "third time lucky" });
        await (await workspace.Owner.PostJsonAsync($"/api/v1/workspaces/{workspace.Name}/providers", new
        {
            name = "flaky", kind = "openai", baseUrl = fake.OpenAIEndpoint.ToString(), apiKey = Key, maxRetries = 2,
        })).ShouldBeAsync(HttpStatusCode.Created);
        var flow = await workspace.CreateFlowAsync([LlmStep(new { provider = "flaky", model = "gpt-4o-mini" })]);

        var run = await workspace.StartAsync(flow);

        ((string)run["status"]!).ShouldBe("succeeded", run.ToJsonString());
        ((string)RunApi.Step(run, "ask")["output"]!["text"]!).ShouldBe("third time lucky");
        fake.Requests.Count.ShouldBe(3);
    }

    [Fact]
    public async Task Halt_ClosesTheProvidersStream()
    {
        var app = await EngineApps.Get(DatabaseKind.Sqlite);
        var workspace = await app.CreateWorkspaceAsync();
        await using var fake = await FakeModelServer.StartAsync();
        fake.Enqueue(new FakeReply { Text = string.Join(' ', Enumerable.Repeat("slowly", 200)), TokensPerSecond = 10 });
        await (await workspace.Owner.PostJsonAsync($"/api/v1/workspaces/{workspace.Name}/providers", new
        {
            name = "slow", kind = "openai", baseUrl = fake.OpenAIEndpoint.ToString(), apiKey = Key,
        })).ShouldBeAsync(HttpStatusCode.Created);
        var flow = await workspace.CreateFlowAsync([LlmStep(new { provider = "slow", model = "gpt-4o" })]);
        var started = await workspace.StartAsync(flow, wait: null);
        var runId = (string)started["id"]!;
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while ((await EventsAsync(workspace, started, "message_delta")).Count == 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }

        await (await workspace.Owner.PostAsync(workspace.Runs($"/{runId}/halt"), null)).ShouldBeAsync(HttpStatusCode.OK);

        await fake.WaitForClientDisconnectAsync(TimeSpan.FromSeconds(30));
        var halted = await workspace.WaitForRunAsync(runId);
        ((string)halted["status"]!).ShouldBe("halted");
        fake.Completed.ShouldBe(0);
    }

    [Theory, AllDatabases]
    public async Task StructuredOutput_IsParsedAndChecked(DatabaseKind db)
    {
        var app = await EngineApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        var schema = new { type = "object", required = new[] { "score" }, properties = new { score = new { type = "number" } } };
        var good = await workspace.CreateFlowAsync([LlmStep(new { provider = "mock", model = """json:{"score": 0.9}""" }, extra: new { outputSchema = schema })]);
        var bad = await workspace.CreateFlowAsync([LlmStep(new { provider = "mock", model = """json:{"grade": "A"}""" }, extra: new { outputSchema = schema })],
            extra: new { defaults = new { retryPolicy = new { maximumAttempts = 1 } } });

        var parsed = await workspace.StartAsync(good);
        var refused = await workspace.StartAsync(bad);

        ((string)parsed["status"]!).ShouldBe("succeeded", parsed.ToJsonString());
        ((double)RunApi.Step(parsed, "ask")["output"]!["json"]!["score"]!).ShouldBe(0.9);
        ((string)refused["status"]!).ShouldBe("failed");
        ((string)RunApi.Step(refused, "ask")["error"]!["type"]!).ShouldBe("invalid_output");
    }

    [Theory, AllDatabases]
    public async Task Misconfigured_Steps_FailClearly_WithoutRetrying(DatabaseKind db)
    {
        var app = await EngineApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        var unknownProvider = await workspace.CreateFlowAsync([LlmStep(new { provider = "nowhere", model = "x" })]);
        await (await workspace.Owner.PostJsonAsync($"/api/v1/workspaces/{workspace.Name}/providers", new { name = "bare", kind = "openai" })).ShouldBeAsync(HttpStatusCode.Created);
        var noModel = await workspace.CreateFlowAsync([LlmStep(new { provider = "bare" })]);
        var badScript = await workspace.CreateFlowAsync([LlmStep(new { provider = "mock", model = "sing" })]);

        foreach (var (flow, type) in new[] { (unknownProvider, "provider_unavailable"), (noModel, "model_missing"), (badScript, "invalid_model") })
        {
            var run = await workspace.StartAsync(flow);
            ((string)run["status"]!).ShouldBe("failed", run.ToJsonString());
            var step = RunApi.Step(run, "ask");
            ((string)step["error"]!["type"]!).ShouldBe(type);
            ((int)step["attempts"]!).ShouldBe(1);
        }
    }
}
