using System.Net;
using System.Text.Json.Nodes;
using Cadre.Server.Tests.Infrastructure;
using Cadre.Server.Tests.Runs;
using Cadre.Storage;
using System.ComponentModel;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using ModelContextProtocol.Server;

namespace Cadre.Server.Tests.Llm;

public sealed class SkillTests
{
    private const string SecretValue = "weather-secret-0123456789";

    private static string Skills(TestWorkspace workspace, string rest = "") => $"/api/v1/workspaces/{workspace.Name}/skills{rest}";

    private static object Weather(Uri sink) => new
    {
        name = "get_weather",
        kind = "http",
        description = "The weather in a city.",
        config = new
        {
            method = "GET",
            url = sink + "weather?city={{ args.city }}",
            headers = new Dictionary<string, string> { ["X-Units"] = "{{ args.units ?? 'metric' }}" },
            parameters = new { type = "object", required = new[] { "city" }, properties = new { city = new { type = "string" }, units = new { type = "string" } } },
        },
        auth = new { header = "X-Api-Key", value = SecretValue },
    };

    [Theory, AllDatabases]
    public async Task Registry_IsManaged_AndAuthNeverComesBack(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        using var viewer = app.Client(await workspace.Owner.CreateKeyAsync(workspace.Name, "viewer"));
        var sink = new Uri("https://weather.example.com/");

        var created = await workspace.Owner.PostJsonAsync(Skills(workspace), Weather(sink));
        await created.ShouldBeAsync(HttpStatusCode.Created);
        var body = await created.Content.ReadAsStringAsync();
        body.ShouldNotContain(SecretValue);
        ((string)JsonNode.Parse(body)!["authHeader"]!).ShouldBe("X-Api-Key");
        (await workspace.ListAllAsync(Skills(workspace))).Select(s => (string)s["name"]!).ShouldBe(["get_weather"]);
        var updated = await workspace.Owner.PatchJsonAsync(Skills(workspace, "/get_weather"), new { description = "Today's weather.", auth = new { value = "" } }, "\"1\"");
        await updated.ShouldBeAsync(HttpStatusCode.OK);
        (await updated.ReadObjectAsync())["authHeader"].ShouldBeNull();

        await (await workspace.Owner.PostJsonAsync(Skills(workspace), Weather(sink))).ShouldBeProblemAsync(HttpStatusCode.Conflict);
        (await (await workspace.Owner.PostJsonAsync(Skills(workspace), new { name = "http_request", kind = "grpc", description = "" }))
            .ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity)).Errors!.Keys.Order().ShouldBe(["config", "description", "kind", "name"]);
        (await (await workspace.Owner.PostJsonAsync(Skills(workspace), new
        {
            name = "broken", kind = "http", description = "x", config = new { method = "BREW", url = "{{ args.", parameters = new { type = "string" }, body = new { q = "{{ nope. }}" } },
        })).ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity)).Errors!.Keys.Order().ShouldBe(["config.body", "config.method", "config.parameters", "config.url"]);
        (await (await workspace.Owner.PatchJsonAsync(Skills(workspace, "/get_weather"), new { name = "weather" }))
            .ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity)).Errors!.Keys.ShouldBe(["name"]);
        await (await viewer.PostJsonAsync(Skills(workspace), new { name = "mine", kind = "http" })).ShouldBeProblemAsync(HttpStatusCode.Forbidden);
        await (await workspace.Owner.GetAsync(Skills(workspace, "/nope"))).ShouldBeProblemAsync(HttpStatusCode.NotFound);
        await (await workspace.Owner.PatchJsonAsync(Skills(workspace, "/nope"), new { description = "x" })).ShouldBeProblemAsync(HttpStatusCode.NotFound);
        await (await workspace.Owner.DeleteAsync(Skills(workspace, "/nope"))).ShouldBeProblemAsync(HttpStatusCode.NotFound);

        await (await workspace.Owner.DeleteAsync(Skills(workspace, "/get_weather"))).ShouldBeAsync(HttpStatusCode.NoContent);
        (await workspace.ListAllAsync(Skills(workspace))).ShouldBeEmpty();
    }

    [Fact]
    public async Task Agent_UsesTheToolsOfAnMcpServer()
    {
        var app = await EngineApps.Get(DatabaseKind.Sqlite);
        var workspace = await app.CreateWorkspaceAsync();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.Services.AddMcpServer().WithHttpTransport().WithTools<CalculatorTools>();
        await using var mcpServer = builder.Build();
        mcpServer.MapMcp("/mcp");
        await mcpServer.StartAsync();
        await using var fake = await FakeModelServer.StartAsync();
        await (await workspace.Owner.PostJsonAsync($"/api/v1/workspaces/{workspace.Name}/providers", new
        {
            name = "fake", kind = "openai", baseUrl = fake.OpenAIEndpoint.ToString(), apiKey = "sk-mcp-test-key-0123456789",
        })).ShouldBeAsync(HttpStatusCode.Created);
        await (await workspace.Owner.PostJsonAsync(Skills(workspace), new
        {
            name = "calculator", kind = "mcp", description = "Arithmetic.", config = new { url = mcpServer.Urls.First() + "/mcp" },
        })).ShouldBeAsync(HttpStatusCode.Created);
        (await (await workspace.Owner.PostJsonAsync(Skills(workspace), new { name = "shell", kind = "mcp", description = "x", config = new { url = "file:///bin/sh", command = "sh" } }))
            .ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity)).Errors!.Keys.Order().ShouldBe(["config.command", "config.url"]);
        fake.Enqueue(new FakeReply { ToolCalls = [new FakeToolCall("call_add", "add", """{"a": 2, "b": 3}""")] });
        fake.Enqueue(new FakeReply { Text = "It is 5." });
        var flow = await workspace.CreateFlowAsync([new JsonObject
        {
            ["id"] = "work",
            ["activity"] = new JsonObject { ["uniqueIdentifier"] = "agent" },
            ["input"] = JsonNode.Parse(Api.Serialize(new { prompt = "What is 2 + 3?", skills = new[] { "calculator" }, model = new { provider = "fake", model = "gpt-4o" } })),
        }]);

        var run = await workspace.StartAsync(flow);

        ((string)run["status"]!).ShouldBe("succeeded", run.ToJsonString());
        fake.Requests[0].Body["tools"]!.AsArray().Select(t => (string)t!["function"]!["name"]!).ShouldBe(["add"]);
        var result = (string)fake.Requests[1].Body["messages"]!.AsArray().Single(m => (string)m!["role"]! == "tool")!["content"]!;
        result.ShouldContain("5");
    }

    [Fact]
    public async Task WorkflowTags_SelectSkillsAndGuardrails()
    {
        var app = await EngineApps.Get(DatabaseKind.Sqlite);
        var workspace = await app.CreateWorkspaceAsync();
        await using var sink = await FakeHttpServer.StartAsync(context => context.Response.WriteAsJsonAsync(new { forecast = "storm" }));
        await using var fake = await FakeModelServer.StartAsync();
        await (await workspace.Owner.PostJsonAsync($"/api/v1/workspaces/{workspace.Name}/providers", new
        {
            name = "fake", kind = "openai", baseUrl = fake.OpenAIEndpoint.ToString(), apiKey = "sk-tags-test-key-0123456789",
        })).ShouldBeAsync(HttpStatusCode.Created);
        var weather = JsonNode.Parse(Api.Serialize(Weather(sink.Address)))!.AsObject();
        weather["tags"] = new JsonArray("weather", "outdoors");
        await (await workspace.Owner.PostAsync(Skills(workspace), Api.JsonContent(weather))).ShouldBeAsync(HttpStatusCode.Created);
        await (await workspace.Owner.PostJsonAsync($"/api/v1/workspaces/{workspace.Name}/guardrails", new { name = "calm", kind = "deny_topic", action = "warn", config = new { phrase = "storm" }, tags = new[] { "safety" } }))
            .ShouldBeAsync(HttpStatusCode.Created);
        (await (await workspace.Owner.PostJsonAsync(Skills(workspace), new { name = "tagged", kind = "http", description = "x", tags = new[] { "Not A Tag" } }))
            .ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity)).Errors!.Keys.ShouldContain("tags");
        fake.Enqueue(new FakeReply { ToolCalls = [new FakeToolCall("call_w", "get_weather", """{"city": "Oslo"}""")] });
        fake.Enqueue(new FakeReply { Text = "A storm is coming." });
        var flow = await workspace.CreateFlowAsync(
            [new JsonObject
            {
                ["id"] = "work",
                ["activity"] = new JsonObject { ["uniqueIdentifier"] = "agent" },
                ["input"] = JsonNode.Parse(Api.Serialize(new { prompt = "Weather in Oslo?", model = new { provider = "fake", model = "gpt-4o" } })),
            }],
            extra: new { skillTags = new[] { "weather" }, guardrailTags = new[] { "safety" } });

        var run = await workspace.StartAsync(flow);

        ((string)run["status"]!).ShouldBe("succeeded", run.ToJsonString());
        fake.Requests[0].Body["tools"]!.AsArray().Select(t => (string)t!["function"]!["name"]!).ShouldBe(["get_weather"]);
        var logs = await workspace.ListAllAsync(workspace.Runs($"/{run["id"]}/events?type=log"));
        logs.ShouldContain(e => e["data"]!["guardrail"] != null && (string)e["data"]!["guardrail"]!["guardrail"]! == "calm");
        var listed = await workspace.ListAllAsync(Skills(workspace));
        listed.Single()["tags"]!.AsArray().Select(t => (string)t!).ShouldBe(["outdoors", "weather"]);
    }

    [McpServerToolType]
    public sealed class CalculatorTools
    {
        [McpServerTool(Name = "add"), Description("Adds two whole numbers.")]
        public static int Add(int a, int b) => a + b;
    }

    [Theory, AllDatabases]
    public async Task Skills_InstallOnPersonasAndWorkflows_AsNewVersions(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        using var viewer = app.Client(await workspace.Owner.CreateKeyAsync(workspace.Name, "viewer"));
        var created = await (await workspace.Owner.PostJsonAsync(Skills(workspace), Weather(new Uri("https://weather.example.com/")))).ReadObjectAsync();
        var skillId = (string)created["id"]!;
        var flow = await workspace.CreateFlowAsync([new { id = "t", activity = new { uniqueIdentifier = "transform" }, input = new { } }]);
        await Personas.PersonaApi.CreatePersonaAsync(workspace, "helper");
        string Path(string kind, string owner, string skill) => $"/api/v1/workspaces/{workspace.Name}/{kind}/{owner}/skills/{skill}";

        var onWorkflow = await workspace.Owner.PostAsync(Path("workflows", flow, "get_weather"), null);
        await onWorkflow.ShouldBeAsync(HttpStatusCode.OK);
        var workflow = await onWorkflow.ReadObjectAsync();
        workflow["skillIds"]!.AsArray().Select(s => (string)s!).ShouldBe([skillId]);
        var version = (int)workflow["version"]!;
        var again = await (await workspace.Owner.PostAsync(Path("workflows", flow, skillId), null)).ReadObjectAsync();
        ((int)again["version"]!).ShouldBe(version);
        var withBuiltIn = await (await workspace.Owner.PostAsync(Path("workflows", flow, "current_time"), null)).ReadObjectAsync();
        withBuiltIn["skillIds"]!.AsArray().Select(s => (string)s!).ShouldBe([skillId, "current_time"]);
        var removed = await (await workspace.Owner.DeleteAsync(Path("workflows", flow, "get_weather"))).ReadObjectAsync();
        removed["skillIds"]!.AsArray().Select(s => (string)s!).ShouldBe(["current_time"]);

        var persona = await (await workspace.Owner.PostAsync(Path("personas", "helper", "get_weather"), null)).ReadObjectAsync();
        persona["skills"]!.AsArray().Select(s => (string)s!["ref"]!).ShouldBe([skillId]);
        ((int)persona["version"]!).ShouldBe(2);
        var bare = await (await workspace.Owner.DeleteAsync(Path("personas", "helper", skillId))).ReadObjectAsync();
        bare["skills"]!.AsArray().ShouldBeEmpty();

        await (await workspace.Owner.DeleteAsync(Path("personas", "helper", skillId))).ShouldBeProblemAsync(HttpStatusCode.NotFound);
        await (await workspace.Owner.PostAsync(Path("workflows", flow, "teleport"), null)).ShouldBeProblemAsync(HttpStatusCode.NotFound);
        await (await workspace.Owner.PostAsync(Path("workflows", "no-such-flow", "current_time"), null)).ShouldBeProblemAsync(HttpStatusCode.NotFound);
        await (await workspace.Owner.PostAsync(Path("personas", "nobody", "current_time"), null)).ShouldBeProblemAsync(HttpStatusCode.NotFound);
        await (await viewer.PostAsync(Path("personas", "helper", "current_time"), null)).ShouldBeProblemAsync(HttpStatusCode.Forbidden);
        ((JsonArray)(await Personas.PersonaApi.GetPersonaAsync(workspace, "helper"))["skills"]!).ShouldBeEmpty();
    }

    [Theory, AllDatabases]
    public async Task Agent_CallsARegistrySkill_WithItsAuthAndAKeyPerCall(DatabaseKind db)
    {
        var app = await EngineApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        var calls = new List<(string PathAndQuery, string Units, string Key, string Idempotency)>();
        await using var sink = await FakeHttpServer.StartAsync(async context =>
        {
            lock (calls)
            {
                calls.Add((context.Request.Path + context.Request.QueryString, context.Request.Headers["X-Units"].ToString(),
                    context.Request.Headers["X-Api-Key"].ToString(), context.Request.Headers["Idempotency-Key"].ToString()));
            }

            await context.Response.WriteAsJsonAsync(new { forecast = "sunny" });
        });
        await using var fake = await FakeModelServer.StartAsync();
        await (await workspace.Owner.PostJsonAsync($"/api/v1/workspaces/{workspace.Name}/providers", new
        {
            name = "fake", kind = "openai", baseUrl = fake.OpenAIEndpoint.ToString(), apiKey = "sk-skill-test-key-0123456789",
        })).ShouldBeAsync(HttpStatusCode.Created);
        await (await workspace.Owner.PostJsonAsync(Skills(workspace), Weather(sink.Address))).ShouldBeAsync(HttpStatusCode.Created);
        fake.Enqueue(new FakeReply { ToolCalls = [new FakeToolCall("call_bad", "get_weather", """{"units": "imperial"}"""), new FakeToolCall("call_ok", "get_weather", """{"city": "Paris"}""")] });
        fake.Enqueue(new FakeReply { Text = "Sunny in Paris." });
        var flow = await workspace.CreateFlowAsync([new JsonObject
        {
            ["id"] = "work",
            ["activity"] = new JsonObject { ["uniqueIdentifier"] = "agent" },
            ["input"] = JsonNode.Parse(Api.Serialize(new { prompt = "Weather in Paris?", skills = new[] { "get_weather" }, model = new { provider = "fake", model = "gpt-4o" } })),
        }]);

        var run = await workspace.StartAsync(flow);

        ((string)run["status"]!).ShouldBe("succeeded", run.ToJsonString());
        calls.ShouldBe([("/weather?city=Paris", "metric", SecretValue, $"{run["id"]}/work/1/call_ok")]);
        var tool = fake.Requests[0].Body["tools"]![0]!["function"]!;
        ((string)tool["name"]!).ShouldBe("get_weather");
        tool["parameters"]!["required"]!.AsArray().Select(r => (string)r!).ShouldBe(["city"]);
        var results = fake.Requests[1].Body["messages"]!.AsArray().Where(m => (string)m!["role"]! == "tool").Select(m => (string)m!["content"]!).ToList();
        results[0].ShouldContain("do not follow the tool's schema");
        results[1].ShouldContain("sunny");
        (await workspace.ListAllAsync(workspace.Runs($"/{run["id"]}/events"))).ShouldAllBe(e => !e.ToJsonString().Contains(SecretValue));
    }
}
