using System.Net;
using System.Text.Json.Nodes;
using Cadre.Server.Tests.Infrastructure;
using Cadre.Server.Tests.Personas;
using Cadre.Server.Tests.Runs;
using Cadre.Storage;

namespace Cadre.Server.Tests.Llm;

public sealed class GuardrailTests
{
    private static string Guardrails(TestWorkspace workspace, string rest = "") => $"/api/v1/workspaces/{workspace.Name}/guardrails{rest}";

    private static JsonObject LlmStep(object input) => new()
    {
        ["id"] = "ask",
        ["activity"] = new JsonObject { ["uniqueIdentifier"] = "llm" },
        ["input"] = JsonNode.Parse(Api.Serialize(input)),
    };

    private static async Task CreateAsync(TestWorkspace workspace, object guardrail) =>
        await (await workspace.Owner.PostJsonAsync(Guardrails(workspace), guardrail)).ShouldBeAsync(HttpStatusCode.Created);

    [Theory, AllDatabases]
    public async Task Registry_IsManaged_WithItsUnhappyPaths(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        using var viewer = app.Client(await workspace.Owner.CreateKeyAsync(workspace.Name, "viewer"));

        var created = await workspace.Owner.PostJsonAsync(Guardrails(workspace), new { name = "no-pii", kind = "pii", action = "redact" });
        await created.ShouldBeAsync(HttpStatusCode.Created);
        var guardrail = await created.ReadObjectAsync();
        ((string)guardrail["stage"]!).ShouldBe("output");
        guardrail["config"]!["types"]!.AsArray().Select(t => (string)t!).ShouldBe(["email", "phone", "card"]);
        var patched = await workspace.Owner.PatchJsonAsync(Guardrails(workspace, "/no-pii"), new { stage = "both", config = new { types = new[] { "email" } } }, "\"1\"");
        await patched.ShouldBeAsync(HttpStatusCode.OK);
        ((string)(await patched.ReadObjectAsync())["stage"]!).ShouldBe("both");
        await (await workspace.Owner.PatchJsonAsync(Guardrails(workspace, "/no-pii"), new { action = "warn" }, "\"1\"")).ShouldBeProblemAsync(HttpStatusCode.PreconditionFailed);
        (await workspace.ListAllAsync(Guardrails(workspace))).Select(g => (string)g["name"]!).ShouldBe(["no-pii"]);

        await (await workspace.Owner.PostJsonAsync(Guardrails(workspace), new { name = "no-pii", kind = "pii" })).ShouldBeProblemAsync(HttpStatusCode.Conflict);
        (await (await workspace.Owner.PostJsonAsync(Guardrails(workspace), new { name = "Bad Name", kind = "telepathy", stage = "later" }))
            .ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity)).Errors!.Keys.Order().ShouldBe(["kind", "name", "stage"]);
        (await (await workspace.Owner.PostJsonAsync(Guardrails(workspace), new { name = "shape", kind = "require_pattern", action = "redact", config = new { pattern = "([" } }))
            .ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity)).Errors!.Keys.Order().ShouldBe(["action", "config.pattern"]);
        (await (await workspace.Owner.PostJsonAsync(Guardrails(workspace), new { name = "short", kind = "max_length" }))
            .ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity)).Errors!.Keys.ShouldBe(["config.max"]);
        (await (await workspace.Owner.PostJsonAsync(Guardrails(workspace), new { name = "judge", kind = "llm_judge", config = new { persona = "x" } }))
            .ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity)).Errors!.Keys.ShouldBe(["config.criteria"]);
        (await (await workspace.Owner.PatchJsonAsync(Guardrails(workspace, "/no-pii"), new { name = "renamed" }))
            .ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity)).Errors!.Keys.ShouldBe(["name"]);
        await (await viewer.PostJsonAsync(Guardrails(workspace), new { name = "mine", kind = "pii" })).ShouldBeProblemAsync(HttpStatusCode.Forbidden);
        await (await workspace.Owner.GetAsync(Guardrails(workspace, "/nope"))).ShouldBeProblemAsync(HttpStatusCode.NotFound);
        await (await workspace.Owner.PatchJsonAsync(Guardrails(workspace, "/nope"), new { action = "warn" })).ShouldBeProblemAsync(HttpStatusCode.NotFound);
        await (await workspace.Owner.DeleteAsync(Guardrails(workspace, "/nope"))).ShouldBeProblemAsync(HttpStatusCode.NotFound);
        await (await workspace.Owner.GetAsync(Guardrails(workspace, "?limit=0"))).ShouldBeProblemAsync(HttpStatusCode.BadRequest);

        await (await workspace.Owner.DeleteAsync(Guardrails(workspace, "/no-pii"))).ShouldBeAsync(HttpStatusCode.NoContent);
        (await workspace.ListAllAsync(Guardrails(workspace))).ShouldBeEmpty();
    }

    [Theory, AllDatabases]
    public async Task Output_PiiIsRedacted_BeforeAnythingIsShown(DatabaseKind db)
    {
        var app = await EngineApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        await CreateAsync(workspace, new { name = "no-pii", kind = "pii", action = "redact" });
        await workspace.CreatePersonaAsync("support", new
        {
            model = new { provider = "mock", model = "reply:Mail ada@example.com, call +44 20 7946 0958, pay with 4111 1111 1111 1111, order 1234567890123456 on 2026-11-24 10:30." },
            guardrails = new { references = new[] { "no-pii" } },
        });
        var flow = await workspace.CreateFlowAsync([LlmStep(new { persona = "support", prompt = "How do I reach you?" })]);

        var run = await workspace.StartAsync(flow);

        ((string)run["status"]!).ShouldBe("succeeded", run.ToJsonString());
        ((string)RunApi.Step(run, "ask")["output"]!["text"]!).ShouldBe("Mail [EMAIL], call [PHONE], pay with [CARD], order 1234567890123456 on 2026-11-24 10:30.");
        var events = await workspace.ListAllAsync(workspace.Runs($"/{run["id"]}/events"));
        // What the model said, wherever it is recorded (the mock's script, its model name, is not what it said).
        events.Where(e => (string)e["type"]! is "message" or "message_delta" or "log").ShouldNotContain(e => e.ToJsonString().Contains("ada@example.com"));
        ((string)events.Single(e => (string)e["type"]! == "message")["data"]!["text"]!).ShouldContain("[EMAIL]");
        events.ShouldNotContain(e => (string)e["type"]! == "message_delta");
        var finding = events.Single(e => e["data"]!["guardrail"] != null)["data"]!["guardrail"]!;
        ((string)finding["guardrail"]!).ShouldBe("no-pii");
        ((string)finding["action"]!).ShouldBe("redact");
    }

    [Fact]
    public async Task Input_IsBlockedBeforeTheModelSeesIt_AndAJudgeCanBlockOutput()
    {
        var app = await EngineApps.Get(DatabaseKind.Sqlite);
        var workspace = await app.CreateWorkspaceAsync();
        await using var fake = await FakeModelServer.StartAsync();
        await (await workspace.Owner.PostJsonAsync($"/api/v1/workspaces/{workspace.Name}/providers", new
        {
            name = "fake", kind = "openai", baseUrl = fake.OpenAIEndpoint.ToString(), apiKey = "sk-guardrail-test-key-0123456789",
        })).ShouldBeAsync(HttpStatusCode.Created);
        await CreateAsync(workspace, new { name = "no-keys", kind = "deny_pattern", stage = "input", config = new { pattern = "sk-[a-z0-9]{6,}" } });
        await CreateAsync(workspace, new { name = "polite", kind = "llm_judge", config = new { persona = "judge", criteria = "The text is polite." } });
        await workspace.CreatePersonaAsync("judge", new { model = new { provider = "mock", model = """json:{"pass": false, "reason": "It is rude."}""" } });
        var leaky = await workspace.CreateFlowAsync([LlmStep(new { model = new { provider = "fake", model = "gpt-4o" }, prompt = "My key is sk-abcdef123456", guardrails = new[] { "no-keys" } })]);
        var rude = await workspace.CreateFlowAsync([LlmStep(new { model = new { provider = "mock", model = "reply:Go away." }, prompt = "Hello", guardrails = new[] { "polite" } })]);
        var unknown = await workspace.CreateFlowAsync([LlmStep(new { model = new { provider = "mock", model = "echo" }, prompt = "Hello", guardrails = new[] { "missing" } })]);

        var blocked = await workspace.StartAsync(leaky);
        var judged = await workspace.StartAsync(rude);
        var misnamed = await workspace.StartAsync(unknown);

        ((string)blocked["status"]!).ShouldBe("failed");
        var error = RunApi.Step(blocked, "ask")["error"]!;
        ((string)error["type"]!).ShouldBe("guardrail_blocked");
        ((string)error["details"]!["stage"]!).ShouldBe("input");
        ((int)RunApi.Step(blocked, "ask")["attempts"]!).ShouldBe(1);
        fake.Requests.ShouldBeEmpty();
        ((string)judged["status"]!).ShouldBe("failed");
        ((string)RunApi.Step(judged, "ask")["error"]!["message"]!).ShouldContain("It is rude.");
        // The judge's own call is paid for and counted.
        (await workspace.ListAllAsync(workspace.Runs($"/{judged["id"]}/events?type=usage"))).Count.ShouldBe(2);
        ((string)RunApi.Step(misnamed, "ask")["error"]!["type"]!).ShouldBe("guardrail_not_found");
    }

    [Fact]
    public async Task PersonaRules_Warn_WithoutStoppingTheAgent()
    {
        var app = await EngineApps.Get(DatabaseKind.Sqlite);
        var workspace = await app.CreateWorkspaceAsync();
        await workspace.CreatePersonaAsync("brief", new
        {
            model = new { provider = "mock", model = "reply:This answer is rather longer than asked." },
            guardrails = new { rules = new[] { new { name = "short", kind = "max_output_chars", value = "10", action = "warn" } } },
        });
        var flow = await workspace.CreateFlowAsync([new JsonObject
        {
            ["id"] = "work", ["activity"] = new JsonObject { ["uniqueIdentifier"] = "agent" }, ["input"] = new JsonObject { ["persona"] = "brief", ["prompt"] = "Answer." },
        }]);

        var run = await workspace.StartAsync(flow);

        ((string)run["status"]!).ShouldBe("succeeded", run.ToJsonString());
        ((string)RunApi.Step(run, "work")["output"]!["text"]!).ShouldBe("This answer is rather longer than asked.");
        var warnings = await workspace.ListAllAsync(workspace.Runs($"/{run["id"]}/events?type=log"));
        ((string)warnings.Single(e => e["data"]!["guardrail"] != null)["data"]!["guardrail"]!["guardrail"]!).ShouldBe("short");
        // Warnings do not hold the answer back from the stream.
        (await workspace.ListAllAsync(workspace.Runs($"/{run["id"]}/events?type=message_delta"))).ShouldNotBeEmpty();
    }
}
