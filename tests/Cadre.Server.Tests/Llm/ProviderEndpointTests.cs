using System.Net;
using System.Text.Json.Nodes;
using Cadre.Server.Tests.Infrastructure;
using Cadre.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace Cadre.Server.Tests.Llm;

public sealed class ProviderEndpointTests
{
    private const string Key = "sk-test-0123456789abcdefWXYZ";

    private static string Providers(TestWorkspace workspace, string rest = "") => $"/api/v1/workspaces/{workspace.Name}/providers{rest}";

    private static string Prices(TestWorkspace workspace, string rest = "") => $"/api/v1/workspaces/{workspace.Name}/prices{rest}";

    private static async Task<JsonArray> ReadArrayAsync(Task<HttpResponseMessage> request) =>
        JsonNode.Parse(await (await request).Content.ReadAsStringAsync())!.AsArray();

    [Theory, AllDatabases]
    public async Task Providers_AreManaged_AndTheirKeysNeverComeBack(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();

        var created = await workspace.Owner.PostJsonAsync(Providers(workspace), new
        {
            name = "local-llm", kind = "openai", baseUrl = "http://localhost:11434/v1", apiKey = Key, defaultModel = "llama3.1", timeout = "45s", maxRetries = 3,
        });

        await created.ShouldBeAsync(HttpStatusCode.Created);
        created.Headers.Location!.ToString().ShouldBe(Providers(workspace, "/local-llm"));
        var body = await created.Content.ReadAsStringAsync();
        body.ShouldNotContain(Key);
        var provider = JsonNode.Parse(body)!.AsObject();
        ((string)provider["scope"]!).ShouldBe("workspace");
        ((bool)provider["apiKeySet"]!).ShouldBeTrue();
        ((string)provider["apiKeyHint"]!).ShouldBe("WXYZ");
        ((string)provider["timeout"]!).ShouldBe("45s");
        ((int)provider["maxRetries"]!).ShouldBe(3);

        using (var scope = app.Services.CreateScope())
        {
            var stored = scope.ServiceProvider.GetRequiredService<CadreDbContext>().ModelProviders.Single(p => p.Id == (string)provider["id"]!);
            stored.ApiKeyProtected.ShouldNotBeNull();
            stored.ApiKeyProtected.ShouldNotContain(Key);
        }

        var listed = await (await workspace.Owner.GetAsync(Providers(workspace))).ReadObjectAsync();
        listed.ToJsonString().ShouldNotContain(Key);
        listed["results"]!.AsArray().Select(p => ((string)p!["name"]!, (string)p["scope"]!)).ShouldContain(("local-llm", "workspace"));
        // The mock is always there, for demos and tests, under its own name.
        listed["results"]!.AsArray().Select(p => ((string)p!["name"]!, (string)p["scope"]!)).ShouldContain(("mock", "instance"));

        var updated = await workspace.Owner.PatchJsonAsync(Providers(workspace, "/local-llm"), new { apiKey = "", defaultModel = "qwen2.5" }, "\"1\"");
        await updated.ShouldBeAsync(HttpStatusCode.OK);
        var changed = await updated.ReadObjectAsync();
        ((bool)changed["apiKeySet"]!).ShouldBeFalse();
        changed["apiKeyHint"].ShouldBeNull();
        ((string)changed["defaultModel"]!).ShouldBe("qwen2.5");
        ((string)changed["baseUrl"]!).ShouldBe("http://localhost:11434/v1");
        await (await workspace.Owner.PatchJsonAsync(Providers(workspace, "/local-llm"), new { maxRetries = 1 }, "\"1\"")).ShouldBeProblemAsync(HttpStatusCode.PreconditionFailed);

        await (await workspace.Owner.DeleteAsync(Providers(workspace, "/local-llm"))).ShouldBeAsync(HttpStatusCode.NoContent);
        await (await workspace.Owner.GetAsync(Providers(workspace, "/local-llm"))).ShouldBeProblemAsync(HttpStatusCode.NotFound);
    }

    [Theory, AllDatabases]
    public async Task Providers_UnhappyPaths(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        var other = await app.CreateWorkspaceAsync();
        using var editor = app.Client(await workspace.Owner.CreateKeyAsync(workspace.Name, "editor"));
        await (await workspace.Owner.PostJsonAsync(Providers(workspace), new { name = "acme", kind = "anthropic", apiKey = Key })).ShouldBeAsync(HttpStatusCode.Created);

        await (await workspace.Owner.PostJsonAsync(Providers(workspace), new { name = "acme", kind = "openai" })).ShouldBeProblemAsync(HttpStatusCode.Conflict);
        var invalid = await (await workspace.Owner.PostJsonAsync(Providers(workspace), new
        {
            name = "Not A Name", kind = "gemini", baseUrl = "ftp://example.com", timeout = "forever", maxRetries = 11, defaultModel = new string('m', 201),
        })).ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity);
        invalid.Errors!.Keys.Order().ShouldBe(["baseUrl", "defaultModel", "kind", "maxRetries", "name", "timeout"]);
        (await (await workspace.Owner.PostJsonAsync(Providers(workspace), new { name = "x", kind = "openai", baseUrl = "https://user:pw@example.com/v1" }))
            .ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity)).Errors!.Keys.ShouldBe(["baseUrl"]);
        (await (await workspace.Owner.PatchJsonAsync(Providers(workspace, "/acme"), new { name = "acme2", kind = "openai" }))
            .ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity)).Errors!.Keys.Order().ShouldBe(["kind", "name"]);
        await (await workspace.Owner.PatchJsonAsync(Providers(workspace, "/nope"), new { maxRetries = 1 })).ShouldBeProblemAsync(HttpStatusCode.NotFound);
        await (await workspace.Owner.PatchJsonAsync(Providers(workspace, "/mock"), new { maxRetries = 1 })).ShouldBeProblemAsync(HttpStatusCode.Conflict);
        await (await workspace.Owner.DeleteAsync(Providers(workspace, "/mock"))).ShouldBeProblemAsync(HttpStatusCode.Conflict);
        await (await workspace.Owner.DeleteAsync(Providers(workspace, "/nope"))).ShouldBeProblemAsync(HttpStatusCode.NotFound);
        // Keys are an admin's business.
        await (await editor.PostJsonAsync(Providers(workspace), new { name = "mine", kind = "openai" })).ShouldBeProblemAsync(HttpStatusCode.Forbidden);
        await (await editor.PatchJsonAsync(Providers(workspace, "/acme"), new { apiKey = "stolen-0123456789" })).ShouldBeProblemAsync(HttpStatusCode.Forbidden);
        await (await editor.GetAsync(Providers(workspace, "/acme"))).ShouldBeAsync(HttpStatusCode.OK);
        await (await other.Owner.GetAsync(Providers(workspace, "/acme"))).ShouldBeProblemAsync(HttpStatusCode.NotFound);
        await (await other.Owner.GetAsync(Providers(other, "/acme"))).ShouldBeProblemAsync(HttpStatusCode.NotFound);
        await (await workspace.Owner.GetAsync(Providers(workspace, "?limit=0"))).ShouldBeProblemAsync(HttpStatusCode.BadRequest);
        await (await workspace.Owner.PostAsync(Providers(workspace), Api.JsonContent(new { name = "late", kind = "openai", colour = "blue" }))).ShouldBeProblemAsync(HttpStatusCode.BadRequest);

        var unchanged = await (await workspace.Owner.GetAsync(Providers(workspace, "/acme"))).ReadObjectAsync();
        ((string)unchanged["kind"]!).ShouldBe("anthropic");
        ((int)unchanged["version"]!).ShouldBe(1);
    }

    [Fact]
    public async Task Test_AsksTheProviderForOneWord_AndReportsHowItWent()
    {
        var app = await Runs.EngineApps.Get(DatabaseKind.Sqlite);
        var workspace = await app.CreateWorkspaceAsync();
        using var viewer = app.Client(await workspace.Owner.CreateKeyAsync(workspace.Name, "viewer"));
        await using var fake = await FakeModelServer.StartAsync();
        await (await workspace.Owner.PostJsonAsync(Providers(workspace), new { name = "fake", kind = "openai", baseUrl = fake.OpenAIEndpoint.ToString(), apiKey = Key, defaultModel = "gpt-4o" }))
            .ShouldBeAsync(HttpStatusCode.Created);
        await (await workspace.Owner.PostJsonAsync(Providers(workspace), new { name = "nomodel", kind = "openai", baseUrl = fake.OpenAIEndpoint.ToString() })).ShouldBeAsync(HttpStatusCode.Created);
        fake.Enqueue(new FakeReply { Text = "OK" });
        fake.Enqueue(new FakeReply { Status = 401, Text = "Incorrect API key provided." });

        var passed = await workspace.Owner.PostAsync(Providers(workspace, "/fake/test"), null);
        var failed = await workspace.Owner.PostJsonAsync(Providers(workspace, "/fake/test"), new { model = "gpt-4o-mini" });

        await passed.ShouldBeAsync(HttpStatusCode.OK);
        var ok = await passed.ReadObjectAsync();
        ((bool)ok["ok"]!).ShouldBeTrue();
        ((string)ok["answer"]!).ShouldBe("OK");
        ((string)ok["model"]!).ShouldBe("gpt-4o");
        await failed.ShouldBeAsync(HttpStatusCode.OK);
        var refused = await failed.Content.ReadAsStringAsync();
        refused.ShouldNotContain(Key);
        ((bool)JsonNode.Parse(refused)!["ok"]!).ShouldBeFalse();
        ((string)JsonNode.Parse(refused)!["error"]!).ShouldContain("Incorrect API key");
        ((string)fake.Requests[1].Body["model"]!).ShouldBe("gpt-4o-mini");
        (await (await workspace.Owner.PostAsync(Providers(workspace, "/nomodel/test"), null)).ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity)).Errors!.Keys.ShouldBe(["model"]);
        await (await workspace.Owner.PostAsync(Providers(workspace, "/nowhere/test"), null)).ShouldBeProblemAsync(HttpStatusCode.NotFound);
        await (await viewer.PostAsync(Providers(workspace, "/fake/test"), null)).ShouldBeProblemAsync(HttpStatusCode.Forbidden);
        await (await workspace.Owner.PostAsync(Providers(workspace, "/fake/test"), Api.JsonContent(new { model = 5 }))).ShouldBeProblemAsync(HttpStatusCode.BadRequest);
        fake.Requests.Count.ShouldBe(2);
    }

    [Fact]
    public async Task InstanceProviders_ComeFromTheEnvironment_AndAWorkspaceMayOverrideThem()
    {
        await using var app = await CadreApp.StartAsync(DatabaseKind.Sqlite, new Dictionary<string, string?>
        {
            ["OPENAI_API_KEY"] = Key,
            ["OPENAI_BASE_URL"] = "http://127.0.0.1:9/v1",
            ["Cadre:Providers:ollama:Kind"] = "openai",
            ["Cadre:Providers:ollama:BaseUrl"] = "http://localhost:11434/v1",
            ["Cadre:Providers:ollama:Timeout"] = "5m",
        });
        var workspace = await app.CreateWorkspaceAsync();

        var listed = await (await workspace.Owner.GetAsync(Providers(workspace))).ReadObjectAsync();

        listed.ToJsonString().ShouldNotContain(Key);
        var byName = listed["results"]!.AsArray().ToDictionary(p => (string)p!["name"]!, p => p!.AsObject());
        byName.Keys.Order().ShouldBe(["mock", "ollama", "openai"]);
        ((string)byName["openai"]["scope"]!).ShouldBe("instance");
        ((bool)byName["openai"]["apiKeySet"]!).ShouldBeTrue();
        ((string)byName["openai"]["baseUrl"]!).ShouldBe("http://127.0.0.1:9/v1/");
        ((string)byName["ollama"]["timeout"]!).ShouldBe("300s");
        byName["ollama"]["id"].ShouldBeNull();

        await (await workspace.Owner.PostJsonAsync(Providers(workspace), new { name = "openai", kind = "openai", apiKey = "sk-workspace-own-key-1234" })).ShouldBeAsync(HttpStatusCode.Created);
        var own = await (await workspace.Owner.GetAsync(Providers(workspace, "/openai"))).ReadObjectAsync();
        ((string)own["scope"]!).ShouldBe("workspace");
        ((string)own["apiKeyHint"]!).ShouldBe("1234");
        app.Logs.Messages.ShouldAllBe(m => !m.Contains(Key));
    }

    [Theory, AllDatabases]
    public async Task Prices_AreTheListPrices_WithTheWorkspacesOwnOverThem(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();

        var builtIn = await ReadArrayAsync(workspace.Owner.GetAsync(Prices(workspace)));
        var gpt4o = builtIn.Single(p => (string)p!["model"]! == "gpt-4o")!;
        ((decimal)gpt4o["input"]!).ShouldBe(2.5m);
        ((string)gpt4o["source"]!).ShouldBe("builtin");

        var set = await workspace.Owner.PutAsync(Prices(workspace, "/openai/gpt-4o"), Api.JsonContent(new { input = 2.25m, output = 9.5m }));
        await set.ShouldBeAsync(HttpStatusCode.OK);
        var price = await set.ReadObjectAsync();
        ((string)price["model"]!).ShouldBe("openai/gpt-4o");
        ((decimal)price["cachedInput"]!).ShouldBe(2.25m);
        ((string)price["source"]!).ShouldBe("workspace");
        await (await workspace.Owner.PutAsync(Prices(workspace, "/gpt-4o"), Api.JsonContent(new { input = 2m, output = 8m, cachedInput = 0.5m }))).ShouldBeAsync(HttpStatusCode.OK);

        var listed = await ReadArrayAsync(workspace.Owner.GetAsync(Prices(workspace)));
        var own = listed.Single(p => (string)p!["model"]! == "gpt-4o")!;
        ((decimal)own["input"]!).ShouldBe(2m);
        ((string)own["source"]!).ShouldBe("workspace");
        listed.ShouldContain(p => (string)p!["model"]! == "openai/gpt-4o");

        await (await workspace.Owner.DeleteAsync(Prices(workspace, "/gpt-4o"))).ShouldBeAsync(HttpStatusCode.NoContent);
        var restored = await ReadArrayAsync(workspace.Owner.GetAsync(Prices(workspace)));
        ((string)restored.Single(p => (string)p!["model"]! == "gpt-4o")!["source"]!).ShouldBe("builtin");
    }

    [Theory, AllDatabases]
    public async Task Prices_UnhappyPaths(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        using var editor = app.Client(await workspace.Owner.CreateKeyAsync(workspace.Name, "editor"));

        (await (await workspace.Owner.PutAsync(Prices(workspace, "/gpt-4o"), Api.JsonContent(new { input = -1m, output = 1.0000001m })))
            .ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity)).Errors!.Keys.Order().ShouldBe(["input", "output"]);
        (await (await workspace.Owner.PutAsync(Prices(workspace, "/gpt-4o"), Api.JsonContent(new { output = 1m })))
            .ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity)).Errors!.Keys.ShouldBe(["input"]);
        (await (await workspace.Owner.PutAsync(Prices(workspace, "/gpt-4o"), Api.JsonContent(new { input = 1m, output = 1m, cachedInput = 20000m })))
            .ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity)).Errors!.Keys.ShouldBe(["cachedInput"]);
        await (await workspace.Owner.PutAsync(Prices(workspace, "/gpt-4o"), Api.JsonContent(new { input = "cheap" }))).ShouldBeProblemAsync(HttpStatusCode.BadRequest);
        await (await editor.PutAsync(Prices(workspace, "/gpt-4o"), Api.JsonContent(new { input = 0m, output = 0m }))).ShouldBeProblemAsync(HttpStatusCode.Forbidden);
        await (await workspace.Owner.DeleteAsync(Prices(workspace, "/gpt-4o"))).ShouldBeProblemAsync(HttpStatusCode.NotFound);

        var unchanged = await ReadArrayAsync(workspace.Owner.GetAsync(Prices(workspace)));
        ((string)unchanged.Single(p => (string)p!["model"]! == "gpt-4o")!["source"]!).ShouldBe("builtin");
    }
}

