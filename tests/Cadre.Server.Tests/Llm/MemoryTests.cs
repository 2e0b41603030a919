using System.Net;
using System.Text.Json.Nodes;
using Cadre.Server.Tests.Infrastructure;
using Cadre.Server.Tests.Personas;
using Cadre.Server.Tests.Runs;
using Cadre.Storage;

namespace Cadre.Server.Tests.Llm;

public sealed class MemoryTests
{
    private static string Memory(TestWorkspace workspace, string persona, string rest = "") => $"/api/v1/workspaces/{workspace.Name}/personas/{persona}/memory{rest}";

    private static JsonObject AgentStep(object input) => new()
    {
        ["id"] = "work",
        ["activity"] = new JsonObject { ["uniqueIdentifier"] = "agent" },
        ["input"] = JsonNode.Parse(Api.Serialize(input)),
    };

    private static async Task<FakeModelServer> ConnectAsync(TestWorkspace workspace)
    {
        var fake = await FakeModelServer.StartAsync();
        await (await workspace.Owner.PostJsonAsync($"/api/v1/workspaces/{workspace.Name}/providers", new
        {
            name = "fake", kind = "openai", baseUrl = fake.OpenAIEndpoint.ToString(), apiKey = "sk-memory-test-key-0123456789",
        })).ShouldBeAsync(HttpStatusCode.Created);
        return fake;
    }

    private static string SystemPrompt(FakeModelRequest request) => (string?)request.Body["messages"]![0]!["content"] ?? "";

    [Theory, AllDatabases]
    public async Task Notes_AreManagedThroughTheApi(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        await workspace.CreatePersonaAsync("helper", new { memory = new { mode = "persistent" } });

        var created = await workspace.Owner.PostJsonAsync(Memory(workspace, "helper"), new { content = "  The customer prefers email.  " });
        await created.ShouldBeAsync(HttpStatusCode.Created);
        var note = await created.ReadObjectAsync();
        ((string)note["content"]!).ShouldBe("The customer prefers email.");
        ((string)note["source"]!).ShouldBe("person");
        await (await workspace.Owner.PostJsonAsync(Memory(workspace, "helper"), new { content = "Invoices go out on the 1st." })).ShouldBeAsync(HttpStatusCode.Created);
        var noteId = (string)note["id"]!;

        var updated = await workspace.Owner.PatchJsonAsync(Memory(workspace, "helper", $"/{noteId}"), new { content = "The customer prefers phone calls." });
        await updated.ShouldBeAsync(HttpStatusCode.OK);
        var listed = await workspace.ListAllAsync(Memory(workspace, "helper"));
        listed.Select(n => (string)n["content"]!).ShouldBe(["The customer prefers phone calls.", "Invoices go out on the 1st."]);

        await (await workspace.Owner.DeleteAsync(Memory(workspace, "helper", $"/{noteId}"))).ShouldBeAsync(HttpStatusCode.NoContent);
        (await workspace.ListAllAsync(Memory(workspace, "helper"))).Count.ShouldBe(1);
        await (await workspace.Owner.DeleteAsync(Memory(workspace, "helper"))).ShouldBeAsync(HttpStatusCode.NoContent);
        (await workspace.ListAllAsync(Memory(workspace, "helper"))).ShouldBeEmpty();
    }

    [Theory, AllDatabases]
    public async Task Notes_UnhappyPaths(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        using var viewer = app.Client(await workspace.Owner.CreateKeyAsync(workspace.Name, "viewer"));
        await workspace.CreatePersonaAsync("helper");

        await (await workspace.Owner.GetAsync(Memory(workspace, "nobody"))).ShouldBeProblemAsync(HttpStatusCode.NotFound);
        await (await workspace.Owner.PostJsonAsync(Memory(workspace, "nobody"), new { content = "x" })).ShouldBeProblemAsync(HttpStatusCode.NotFound);
        (await (await workspace.Owner.PostJsonAsync(Memory(workspace, "helper"), new { content = " " })).ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity)).Errors!.Keys.ShouldBe(["content"]);
        (await (await workspace.Owner.PostJsonAsync(Memory(workspace, "helper"), new { content = new string('x', 4001) })).ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity)).Errors!.Keys.ShouldBe(["content"]);
        await (await workspace.Owner.PostAsync(Memory(workspace, "helper"), Api.JsonContent(new { content = "x", pinned = true }))).ShouldBeProblemAsync(HttpStatusCode.BadRequest);
        await (await viewer.PostJsonAsync(Memory(workspace, "helper"), new { content = "x" })).ShouldBeProblemAsync(HttpStatusCode.Forbidden);
        await (await viewer.DeleteAsync(Memory(workspace, "helper"))).ShouldBeProblemAsync(HttpStatusCode.Forbidden);
        await (await workspace.Owner.PatchJsonAsync(Memory(workspace, "helper", "/mem_01jzzzzzzzzzzzzzzzzzzzzzzz"), new { content = "x" })).ShouldBeProblemAsync(HttpStatusCode.NotFound);
        await (await workspace.Owner.DeleteAsync(Memory(workspace, "helper", "/mem_01jzzzzzzzzzzzzzzzzzzzzzzz"))).ShouldBeProblemAsync(HttpStatusCode.NotFound);
        await (await workspace.Owner.GetAsync(Memory(workspace, "helper", "?limit=0"))).ShouldBeProblemAsync(HttpStatusCode.BadRequest);
        (await workspace.ListAllAsync(Memory(workspace, "helper"))).ShouldBeEmpty();
    }

    [Theory, AllDatabases]
    public async Task Agent_WritesNotes_AndRemembersThemInLaterRuns(DatabaseKind db)
    {
        var app = await EngineApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        await using var fake = await ConnectAsync(workspace);
        await workspace.CreatePersonaAsync("helper", new { instructions = "You help.", model = new { provider = "fake", model = "gpt-4o" }, memory = new { mode = "persistent" } });
        var flow = await workspace.CreateFlowAsync([AgentStep(new { persona = "helper", prompt = "{{ context.body.ask }}" })]);
        fake.Enqueue(new FakeReply { ToolCalls = [new FakeToolCall("call_m", "memory_write", """{"content": "Ada prefers email."}""")] });
        fake.Enqueue(new FakeReply { Text = "Noted, Ada." });
        fake.Enqueue(new FakeReply { Text = "I will email you." });

        var first = await workspace.StartAsync(flow, new { input = new { ask = "Please use email." } });
        var second = await workspace.StartAsync(flow, new { input = new { ask = "How will you reach me?" } });

        ((string)first["status"]!).ShouldBe("succeeded", first.ToJsonString());
        ((string)second["status"]!).ShouldBe("succeeded", second.ToJsonString());
        fake.Requests[0].Body["tools"]!.AsArray().Select(t => (string)t!["function"]!["name"]!).Order().ShouldBe(["memory_read", "memory_write"]);
        SystemPrompt(fake.Requests[0]).ShouldBe("You help.");
        SystemPrompt(fake.Requests[2]).ShouldContain("- Ada prefers email.");
        var notes = await workspace.ListAllAsync(Memory(workspace, "helper"));
        notes.Select(n => ((string)n["content"]!, (string)n["source"]!)).ShouldBe([("Ada prefers email.", "agent")]);
    }

    [Fact]
    public async Task AutoMemory_KeepsFacts_BypassIgnoresMemory_AndSessionNotesStayWithTheirRun()
    {
        var app = await EngineApps.Get(DatabaseKind.Sqlite);
        var workspace = await app.CreateWorkspaceAsync();
        await using var fake = await ConnectAsync(workspace);
        await workspace.CreatePersonaAsync("auto", new { instructions = "You help.", model = new { provider = "fake", model = "gpt-4o" }, memory = new { mode = "persistent", autoMemory = true } });
        await workspace.CreatePersonaAsync("session", new { instructions = "You chat.", model = new { provider = "fake", model = "gpt-4o" }, memory = new { mode = "session" } });
        var auto = await workspace.CreateFlowAsync([AgentStep(new { persona = "auto", prompt = "I am Ada and I like tea." })]);
        var bypassed = await workspace.CreateFlowAsync([AgentStep(new { persona = "auto", prompt = "Hello again.", bypassMemory = true })]);
        var session = await workspace.CreateFlowAsync([AgentStep(new { persona = "session", prompt = "Hi." })]);
        fake.Enqueue(new FakeReply { Text = "Nice to meet you, Ada." });
        fake.Enqueue(new FakeReply { Text = """{"facts": ["Ada likes tea."]}""" });
        fake.Enqueue(new FakeReply { Text = "Hello." });

        var remembered = await workspace.StartAsync(auto);
        var ignored = await workspace.StartAsync(bypassed);

        ((int)RunApi.Step(remembered, "work")["output"]!["remembered"]!).ShouldBe(1);
        (await workspace.ListAllAsync(Memory(workspace, "auto"))).Select(n => ((string)n["content"]!, (string)n["source"]!)).ShouldBe([("Ada likes tea.", "auto")]);
        // Two usage records for the remembering run: the answer and the list of facts.
        (await workspace.ListAllAsync(workspace.Runs($"/{remembered["id"]}/events?type=usage"))).Count.ShouldBe(2);
        ((string)ignored["status"]!).ShouldBe("succeeded");
        SystemPrompt(fake.Requests[2]).ShouldBe("You help.");
        fake.Requests[2].Body["tools"].ShouldBeNull();

        await (await workspace.Owner.PostJsonAsync(Memory(workspace, "session"), new { content = "A note for every run." })).ShouldBeAsync(HttpStatusCode.Created);
        fake.Enqueue(new FakeReply { Text = "Hi there." });
        await workspace.StartAsync(session);
        // Session memory is the run's own: the persona-wide note is not recalled.
        SystemPrompt(fake.Requests[3]).ShouldBe("You chat.");
    }
}
