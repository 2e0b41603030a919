using System.Net;
using System.Text.Json.Nodes;
using Cadre.Server.Tests.Infrastructure;
using Cadre.Server.Tests.Runs;
using Cadre.Server.Tests.Workflows;
using Cadre.Storage;

namespace Cadre.Server.Tests.Llm;

/// <summary>Stdio MCP servers: declared by the operator, named by a workspace's skill, started per attempt with only the environment given.</summary>
public sealed class McpStdioTests
{
    /// <summary>The test server built beside this project (same configuration).</summary>
    private static string ServerDll()
    {
        // …/tests/Cadre.Server.Tests/bin/<Configuration>/net10.0/ → …/tests/Cadre.McpStdioServer/bin/<Configuration>/net10.0/
        var output = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var configuration = output.Parent!.Name;
        var tests = output.Parent.Parent!.Parent!.Parent!.FullName;
        var dll = Path.Combine(tests, "Cadre.McpStdioServer", "bin", configuration, output.Name, "Cadre.McpStdioServer.dll");
        File.Exists(dll).ShouldBeTrue(dll);
        return dll;
    }

    [Fact]
    public async Task OperatorsServer_IsStartedForTheAgent_WithOnlyTheEnvironmentItWasGiven()
    {
        // Set in this (Cadre's) process: the tool's process must not see it.
        Environment.SetEnvironmentVariable("CADRE_STDIO_LEAK_PROBE", "leaked");
        await using var app = await CadreApp.StartAsync(DatabaseKind.Sqlite, new Dictionary<string, string?>(EngineApps.Settings)
        {
            ["Cadre:Mcp:Servers:calc:Command"] = "dotnet",
            ["Cadre:Mcp:Servers:calc:Args:0"] = ServerDll(),
            ["Cadre:Mcp:Servers:calc:Environment:GREETING"] = "hello from the operator",
            ["Cadre:Mcp:Servers:private:Command"] = "dotnet",
            ["Cadre:Mcp:Servers:private:Workspaces:0"] = "some-other-workspace",
        });
        var workspace = await app.CreateWorkspaceAsync();
        var skills = $"/api/v1/workspaces/{workspace.Name}/skills";
        await using var fake = await FakeModelServer.StartAsync();
        await (await workspace.Owner.PostJsonAsync($"/api/v1/workspaces/{workspace.Name}/providers", new
        {
            name = "fake", kind = "openai", baseUrl = fake.OpenAIEndpoint.ToString(), apiKey = "sk-stdio-test-key",
        })).ShouldBeAsync(HttpStatusCode.Created);

        var refused = await (await workspace.Owner.PostJsonAsync(skills, new { name = "other", kind = "mcp", description = "x", config = new { server = "private" } }))
            .ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity);
        refused.Errors!["config.server"][0].ShouldContain("calc");
        (await (await workspace.Owner.PostJsonAsync(skills, new { name = "shell", kind = "mcp", description = "x", config = new { server = "calc", command = "sh" } }))
            .ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity)).Errors!.Keys.ShouldBe(["config.command"]);
        await (await workspace.Owner.PostJsonAsync(skills, new { name = "calc", kind = "mcp", description = "Arithmetic.", config = new { server = "calc" } }))
            .ShouldBeAsync(HttpStatusCode.Created);
        fake.Enqueue(new FakeReply
        {
            ToolCalls =
            [
                new FakeToolCall("call_m", "multiply", """{"a": 6, "b": 7}"""),
                new FakeToolCall("call_g", "read_variable", """{"name": "GREETING"}"""),
                new FakeToolCall("call_l", "read_variable", """{"name": "CADRE_STDIO_LEAK_PROBE"}"""),
            ],
        });
        fake.Enqueue(new FakeReply { Text = "42." });
        var flow = await workspace.CreateFlowAsync([new JsonObject
        {
            ["id"] = "work",
            ["activity"] = new JsonObject { ["uniqueIdentifier"] = "agent" },
            ["input"] = JsonNode.Parse(Api.Serialize(new { prompt = "What is 6 × 7?", skills = new[] { "calc" }, model = new { provider = "fake", model = "gpt-4o" } })),
        }]);

        var run = await workspace.StartAsync(flow, wait: "60s");

        ((string)run["status"]!).ShouldBe("succeeded", run.ToJsonString());
        fake.Requests[0].Body["tools"]!.AsArray().Select(t => (string)t!["function"]!["name"]!).Order().ShouldBe(["multiply", "read_variable"]);
        var results = fake.Requests[1].Body["messages"]!.AsArray().Where(m => (string)m!["role"]! == "tool").Select(m => (string)m!["content"]!).ToList();
        results[0].ShouldContain("42");
        results[1].ShouldContain("hello from the operator");
        results[2].ShouldContain("(unset)");
    }
}
