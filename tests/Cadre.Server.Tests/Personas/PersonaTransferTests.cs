using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Cadre.Storage;

namespace Cadre.Server.Tests.Personas;

/// <summary>Bulk operations, export and import.</summary>
public sealed class PersonaTransferTests
{
    private const string TrickyInstructions = "Line one, with a comma.\r\nLine \"two\" in quotes; and a semicolon.\n=SUM(A1) stays text. Ünïcödé ✓ {{ params.tone }}";

    private static object Rich(string name) => new
    {
        name,
        displayName = $"Rich {name}",
        description = "Has, every \"kind\" of field",
        avatarUrl = "https://example.com/avatar.png",
        color = "#abc",
        icon = "🧪",
        instructions = TrickyInstructions,
        examples = new object[] { new { input = "q, \"1\"", output = "a\n1" }, new { text = "plain" } },
        departments = new[] { "Research", "R&D" },
        tags = new[] { "lab", "beta" },
        parameters = new object[] { new { name = "tone", type = "enum", values = new[] { "dry", "warm" }, @default = "dry", description = "How to sound" } },
        model = new { provider = "anthropic", model = "claude-sonnet-4-5", temperature = 0.3, maxTokens = 1024, reasoningEffort = "medium", outputFormat = "json", outputSchema = new { type = "object" }, maxTurns = 7 },
        skills = new object[] { new { @ref = "web.search", config = new { depth = 2 } } },
        guardrails = new { references = new[] { "pii" }, rules = new object[] { new { name = "cap", kind = "max_output_chars", value = "2000" } } },
        memory = new { mode = "persistent", autoMemory = true, bypass = true },
        filter = new { confidenceThreshold = 0.25, issueSelectionStrategy = "round_robin" },
        scope = new { eventTypes = new[] { "lab.*" }, sources = new[] { "github" }, tags = new[] { "science" } },
        voice = new { id = "v1", name = "Nova", metadata = new { pitch = "low" } },
        flags = new[] { "experimental" },
        metadata = new { cost_center = 42, nested = new { ok = true } },
    };

    private static JsonObject Definition(JsonObject persona)
    {
        var copy = persona.DeepClone().AsObject();
        foreach (var identity in new[] { "id", "workspaceId", "version", "status", "warnings", "createdBy", "updatedBy", "createdAt", "updatedAt", "deletedAt", "deletedBy" })
        {
            copy.Remove(identity);
        }

        return copy;
    }

    [Theory, AllDatabases]
    public async Task BulkCreate_ValidItemsSucceed_InvalidOnesSayWhy(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        await workspace.CreatePersonaAsync("taken");

        var response = await workspace.Owner.PostAsync(workspace.Path("/bulk-create"), new StringContent("""
            {"items": [
              {"name": "alpha"},
              {"name": "Bad Name"},
              {"name": "taken"},
              null,
              {"name": "beta", "model": {"provider": "someday"}}
            ]}
            """, Encoding.UTF8, "application/json"));

        await response.ShouldBeAsync(HttpStatusCode.OK);
        var results = (await response.ReadObjectAsync())["results"]!.AsArray();
        results.Select(r => (int)r!["status"]!).ShouldBe([201, 422, 409, 422, 201]);
        results.Select(r => (int)r!["index"]!).ShouldBe([0, 1, 2, 3, 4]);
        ((string)results[0]!["id"]!).ShouldStartWith("per_");
        results[1]!["error"]!["errors"]!["name"].ShouldNotBeNull();
        ((string)results[2]!["error"]!["detail"]!).ShouldContain("taken");
        var names = PersonaApi.Names(await (await workspace.Owner.GetAsync(workspace.Path("?sort=name"))).ReadObjectAsync());
        names.ShouldBe(["alpha", "beta", "taken"]);
    }

    [Theory, AllDatabases]
    public async Task BulkUpdate_AppliesEachPatch_WithPerItemPreconditions(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        var one = await workspace.CreatePersonaAsync("one");
        await workspace.CreatePersonaAsync("two");

        var response = await workspace.Owner.PostJsonAsync(workspace.Path("/bulk-update"), new
        {
            items = new object[]
            {
                new { persona = (string)one["id"]!, expectedVersion = 1, changes = new { tags = new[] { "updated" } } },
                new { persona = "two", expectedVersion = 9, changes = new { tags = new[] { "lost" } } },
                new { persona = "missing", changes = new { tags = new[] { "x" } } },
                new { persona = "two", changes = new { model = new { temperature = 7 } } },
                new { persona = "two" },
            },
        });

        await response.ShouldBeAsync(HttpStatusCode.OK);
        var results = (await response.ReadObjectAsync())["results"]!.AsArray();
        results.Select(r => (int)r!["status"]!).ShouldBe([200, 412, 404, 422, 422]);
        results[3]!["error"]!["errors"]!["model.temperature"].ShouldNotBeNull();
        results[4]!["error"]!["errors"]!["changes"].ShouldNotBeNull();
        (await workspace.GetPersonaAsync("one"))["tags"]!.AsArray().Select(t => (string)t!).ShouldBe(["updated"]);
        ((int)(await workspace.GetPersonaAsync("two"))["version"]!).ShouldBe(1);
    }

    [Theory, AllDatabases]
    public async Task BulkDelete_MovesEachToTheBin_AndReportsMissingOnes(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        var keep = await workspace.CreatePersonaAsync("keep");
        var drop = await workspace.CreatePersonaAsync("drop");

        var response = await workspace.Owner.PostJsonAsync(workspace.Path("/bulk-delete"), new { items = new[] { (string)drop["id"]!, "nobody", "per_00000000000000000000000000" } });

        var results = (await response.ReadObjectAsync())["results"]!.AsArray();
        results.Select(r => (int)r!["status"]!).ShouldBe([200, 404, 404]);
        PersonaApi.Names(await (await workspace.Owner.GetAsync(workspace.Path())).ReadObjectAsync()).ShouldBe(["keep"]);
        PersonaApi.Names(await (await workspace.Owner.GetAsync(workspace.Path("?status=deleted"))).ReadObjectAsync()).ShouldBe(["drop"]);
        ((string)keep["status"]!).ShouldBe("active");
    }

    [Theory, AllDatabases]
    public async Task Bulk_EmptyOrOversizedLists_Return422(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();

        (await (await workspace.Owner.PostJsonAsync(workspace.Path("/bulk-create"), new { items = Array.Empty<object>() })).ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity)).Errors!.Keys.ShouldBe(["items"]);
        (await (await workspace.Owner.PostJsonAsync(workspace.Path("/bulk-delete"), new { })).ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity)).Errors!.Keys.ShouldBe(["items"]);
        var tooMany = Enumerable.Range(0, 501).Select(i => $"p{i}").ToArray();
        (await (await workspace.Owner.PostJsonAsync(workspace.Path("/bulk-delete"), new { items = tooMany })).ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity)).Errors!["items"][0].ShouldContain("500");
    }

    [Theory, AllDatabases]
    public async Task JsonExport_ImportsIntoAnotherWorkspace_Identically(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var source = await app.CreateWorkspaceAsync();
        var target = await app.CreateWorkspaceAsync();
        var original = await source.CreatePersonaAsync("rich", Rich("rich"));
        await source.CreatePersonaAsync("plain");

        var export = await source.Owner.GetAsync(source.Path("/export"));

        await export.ShouldBeAsync(HttpStatusCode.OK);
        export.Content.Headers.ContentDisposition!.FileName!.Trim('"').ShouldBe($"{source.Name}-personas.json");
        var document = await export.ReadObjectAsync();
        ((string)document["workspace"]!).ShouldBe(source.Name);
        document["personas"]!.AsArray().Select(p => (string)p!["name"]!).ShouldBe(["plain", "rich"]);

        var import = await target.Owner.PostAsync(target.Path("/import"), new StringContent(document.ToJsonString(), Encoding.UTF8, "application/json"));

        await import.ShouldBeAsync(HttpStatusCode.OK);
        var report = await import.ReadObjectAsync();
        ((int)report["summary"]!["create"]!).ShouldBe(2);
        var imported = await target.GetPersonaAsync("rich");
        ((string)imported["id"]!).ShouldNotBe((string)original["id"]!);
        ((int)imported["version"]!).ShouldBe(1);
        Definition(imported).ToJsonString().ShouldBe(Definition(original).ToJsonString());
    }

    [Theory, AllDatabases]
    public async Task CsvExport_HasStableColumnsAndRfc4180Quoting_AndRoundTrips(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var source = await app.CreateWorkspaceAsync();
        var target = await app.CreateWorkspaceAsync();
        var original = await source.CreatePersonaAsync("rich", Rich("rich"));
        var minimal = await source.CreatePersonaAsync("bare", new { });

        var export = await source.Owner.GetAsync(source.Path("/export?format=csv"));

        await export.ShouldBeAsync(HttpStatusCode.OK);
        export.Content.Headers.ContentType!.MediaType.ShouldBe("text/csv");
        var csv = await export.Content.ReadAsStringAsync();
        var header = csv[..csv.IndexOf("\r\n", StringComparison.Ordinal)];
        header.ShouldBe("id,name,displayName,description,avatarUrl,color,icon,instructions,examples,departments,tags,parameters,model.provider,model.model," +
            "model.temperature,model.maxTokens,model.reasoningEffort,model.outputFormat,model.outputSchema,model.maxTurns,skills,guardrails,memory.mode," +
            "memory.autoMemory,memory.bypass,filter.confidenceThreshold,filter.issueSelectionStrategy,scope.eventTypes,scope.sources,scope.tags,voice,flags," +
            "metadata,version,createdAt,updatedAt");
        csv.ShouldContain("\"Has, every \"\"kind\"\" of field\"");
        csv.ShouldContain("\"Line one, with a comma.\r\nLine \"\"two\"\" in quotes; and a semicolon.\n=SUM(A1) stays text.");
        csv.ShouldContain(",Research; R&D,lab; beta,");

        var import = await target.Owner.PostAsync(target.Path("/import"), new StringContent(csv, Encoding.UTF8, "text/csv"));

        await import.ShouldBeAsync(HttpStatusCode.OK);
        var report = await import.ReadObjectAsync();
        report["results"]!.AsArray().Select(r => (string)r!["action"]!).ShouldBe(["create", "create"]);
        Definition(await target.GetPersonaAsync("rich")).ToJsonString().ShouldBe(Definition(original).ToJsonString());
        Definition(await target.GetPersonaAsync("bare")).ToJsonString().ShouldBe(Definition(minimal).ToJsonString());
    }

    [Theory, AllDatabases]
    public async Task Export_TakesTheListFilters(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        await workspace.CreatePersonaAsync("tagged", new { tags = new[] { "ship" } });
        await workspace.CreatePersonaAsync("untagged");
        await workspace.CreatePersonaAsync("binned", new { tags = new[] { "ship" } });
        await (await workspace.Owner.DeleteAsync(workspace.Path("/binned"))).ShouldBeAsync(HttpStatusCode.OK);

        var json = await (await workspace.Owner.GetAsync(workspace.Path("/export?tag=ship"))).ReadObjectAsync();
        var csv = await (await workspace.Owner.GetAsync(workspace.Path("/export?format=csv&tag=ship"))).Content.ReadAsStringAsync();

        json["personas"]!.AsArray().Select(p => (string)p!["name"]!).ShouldBe(["tagged"]);
        csv.Split("\r\n", StringSplitOptions.RemoveEmptyEntries).Length.ShouldBe(2);
        (await (await workspace.Owner.GetAsync(workspace.Path("/export?q=nothing-matches"))).ReadObjectAsync())["personas"]!.AsArray().ShouldBeEmpty();
    }

    [Theory, AllDatabases]
    public async Task Import_DryRun_ReportsWithoutChanging_ThenUpsertApplies(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        await workspace.CreatePersonaAsync("same");
        await workspace.CreatePersonaAsync("changing");
        var items = new JsonArray(
            PersonaApi.Body("same"),
            PersonaApi.Body("changing", new { description = "New description", tags = new[] { "x" } }),
            PersonaApi.Body("brand-new"),
            PersonaApi.Body("Broken Name"));

        var dryRun = await workspace.Owner.PostAsync(workspace.Path("/import?mode=upsert&dryRun=true"), Api.JsonContent(items));

        await dryRun.ShouldBeAsync(HttpStatusCode.OK);
        var report = await dryRun.ReadObjectAsync();
        ((bool)report["dryRun"]!).ShouldBeTrue();
        var results = report["results"]!.AsArray();
        results.Select(r => (string)r!["action"]!).ShouldBe(["unchanged", "update", "create", "error"]);
        results[1]!["changes"]!.AsArray().Select(c => (string)c!["path"]!).ShouldBe(["description", "tags"], ignoreOrder: true);
        ((string)results[1]!["changes"]!.AsArray().Single(c => (string)c!["path"]! == "description")!["after"]!).ShouldBe("New description");
        ((int)results[3]!["status"]!).ShouldBe(422);
        report["summary"]!.ToJsonString().ShouldBe("""{"create":1,"update":1,"unchanged":1,"error":1}""");
        ((int)(await workspace.GetPersonaAsync("changing"))["version"]!).ShouldBe(1);
        await (await workspace.Owner.GetAsync(workspace.Path("/brand-new"))).ShouldBeProblemAsync(HttpStatusCode.NotFound);

        var applied = await workspace.Owner.PostAsync(workspace.Path("/import?mode=upsert"), Api.JsonContent(items));

        (await applied.ReadObjectAsync())["results"]!.AsArray().Select(r => (string)r!["action"]!).ShouldBe(["unchanged", "update", "create", "error"]);
        var changed = await workspace.GetPersonaAsync("changing");
        ((int)changed["version"]!).ShouldBe(2);
        ((string)changed["description"]!).ShouldBe("New description");
        ((int)(await workspace.GetPersonaAsync("same"))["version"]!).ShouldBe(1);
        await (await workspace.Owner.GetAsync(workspace.Path("/brand-new"))).ShouldBeAsync(HttpStatusCode.OK);
        var versions = await (await workspace.Owner.GetAsync(workspace.Path("/changing/versions"))).ReadObjectAsync();
        ((string)versions["results"]![0]!["change"]!).ShouldBe("imported");
    }

    [Theory, AllDatabases]
    public async Task Import_CreateOnly_RefusesExistingNames_AndRepeatsInTheFile(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        await workspace.CreatePersonaAsync("exists", new { description = "Original" });

        var response = await workspace.Owner.PostAsync(workspace.Path("/import"),
            Api.JsonContent(new JsonArray(PersonaApi.Body("exists"), PersonaApi.Body("fresh"), PersonaApi.Body("fresh"))));

        var results = (await response.ReadObjectAsync())["results"]!.AsArray();
        results.Select(r => (int)r!["status"]!).ShouldBe([409, 201, 409]);
        ((string)results[0]!["error"]!["detail"]!).ShouldContain("mode=upsert");
        ((string)(await workspace.GetPersonaAsync("exists"))["description"]!).ShouldBe("Original");
    }

    public static TheoryData<string, string> BadCsv() => new()
    {
        { "name,favouriteColour\r\nx,blue\r\n", "favouriteColour" },
        { "displayName\r\nNo name column\r\n", "name" },
        { "name,description\r\nok,\"unterminated\r\n", "CSV" },
        { "name,description\r\nok,one,two\r\n", "CSV" },
        { "", "header" },
    };

    [Theory]
    [MemberData(nameof(BadCsv))]
    public async Task Import_UnreadableCsv_Returns422_AndImportsNothing(string csv, string mentioned)
    {
        var app = await SharedApps.Get(DatabaseKind.Sqlite);
        var workspace = await app.CreateWorkspaceAsync();

        var response = await workspace.Owner.PostAsync(workspace.Path("/import"), new StringContent(csv, Encoding.UTF8, "text/csv"));

        var problem = await response.ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity);
        string.Join(" ", problem.Errors!.SelectMany(e => e.Value.Append(e.Key))).ShouldContain(mentioned);
        ((int)(await (await workspace.Owner.GetAsync(workspace.Path("?status=all"))).ReadObjectAsync())["count"]!).ShouldBe(0);
    }

    [Theory, AllDatabases]
    public async Task Import_CsvRowWithBadValues_FailsThatRowOnly(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        const string csv = "name,model.temperature,memory.autoMemory,parameters\r\ngood,0.5,true,\r\nhot,warm,true,\r\nflag,0.1,perhaps,\r\njson,0.1,false,\"[{\"\"name\"\":1}]\"\r\n";

        var response = await workspace.Owner.PostAsync(workspace.Path("/import"), new StringContent(csv, Encoding.UTF8, "text/csv"));

        await response.ShouldBeAsync(HttpStatusCode.OK);
        var results = (await response.ReadObjectAsync())["results"]!.AsArray();
        results.Select(r => (string)r!["action"]!).ShouldBe(["create", "error", "error", "error"]);
        results[1]!["error"]!["errors"]!["model.temperature"].ShouldNotBeNull();
        results[2]!["error"]!["errors"]!["memory.autoMemory"].ShouldNotBeNull();
        ((string)results[3]!["error"]!["errors"]!.AsObject().Single().Key).ShouldStartWith("parameters");
        ((double)(await workspace.GetPersonaAsync("good"))["model"]!["temperature"]!).ShouldBe(0.5);
    }

    [Theory, AllDatabases]
    public async Task Import_BadRequests_AreRefusedWhole(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();

        await (await workspace.Owner.PostAsync(workspace.Path("/import"), new StringContent("name\nx", Encoding.UTF8, "application/xml"))).ShouldBeProblemAsync(HttpStatusCode.UnsupportedMediaType);
        await (await workspace.Owner.PostAsync(workspace.Path("/import?mode=merge"), Api.JsonContent(new JsonArray()))).ShouldBeProblemAsync(HttpStatusCode.BadRequest);
        (await (await workspace.Owner.PostAsync(workspace.Path("/import"), Api.JsonContent(new { name = "not-a-list" }))).ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity)).Errors!.Keys.ShouldBe(["body"]);
        (await (await workspace.Owner.PostAsync(workspace.Path("/import"), new StringContent("[{", Encoding.UTF8, "application/json"))).ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity)).Errors!.Keys.ShouldBe(["body"]);
        var itemErrors = await workspace.Owner.PostAsync(workspace.Path("/import"), new StringContent("""[{"name": "ok-one"}, {"name": 5}, 7]""", Encoding.UTF8, "application/json"));
        (await itemErrors.ReadObjectAsync())["results"]!.AsArray().Select(r => (int)r!["status"]!).ShouldBe([201, 422, 422]);
    }

    [Theory, AllDatabases]
    public async Task Import_LargerThanTheJsonBodyLimit_IsAccepted(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        var items = new JsonArray(Enumerable.Range(0, 30).Select(i => (JsonNode)PersonaApi.Body($"big-{i:D2}", new { instructions = new string('w', 80_000) })).ToArray());
        var body = items.ToJsonString();
        body.Length.ShouldBeGreaterThan(2 * 1024 * 1024);

        var response = await workspace.Owner.PostAsync(workspace.Path("/import"), new StringContent(body, Encoding.UTF8, "application/json"));

        await response.ShouldBeAsync(HttpStatusCode.OK);
        ((int)(await response.ReadObjectAsync())["summary"]!["create"]!).ShouldBe(30);
        // Ordinary endpoints keep the 1 MiB limit. The client waits for the go-ahead, so it reads the
        // 413 instead of racing the server's close with the rest of its upload (a broken pipe).
        using var bulk = new HttpRequestMessage(HttpMethod.Post, workspace.Path("/bulk-create"))
        {
            Content = new StringContent($$"""{"items": {{body}}}""", Encoding.UTF8, "application/json"),
        };
        bulk.Headers.ExpectContinue = true;
        await (await workspace.Owner.SendAsync(bulk)).ShouldBeProblemAsync(HttpStatusCode.RequestEntityTooLarge);
    }
}
