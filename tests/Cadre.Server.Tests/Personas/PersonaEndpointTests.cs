using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Cadre.Storage;

namespace Cadre.Server.Tests.Personas;

public sealed class PersonaEndpointTests
{
    [Theory, AllDatabases]
    public async Task Create_FullPersona_Returns201WithEveryFieldAndDefaults(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();

        var response = await workspace.Owner.PostAsync(workspace.Path(), Api.JsonContent(PersonaApi.Body("billing", new
        {
            avatarUrl = "https://example.com/a.png",
            color = "#1f6feb",
            icon = "💳",
            instructions = "You help {{ params.customer }} in {{ params.tone }} tone.",
            examples = new object[] { new { input = "Where is my invoice?", output = "In Billing → Invoices." }, new { text = "Always cite the plan." } },
            departments = new[] { "Support", "Finance" },
            tags = new[] { "billing", "tier-1" },
            parameters = new object[]
            {
                new { name = "customer", type = "string", required = true },
                new { name = "tone", type = "enum", values = new[] { "friendly", "formal" }, @default = "friendly" },
            },
            model = new { provider = "openai", model = "gpt-4o-mini", temperature = 0.2, maxTokens = 800, reasoningEffort = "low", outputFormat = "json", outputSchema = new { type = "object", properties = new { answer = new { type = "string" } } }, maxTurns = 5 },
            skills = new object[] { new { @ref = "crm.lookup", config = new { region = "eu" } } },
            guardrails = new { references = new[] { "pii" }, rules = new object[] { new { name = "no-cards", kind = "deny_pattern", value = "\\d{16}" } } },
            memory = new { mode = "session", autoMemory = true },
            filter = new { confidenceThreshold = 0.7, issueSelectionStrategy = "first_match" },
            scope = new { eventTypes = new[] { "ticket.*" }, sources = new[] { "zendesk" }, tags = new[] { "billing" } },
            voice = new { id = "alloy", name = "Alloy", metadata = new { speed = 1.1 } },
            flags = new[] { "experimental" },
            metadata = new { owner = "team-billing" },
        })));

        await response.ShouldBeAsync(HttpStatusCode.Created);
        response.Headers.ETag!.Tag.ShouldBe("\"1\"");
        var body = await response.ReadObjectAsync();
        var id = (string)body["id"]!;
        id.ShouldStartWith("per_");
        response.Headers.Location!.ToString().ShouldBe(workspace.Path($"/{id}"));
        ((string)body["workspaceId"]!).ShouldBe(workspace.Id);
        ((int)body["version"]!).ShouldBe(1);
        ((string)body["status"]!).ShouldBe("active");
        body["warnings"]!.AsArray().Count.ShouldBe(0);
        ((string)body["createdBy"]!["kind"]!).ShouldBe("service_account");
        ((string)body["createdBy"]!["name"]!).ShouldNotBeNullOrEmpty();
        ((string)body["parameters"]![1]!["default"]!).ShouldBe("friendly");
        ((bool)body["parameters"]![1]!["required"]!).ShouldBeFalse();
        ((string)body["model"]!["outputSchema"]!["type"]!).ShouldBe("object");
        ((string)body["skills"]![0]!["config"]!["region"]!).ShouldBe("eu");
        ((string)body["memory"]!["mode"]!).ShouldBe("session");
        ((bool)body["memory"]!["bypass"]!).ShouldBeFalse();
        ((string)body["filter"]!["issueSelectionStrategy"]!).ShouldBe("first_match");
        ((string)body["voice"]!["metadata"]!["speed"]!.ToJsonString()).ShouldBe("1.1");
        ((string)body["metadata"]!["owner"]!).ShouldBe("team-billing");

        var fetched = await workspace.GetPersonaAsync(id);
        fetched.ToJsonString().ShouldBe(body.ToJsonString());
    }

    [Theory, AllDatabases]
    public async Task Create_MinimalPersona_FillsDefaults(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();

        var response = await workspace.Owner.PostJsonAsync(workspace.Path(), new { name = "minimal" });

        await response.ShouldBeAsync(HttpStatusCode.Created);
        var body = await response.ReadObjectAsync();
        ((string)body["displayName"]!).ShouldBe("minimal");
        ((string)body["instructions"]!).ShouldBe("");
        ((string)body["model"]!["outputFormat"]!).ShouldBe("text");
        ((int)body["model"]!["maxTurns"]!).ShouldBe(10);
        ((string)body["memory"]!["mode"]!).ShouldBe("none");
        ((double)body["filter"]!["confidenceThreshold"]!).ShouldBe(0.5);
        ((string)body["filter"]!["issueSelectionStrategy"]!).ShouldBe("highest_confidence");
        body["tags"]!.AsArray().Count.ShouldBe(0);
        body["metadata"]!.AsObject().Count.ShouldBe(0);
    }

    [Theory, AllDatabases]
    public async Task Create_UnknownProviderAndModel_AreAcceptedWithWarnings(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();

        var response = await workspace.Owner.PostJsonAsync(workspace.Path(), new { name = "local", model = new { provider = "my-gateway", model = "llama-9000" } });

        await response.ShouldBeAsync(HttpStatusCode.Created);
        var warnings = (await response.ReadObjectAsync())["warnings"]!.AsArray().Select(w => (string)w!).ToList();
        warnings.ShouldContain(w => w.StartsWith("model.provider:", StringComparison.Ordinal) && w.Contains("my-gateway", StringComparison.Ordinal));

        var knownProviderUnknownModel = await workspace.Owner.PostJsonAsync(workspace.Path(), new { name = "future", model = new { provider = "openai", model = "gpt-99" } });
        var modelWarnings = (await knownProviderUnknownModel.ReadObjectAsync())["warnings"]!.AsArray().Select(w => (string)w!).ToList();
        modelWarnings.ShouldHaveSingleItem().ShouldStartWith("model.model:");
    }

    public static TheoryData<string, string, string> InvalidFields() => new()
    {
        { """{"name": "Not A Slug"}""", "name", "" },
        { """{"name": "ab"}""", "name", "" },
        { """{"name": "drafts"}""", "name", "reserved" },
        { """{"name": "okname", "displayName": ""}""", "displayName", "" },
        { """{"name": "okname", "avatarUrl": "javascript:alert(1)"}""", "avatarUrl", "" },
        { """{"name": "okname", "color": "blue"}""", "color", "" },
        { """{"name": "okname", "instructions": "Hi {{ params.nope }}"}""", "instructions", "nope" },
        { """{"name": "okname", "instructions": "Hi {{ params.x "}""", "instructions", "" },
        { """{"name": "okname", "examples": [{"input": "only input"}]}""", "examples[0].output", "" },
        { """{"name": "okname", "tags": ["a;b"]}""", "tags[0]", "" },
        { """{"name": "okname", "parameters": [{"name": "1bad", "type": "string"}]}""", "parameters[0].name", "" },
        { """{"name": "okname", "parameters": [{"name": "x", "type": "date"}]}""", "parameters[0].type", "" },
        { """{"name": "okname", "parameters": [{"name": "x", "type": "enum", "values": ["a"], "default": "b"}]}""", "parameters[0].default", "" },
        { """{"name": "okname", "parameters": [{"name": "x", "type": "number", "default": "ten"}]}""", "parameters[0].default", "" },
        { """{"name": "okname", "parameters": [{"name": "x", "type": "string"}, {"name": "x", "type": "string"}]}""", "parameters[1].name", "already" },
        { """{"name": "okname", "model": {"temperature": 2.5}}""", "model.temperature", "" },
        { """{"name": "okname", "model": {"maxTokens": 0}}""", "model.maxTokens", "" },
        { """{"name": "okname", "model": {"reasoningEffort": "extreme"}}""", "model.reasoningEffort", "" },
        { """{"name": "okname", "model": {"outputFormat": "xml"}}""", "model.outputFormat", "" },
        { """{"name": "okname", "model": {"outputFormat": "json", "outputSchema": {"type": "objekt"}}}""", "model.outputSchema", "" },
        { """{"name": "okname", "model": {"outputFormat": "text", "outputSchema": {"type": "object"}}}""", "model.outputSchema", "json" },
        { """{"name": "okname", "model": {"maxTurns": 101}}""", "model.maxTurns", "" },
        { """{"name": "okname", "skills": [{"ref": ""}]}""", "skills[0].ref", "" },
        { """{"name": "okname", "guardrails": {"rules": [{"name": "r", "kind": "deny_pattern", "value": "("}]}}""", "guardrails.rules[0].value", "regular expression" },
        { """{"name": "okname", "memory": {"mode": "forever"}}""", "memory.mode", "" },
        { """{"name": "okname", "filter": {"confidenceThreshold": 1.5}}""", "filter.confidenceThreshold", "" },
        { """{"name": "okname", "filter": {"issueSelectionStrategy": "random"}}""", "filter.issueSelectionStrategy", "" },
        { """{"name": "okname", "scope": {"eventTypes": ["has space"]}}""", "scope.eventTypes[0]", "" },
        { """{"name": "okname", "flags": ["Not-Slug"]}""", "flags[0]", "" },
        { """{"name": "okname", "parameters": [null], "instructions": "{{ params.x }}"}""", "parameters[0]", "" },
        { """{"name": "okname", "examples": [null], "skills": [null], "guardrails": {"references": [null], "rules": [null]}, "tags": [null]}""", "examples[0]", "" },
        { """{"name": "okname", "model": {"provider": "Bad Provider!"}}""", "model.provider", "" },
    };

    [Theory]
    [MemberData(nameof(InvalidFields))]
    public async Task Create_InvalidField_Returns422NamingTheField_AndStoresNothing(string json, string field, string detail)
    {
        var app = await SharedApps.Get(DatabaseKind.Sqlite);
        var workspace = await app.CreateWorkspaceAsync();

        var response = await workspace.Owner.PostAsync(workspace.Path(), new StringContent(json, Encoding.UTF8, "application/json"));

        var problem = await response.ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity);
        problem.Errors!.Keys.ShouldContain(field, $"errors were {string.Join(", ", problem.Errors.Keys)}");
        string.Join(" ", problem.Errors[field]).ShouldContain(detail);
        var list = await (await workspace.Owner.GetAsync(workspace.Path("?status=all"))).ReadObjectAsync();
        ((int)list["count"]!).ShouldBe(0);
    }

    [Theory, AllDatabases]
    public async Task Create_OversizedInstructions_Returns422(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();

        var response = await workspace.Owner.PostJsonAsync(workspace.Path(), new { name = "wordy", instructions = new string('x', 100_001) });

        var problem = await response.ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity);
        problem.Errors!["instructions"].ShouldHaveSingleItem().ShouldContain("100000");
        await (await workspace.Owner.PostJsonAsync(workspace.Path(), new { name = "wordy", instructions = new string('x', 100_000) })).ShouldBeAsync(HttpStatusCode.Created);
    }

    [Theory, AllDatabases]
    public async Task Create_DuplicateName_Returns409_AndADeletedPersonaFreesItsName(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        var first = await workspace.CreatePersonaAsync("support");

        var duplicate = await workspace.Owner.PostAsync(workspace.Path(), Api.JsonContent(PersonaApi.Body("support")));

        (await duplicate.ShouldBeProblemAsync(HttpStatusCode.Conflict)).Detail!.ShouldContain("support");
        await (await workspace.Owner.DeleteAsync(workspace.Path("/support"))).ShouldBeAsync(HttpStatusCode.OK);
        var second = await workspace.CreatePersonaAsync("support");
        ((string)second["id"]!).ShouldNotBe((string)first["id"]!);
        var restore = await workspace.Owner.PostAsync(workspace.Path($"/{first["id"]}/restore"), null);
        (await restore.ShouldBeProblemAsync(HttpStatusCode.Conflict)).Detail!.ShouldContain("support");
    }

    [Theory, AllDatabases]
    public async Task Create_SameNameInAnotherWorkspace_IsAllowed_AndIdsDoNotCrossWorkspaces(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var mine = await app.CreateWorkspaceAsync();
        var theirs = await app.CreateWorkspaceAsync();
        var persona = await mine.CreatePersonaAsync("shared-name");
        await theirs.CreatePersonaAsync("shared-name");
        var id = (string)persona["id"]!;

        foreach (var request in new Func<HttpClient, Task<HttpResponseMessage>>[]
        {
            c => c.GetAsync(theirs.Path($"/{id}")),
            c => c.PatchJsonAsync(theirs.Path($"/{id}"), new { description = "hijacked" }),
            c => c.DeleteAsync(theirs.Path($"/{id}")),
            c => c.GetAsync(theirs.Path($"/{id}/versions")),
            c => c.GetAsync(theirs.Path($"/{id}/card")),
            c => c.PostJsonAsync(theirs.Path($"/{id}/preview"), new { }),
            c => c.PostJsonAsync(theirs.Path($"/{id}/duplicate"), new { }),
            c => c.PostAsync(theirs.Path($"/{id}/draft"), null),
        })
        {
            await (await request(theirs.Owner)).ShouldBeProblemAsync(HttpStatusCode.NotFound);
        }

        // Their key cannot reach my workspace at all.
        await (await theirs.Owner.GetAsync(mine.Path($"/{id}"))).ShouldBeProblemAsync(HttpStatusCode.NotFound);
        ((string?)(await mine.GetPersonaAsync(id))["description"]).ShouldBe("Answers customer questions about billing.");
    }

    [Theory, AllDatabases]
    public async Task Get_ByIdOrName_ReturnsThePersonaWithETag(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        var created = await workspace.CreatePersonaAsync("by-name");

        var byName = await workspace.Owner.GetAsync(workspace.Path("/by-name"));
        var byId = await workspace.Owner.GetAsync(workspace.Path($"/{created["id"]}"));

        await byName.ShouldBeAsync(HttpStatusCode.OK);
        byName.Headers.ETag!.Tag.ShouldBe("\"1\"");
        (await byName.ReadObjectAsync()).ToJsonString().ShouldBe((await byId.ReadObjectAsync()).ToJsonString());
        await (await workspace.Owner.GetAsync(workspace.Path("/no-such-persona"))).ShouldBeProblemAsync(HttpStatusCode.NotFound);
    }

    [Theory, AllDatabases]
    public async Task Patch_WithIfMatch_MergesAndBumpsVersion(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        await workspace.CreatePersonaAsync("patched", new { tags = new[] { "a", "b" }, metadata = new { keep = 1, drop = 2 } });

        var response = await workspace.Owner.PatchJsonAsync(workspace.Path("/patched"),
            new { description = "New words", tags = new[] { "c" }, metadata = new { drop = (int?)null }, model = new { temperature = 0.9 } }, "\"1\"");

        await response.ShouldBeAsync(HttpStatusCode.OK);
        response.Headers.ETag!.Tag.ShouldBe("\"2\"");
        var body = await response.ReadObjectAsync();
        ((int)body["version"]!).ShouldBe(2);
        ((string)body["description"]!).ShouldBe("New words");
        body["tags"]!.AsArray().Select(t => (string)t!).ShouldBe(["c"]);
        body["metadata"]!.AsObject().Select(p => p.Key).ShouldBe(["keep"]);
        ((double)body["model"]!["temperature"]!).ShouldBe(0.9);
        ((string)body["model"]!["model"]!).ShouldBe("gpt-4o-mini");
        ((string)body["displayName"]!).ShouldBe("The patched");
    }

    [Theory, AllDatabases]
    public async Task Patch_StaleIfMatch_Returns412_AndChangesNothing(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        await workspace.CreatePersonaAsync("contended");
        await (await workspace.Owner.PatchJsonAsync(workspace.Path("/contended"), new { description = "first edit" }, "\"1\"")).ShouldBeAsync(HttpStatusCode.OK);

        var stale = await workspace.Owner.PatchJsonAsync(workspace.Path("/contended"), new { description = "lost edit" }, "\"1\"");

        await stale.ShouldBeProblemAsync(HttpStatusCode.PreconditionFailed);
        var current = await workspace.GetPersonaAsync("contended");
        ((string)current["description"]!).ShouldBe("first edit");
        ((int)current["version"]!).ShouldBe(2);
    }

    [Theory, AllDatabases]
    public async Task ConcurrentWrites_OnOneVersion_ExactlyOneWins(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        await workspace.CreatePersonaAsync("raced");

        var patches = await Task.WhenAll(Enumerable.Range(0, 8).Select(i =>
            workspace.Owner.PatchJsonAsync(workspace.Path("/raced"), new { description = $"writer {i}" }, "\"1\"")));
        var creates = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ =>
            workspace.Owner.PostAsync(workspace.Path(), Api.JsonContent(PersonaApi.Body("same-name")))));

        patches.Count(r => r.StatusCode == HttpStatusCode.OK).ShouldBe(1);
        patches.Where(r => r.StatusCode != HttpStatusCode.OK).Select(r => r.StatusCode).ShouldAllBe(s => s == HttpStatusCode.PreconditionFailed);
        creates.Count(r => r.StatusCode == HttpStatusCode.Created).ShouldBe(1);
        creates.Where(r => r.StatusCode != HttpStatusCode.Created).Select(r => r.StatusCode).ShouldAllBe(s => s == HttpStatusCode.Conflict);
        var versions = await (await workspace.Owner.GetAsync(workspace.Path("/raced/versions"))).ReadObjectAsync();
        ((int)versions["count"]!).ShouldBe(2);
        ((int)(await workspace.GetPersonaAsync("raced"))["version"]!).ShouldBe(2);
        ((int)(await (await workspace.Owner.GetAsync(workspace.Path("?status=all&q=same"))).ReadObjectAsync())["count"]!).ShouldBe(1);
    }

    [Theory, AllDatabases]
    public async Task Patch_InvalidChange_Returns422_AndChangesNothing(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        await workspace.CreatePersonaAsync("guarded");

        var invalid = await workspace.Owner.PatchJsonAsync(workspace.Path("/guarded"), new { filter = new { confidenceThreshold = -1 }, name = "BAD" });

        var problem = await invalid.ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity);
        problem.Errors!.Keys.ShouldBe(["name", "filter.confidenceThreshold"], ignoreOrder: true);
        ((int)(await workspace.GetPersonaAsync("guarded"))["version"]!).ShouldBe(1);
    }

    [Theory]
    [InlineData("""{"description": "x", "description": "y"}""")]
    [InlineData("""{"displayName": "\uD800"}""")]
    [InlineData("""{"metadata": {"a": 1, "a": 2}}""")]
    [InlineData("""{"tags": ["\uDFFF"]}""")]
    [InlineData("""{"parameters": [{"name": "p", "type": "json", "default": {"k": 1, "k": 2}}]}""")]
    public async Task Patch_UnreadableJson_Returns400(string json)
    {
        var app = await SharedApps.Get(DatabaseKind.Sqlite);
        var workspace = await app.CreateWorkspaceAsync();
        await workspace.CreatePersonaAsync("strict");

        var response = await workspace.Owner.PatchAsync(workspace.Path("/strict"), new StringContent(json, Encoding.UTF8, "application/merge-patch+json"));

        await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest);
        ((int)(await workspace.GetPersonaAsync("strict"))["version"]!).ShouldBe(1);
    }

    [Theory, AllDatabases]
    public async Task Patch_RenameToTakenName_Returns409(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        await workspace.CreatePersonaAsync("first");
        await workspace.CreatePersonaAsync("second");

        var response = await workspace.Owner.PatchJsonAsync(workspace.Path("/second"), new { name = "first" });

        await response.ShouldBeProblemAsync(HttpStatusCode.Conflict);
        var renamed = await workspace.Owner.PatchJsonAsync(workspace.Path("/second"), new { name = "third" });
        await renamed.ShouldBeAsync(HttpStatusCode.OK);
        await (await workspace.Owner.GetAsync(workspace.Path("/third"))).ShouldBeAsync(HttpStatusCode.OK);
    }

    [Theory, AllDatabases]
    public async Task Patch_WithNoChange_KeepsTheVersion(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        await workspace.CreatePersonaAsync("steady");

        var response = await workspace.Owner.PatchJsonAsync(workspace.Path("/steady"), new { displayName = "The steady" });

        ((int)(await response.ReadObjectAsync())["version"]!).ShouldBe(1);
        var versions = await (await workspace.Owner.GetAsync(workspace.Path("/steady/versions"))).ReadObjectAsync();
        ((int)versions["count"]!).ShouldBe(1);
    }

    [Theory, AllDatabases]
    public async Task Delete_MovesToTheBin_RestoreBringsItBack(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        var created = await workspace.CreatePersonaAsync("binned");
        var id = (string)created["id"]!;

        var deleted = await workspace.Owner.DeleteAsync(workspace.Path("/binned"));

        await deleted.ShouldBeAsync(HttpStatusCode.OK);
        var body = await deleted.ReadObjectAsync();
        ((string)body["status"]!).ShouldBe("deleted");
        body["deletedAt"].ShouldNotBeNull();
        await (await workspace.Owner.GetAsync(workspace.Path("/binned"))).ShouldBeProblemAsync(HttpStatusCode.NotFound);
        ((string)(await workspace.GetPersonaAsync(id))["status"]!).ShouldBe("deleted");
        PersonaApi.Names(await (await workspace.Owner.GetAsync(workspace.Path())).ReadObjectAsync()).ShouldBeEmpty();
        PersonaApi.Names(await (await workspace.Owner.GetAsync(workspace.Path("?status=deleted"))).ReadObjectAsync()).ShouldBe(["binned"]);
        (await (await workspace.Owner.PatchJsonAsync(workspace.Path($"/{id}"), new { description = "x" })).ShouldBeProblemAsync(HttpStatusCode.Conflict)).Detail!.ShouldContain("restore");

        var restored = await workspace.Owner.PostAsync(workspace.Path($"/{id}/restore"), null);

        await restored.ShouldBeAsync(HttpStatusCode.OK);
        ((string)(await restored.ReadObjectAsync())["status"]!).ShouldBe("active");
        await (await workspace.Owner.GetAsync(workspace.Path("/binned"))).ShouldBeAsync(HttpStatusCode.OK);
        // Restoring what is not in the bin is a no-op, so a retried restore is harmless.
        var again = await workspace.Owner.PostAsync(workspace.Path($"/{id}/restore"), null);
        await again.ShouldBeAsync(HttpStatusCode.OK);
        ((int)(await again.ReadObjectAsync())["version"]!).ShouldBe(1);
    }

    [Theory, AllDatabases]
    public async Task Delete_StaleIfMatch_Returns412(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        await workspace.CreatePersonaAsync("kept");
        var request = new HttpRequestMessage(HttpMethod.Delete, workspace.Path("/kept"));
        request.Headers.IfMatch.Add(new EntityTagHeaderValue("\"7\""));

        await (await workspace.Owner.SendAsync(request)).ShouldBeProblemAsync(HttpStatusCode.PreconditionFailed);
        await (await workspace.Owner.GetAsync(workspace.Path("/kept"))).ShouldBeAsync(HttpStatusCode.OK);
    }

    [Theory, AllDatabases]
    public async Task PermanentDelete_NeedsAdmin_AndRemovesHistory(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        var created = await workspace.CreatePersonaAsync("doomed");
        var id = (string)created["id"]!;
        using var editor = app.Client(await workspace.Owner.CreateKeyAsync(workspace.Name, "editor"));

        var refused = await editor.DeleteAsync(workspace.Path($"/{id}?permanent=true"));

        (await refused.ShouldBeProblemAsync(HttpStatusCode.Forbidden)).Detail!.ShouldContain("admin");
        await (await workspace.Owner.DeleteAsync(workspace.Path($"/{id}?permanent=true"))).ShouldBeAsync(HttpStatusCode.NoContent);
        await (await workspace.Owner.GetAsync(workspace.Path($"/{id}"))).ShouldBeProblemAsync(HttpStatusCode.NotFound);
        await (await workspace.Owner.GetAsync(workspace.Path($"/{id}/versions"))).ShouldBeProblemAsync(HttpStatusCode.NotFound);
        await (await workspace.Owner.DeleteAsync(workspace.Path($"/{id}?permanent=true"))).ShouldBeProblemAsync(HttpStatusCode.NotFound);
    }

    [Theory, AllDatabases]
    public async Task Duplicate_PicksTheNextFreeCopyName(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        await workspace.CreatePersonaAsync("writer", new { tags = new[] { "docs" } });

        var first = await workspace.Owner.PostJsonAsync(workspace.Path("/writer/duplicate"), new { });
        var second = await workspace.Owner.PostJsonAsync(workspace.Path("/writer/duplicate"), new { });
        var named = await workspace.Owner.PostJsonAsync(workspace.Path("/writer/duplicate"), new { name = "editor-bot", displayName = "Editor" });

        await first.ShouldBeAsync(HttpStatusCode.Created);
        var copy = await first.ReadObjectAsync();
        ((string)copy["name"]!).ShouldBe("writer-copy");
        ((string)copy["displayName"]!).ShouldBe("The writer (copy)");
        ((int)copy["version"]!).ShouldBe(1);
        copy["tags"]!.AsArray().Select(t => (string)t!).ShouldBe(["docs"]);
        ((string)(await second.ReadObjectAsync())["name"]!).ShouldBe("writer-copy-2");
        ((string)(await named.ReadObjectAsync())["name"]!).ShouldBe("editor-bot");
        await (await workspace.Owner.PostJsonAsync(workspace.Path("/writer/duplicate"), new { name = "writer" })).ShouldBeProblemAsync(HttpStatusCode.Conflict);
        await (await workspace.Owner.PostJsonAsync(workspace.Path("/writer/duplicate"), new { name = "NO" })).ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity);
    }

    [Theory, AllDatabases]
    public async Task Viewer_CanRead_ButCannotWrite(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        var created = await workspace.CreatePersonaAsync("read-only");
        var id = (string)created["id"]!;
        using var viewer = app.Client(await workspace.Owner.CreateKeyAsync(workspace.Name, "viewer"));

        await (await viewer.GetAsync(workspace.Path())).ShouldBeAsync(HttpStatusCode.OK);
        await (await viewer.GetAsync(workspace.Path($"/{id}"))).ShouldBeAsync(HttpStatusCode.OK);
        await (await viewer.GetAsync(workspace.Path($"/{id}/card"))).ShouldBeAsync(HttpStatusCode.OK);
        await (await viewer.GetAsync(workspace.Path("/export?format=csv"))).ShouldBeAsync(HttpStatusCode.OK);
        await (await viewer.PostJsonAsync(workspace.Path($"/{id}/preview"), new { })).ShouldBeAsync(HttpStatusCode.OK);

        foreach (var write in new Func<Task<HttpResponseMessage>>[]
        {
            () => viewer.PostAsync(workspace.Path(), Api.JsonContent(PersonaApi.Body("sneaky"))),
            () => viewer.PatchJsonAsync(workspace.Path($"/{id}"), new { description = "changed" }),
            () => viewer.DeleteAsync(workspace.Path($"/{id}")),
            () => viewer.PostJsonAsync(workspace.Path($"/{id}/duplicate"), new { }),
            () => viewer.PostJsonAsync(workspace.Path($"/{id}/revert"), new { version = 1 }),
            () => viewer.PostAsync(workspace.Path($"/{id}/draft"), null),
            () => viewer.PostJsonAsync(workspace.Path("/bulk-delete"), new { items = new[] { id } }),
            () => viewer.PostAsync(workspace.Path("/import"), Api.JsonContent(new[] { PersonaApi.Body("imported") })),
        })
        {
            await (await write()).ShouldBeProblemAsync(HttpStatusCode.Forbidden);
        }

        var after = await workspace.GetPersonaAsync(id);
        ((int)after["version"]!).ShouldBe(1);
        ((string)after["status"]!).ShouldBe("active");
        ((int)(await (await viewer.GetAsync(workspace.Path())).ReadObjectAsync())["count"]!).ShouldBe(1);
    }

    [Theory, AllDatabases]
    public async Task Card_RendersMarkdownAboutThePersona(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        await workspace.CreatePersonaAsync("carded", new
        {
            parameters = new object[] { new { name = "tier", type = "enum", values = new[] { "gold", "silver" }, @default = "gold", description = "Customer | tier" } },
            skills = new object[] { new { @ref = "crm.lookup" } },
            examples = new object[] { new { input = "Refund?", output = "Within 30 days." } },
            filter = new { confidenceThreshold = 0.8, issueSelectionStrategy = "all_above_threshold" },
        });

        var response = await workspace.Owner.GetAsync(workspace.Path("/carded/card"));

        await response.ShouldBeAsync(HttpStatusCode.OK);
        response.Content.Headers.ContentType!.MediaType.ShouldBe("text/markdown");
        var card = await response.Content.ReadAsStringAsync();
        card.ShouldStartWith("# The carded");
        card.ShouldContain("Answers customer questions about billing.");
        card.ShouldContain("openai");
        card.ShouldContain("gpt-4o-mini");
        card.ShouldContain("crm.lookup");
        card.ShouldContain("all_above_threshold");
        card.ShouldContain("Customer \\| tier");
        card.ShouldContain("Refund?");
        card.ShouldContain("You are a billing assistant.");
    }

    [Theory, AllDatabases]
    public async Task Preview_RendersParameters_AndNamesMissingOrWrongOnes(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        await workspace.CreatePersonaAsync("greeter", new
        {
            instructions = "Greet {{ params.customer }} in a {{params.tone}} way. Literal: \\{{ params.customer }}. Limit {{ params.limit }}.",
            parameters = new object[]
            {
                new { name = "customer", type = "string", required = true },
                new { name = "tone", type = "enum", values = new[] { "warm", "dry" }, @default = "warm" },
                new { name = "limit", type = "number", @default = 3 },
            },
        });

        var rendered = await workspace.Owner.PostJsonAsync(workspace.Path("/greeter/preview"), new { parameters = new { customer = "Ada" } });

        await rendered.ShouldBeAsync(HttpStatusCode.OK);
        var body = await rendered.ReadObjectAsync();
        ((string)body["systemPrompt"]!).ShouldBe("Greet Ada in a warm way. Literal: {{ params.customer }}. Limit 3.");
        ((string)body["parameters"]!["tone"]!).ShouldBe("warm");

        var missing = await workspace.Owner.PostJsonAsync(workspace.Path("/greeter/preview"), new { parameters = new { } });
        (await missing.ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity)).Errors!.Keys.ShouldBe(["parameters.customer"]);

        var wrong = await workspace.Owner.PostJsonAsync(workspace.Path("/greeter/preview"), new { parameters = new { customer = "Ada", tone = "loud", limit = "many", extra = 1 } });
        (await wrong.ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity)).Errors!.Keys
            .ShouldBe(["parameters.tone", "parameters.limit", "parameters.extra"], ignoreOrder: true);

        await (await workspace.Owner.PostJsonAsync(workspace.Path("/nobody/preview"), new { })).ShouldBeProblemAsync(HttpStatusCode.NotFound);
    }

    [Theory, AllDatabases]
    public async Task BodilessActions_AcceptAnEmptyRequest(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        await workspace.CreatePersonaAsync("plain");

        await (await workspace.Owner.PostAsync(workspace.Path("/plain/duplicate"), null)).ShouldBeAsync(HttpStatusCode.Created);
        await (await workspace.Owner.PostAsync(workspace.Path("/plain/preview"), null)).ShouldBeAsync(HttpStatusCode.OK);
        await (await workspace.Owner.PostAsync(workspace.Path("/plain/draft"), null)).ShouldBeAsync(HttpStatusCode.Created);
        await (await workspace.Owner.PostAsync(workspace.Path("/plain/draft/publish"), null)).ShouldBeAsync(HttpStatusCode.OK);
    }

    [Theory, AllDatabases]
    public async Task Create_WithIdempotencyKey_CreatesOnce(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();

        async Task<HttpResponseMessage> Send()
        {
            var request = new HttpRequestMessage(HttpMethod.Post, workspace.Path()) { Content = Api.JsonContent(PersonaApi.Body("once")) };
            request.Headers.Add("Idempotency-Key", "create-once-1");
            return await workspace.Owner.SendAsync(request);
        }

        var first = await Send();
        var replay = await Send();

        await first.ShouldBeAsync(HttpStatusCode.Created);
        await replay.ShouldBeAsync(HttpStatusCode.Created);
        (await replay.ReadObjectAsync())["id"]!.ToString().ShouldBe((await first.ReadObjectAsync())["id"]!.ToString());
        ((int)(await (await workspace.Owner.GetAsync(workspace.Path())).ReadObjectAsync())["count"]!).ShouldBe(1);
    }

    [Theory]
    [InlineData("""{"name": "okname", "unknownField": 1}""", "unknownField")]
    [InlineData("""{"name": "nested", "model": {"temprature": 1}}""", "temprature")]
    [InlineData("""{"name": "okname", "model": {"temperature": "hot"}}""", "model.temperature")]
    [InlineData("""{"name": "okname", "tags": "one"}""", "tags")]
    public async Task Create_MalformedMember_Returns400NamingIt(string json, string named)
    {
        var app = await SharedApps.Get(DatabaseKind.Sqlite);
        var workspace = await app.CreateWorkspaceAsync();

        var response = await workspace.Owner.PostAsync(workspace.Path(), new StringContent(json, Encoding.UTF8, "application/json"));

        var problem = await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest);
        string.Join(" ", (problem.Errors ?? []).SelectMany(e => e.Value.Append(e.Key)).Append(problem.Detail)).ShouldContain(named);
    }
}
