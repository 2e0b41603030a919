using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Cadre.Server.Tests.Personas;
using Cadre.Server.Tests.Runs;
using Cadre.Storage;

namespace Cadre.Server.Tests.Workflows;

public sealed class WorkflowEndpointTests
{
    [Theory, AllDatabases]
    public async Task Create_AnswersTheWholeNormalisedDefinition(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();

        var response = await workspace.Owner.PostAsync(workspace.Workflows(), Api.JsonContent(WorkflowApi.Body("orders")));

        await response.ShouldBeAsync(HttpStatusCode.Created);
        response.Headers.ETag!.Tag.ShouldBe("\"1\"");
        var body = await response.ReadObjectAsync();
        var id = (string)body["id"]!;
        id.ShouldStartWith("wf_");
        response.Headers.Location!.ToString().ShouldBe(workspace.Workflows($"/{id}"));
        ((string)body["title"]!).ShouldBe("orders");
        ((string)body["type"]!).ShouldBe("manual");
        ((bool)body["isActive"]!).ShouldBeFalse();
        ((int)body["steps"]![0]!["activity"]!["version"]!).ShouldBe(1);
        ((string)body["steps"]![1]!["onFailure"]!).ShouldBe("abort");
        ((int)body["defaults"]!["retryPolicy"]!["maximumAttempts"]!).ShouldBe(3);
        body["graph"]!["nodes"]!.AsArray().Select(n => (string)n!["id"]!).ShouldBe(["fetch", "shape"]);
        ((string)body["graph"]!["edges"]![0]!["source"]!).ShouldBe("fetch");
        ((string)body["createdBy"]!["kind"]!).ShouldBe("service_account");
        body.ContainsKey("webhookTokenHash").ShouldBeFalse();
        (await workspace.GetWorkflowAsync("orders")).ToJsonString().ShouldBe(body.ToJsonString());
        (await workspace.GetWorkflowAsync(id)).ToJsonString().ShouldBe(body.ToJsonString());
    }

    [Theory, AllDatabases]
    public async Task Create_InvalidDefinition_Returns422WithFieldPaths_AndStoresNothing(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        var body = WorkflowApi.Body("broken");
        body["steps"]![0]!["dependsOn"] = new JsonArray("shape");

        var response = await workspace.Owner.PostAsync(workspace.Workflows(), Api.JsonContent(body));

        var problem = await response.ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity);
        problem.Errors!["steps[0].dependsOn"][0].ShouldContain("fetch → shape → fetch");
        ((int)(await (await workspace.Owner.GetAsync(workspace.Workflows("?status=all"))).ReadObjectAsync())["count"]!).ShouldBe(0);
    }

    [Theory, AllDatabases]
    public async Task Create_ReferencesToPersonasAndTeams_MustExistInTheWorkspace(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        var other = await app.CreateWorkspaceAsync();
        await other.CreatePersonaAsync("elsewhere");
        var agentStep = new JsonObject { ["id"] = "answer", ["activity"] = new JsonObject { ["uniqueIdentifier"] = "agent" }, ["input"] = new JsonObject { ["persona"] = "elsewhere", ["prompt"] = "Hi" } };
        var body = WorkflowApi.Body("refs", new { executingAgent = "nobody", teamId = "team_missing" });
        body["steps"]!.AsArray().Add(agentStep);

        var response = await workspace.Owner.PostAsync(workspace.Workflows(), Api.JsonContent(body));

        var problem = await response.ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity);
        problem.Errors!.Keys.ShouldBe(["executingAgent", "steps[2].input.persona", "teamId"], ignoreOrder: true);

        await workspace.CreatePersonaAsync("elsewhere");
        await workspace.CreatePersonaAsync("nobody");
        body.Remove("teamId");
        await (await workspace.Owner.PostAsync(workspace.Workflows(), Api.JsonContent(body))).ShouldBeAsync(HttpStatusCode.Created);
        agentStep["input"]!["persona"] = "{{ context.body.persona }}";
        body["name"] = "templated";
        await (await workspace.Owner.PostAsync(workspace.Workflows(), Api.JsonContent(body))).ShouldBeAsync(HttpStatusCode.Created);
    }

    [Theory, AllDatabases]
    public async Task DuplicateName_Is409_AndTheBinFreesIt(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        var first = await workspace.CreateWorkflowAsync("dup");

        await (await workspace.Owner.PostAsync(workspace.Workflows(), Api.JsonContent(WorkflowApi.Body("dup")))).ShouldBeProblemAsync(HttpStatusCode.Conflict);
        await (await workspace.Owner.DeleteAsync(workspace.Workflows("/dup"))).ShouldBeAsync(HttpStatusCode.OK);
        await workspace.CreateWorkflowAsync("dup");
        (await (await workspace.Owner.PostAsync(workspace.Workflows($"/{first["id"]}/restore"), null)).ShouldBeProblemAsync(HttpStatusCode.Conflict)).Detail!.ShouldContain("dup");
        (await (await workspace.Owner.PostAsync(workspace.Workflows(), Api.JsonContent(WorkflowApi.Body("export")))).ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity))
            .Errors!["name"][0].ShouldContain("reserved");
    }

    [Theory, AllDatabases]
    public async Task EveryKindOfChange_IsAVersion_WithItsOwnName(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        await workspace.CreateWorkflowAsync("history");

        await (await workspace.Owner.PatchJsonAsync(workspace.Workflows("/history"), new { description = "Second." }, "\"1\"")).ShouldBeAsync(HttpStatusCode.OK);
        await (await workspace.Owner.PostJsonAsync(workspace.Workflows("/history/rename"), new { name = "history-two" })).ShouldBeAsync(HttpStatusCode.OK);
        await (await workspace.Owner.PostAsync(workspace.Workflows("/history-two/activate"), null)).ShouldBeAsync(HttpStatusCode.OK);
        var deactivated = await workspace.Owner.PostAsync(workspace.Workflows("/history-two/deactivate"), null);
        deactivated.Headers.ETag!.Tag.ShouldBe("\"5\"");
        var reverted = await workspace.Owner.PostJsonAsync(workspace.Workflows("/history-two/revert"), new { version = 1 });

        await reverted.ShouldBeAsync(HttpStatusCode.OK);
        var current = await reverted.ReadObjectAsync();
        ((int)current["version"]!).ShouldBe(6);
        ((string)current["name"]!).ShouldBe("history");
        ((string)current["description"]!).ShouldBe("Fetches an order and shapes it.");
        var versions = await (await workspace.Owner.GetAsync(workspace.Workflows($"/{current["id"]}/versions"))).ReadObjectAsync();
        versions["results"]!.AsArray().Select(v => (string)v!["change"]!).ShouldBe(["reverted", "deactivated", "activated", "renamed", "updated", "created"]);
        ((string)versions["results"]![2]!["name"]!).ShouldBe("history-two");
        var third = await (await workspace.Owner.GetAsync(workspace.Workflows($"/{current["id"]}/versions/3"))).ReadObjectAsync();
        ((string)third["definition"]!["title"]!).ShouldBe("history-two", "the title follows a rename when it was the name");
        var diff = await (await workspace.Owner.GetAsync(workspace.Workflows($"/{current["id"]}/diff?from=1&to=4"))).ReadObjectAsync();
        diff["changes"]!.AsArray().Select(c => (string)c!["path"]!).ShouldBe(["name", "title", "description", "isActive"], ignoreOrder: true);
    }

    [Theory, AllDatabases]
    public async Task Patch_StepsWithoutGraph_LaysTheGraphOutAgain_AndStaleIfMatchIs412(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        await workspace.CreateWorkflowAsync("graphs");
        var steps = WorkflowApi.Body("x")["steps"]!.AsArray();
        steps.Add(new JsonObject { ["id"] = "log", ["activity"] = new JsonObject { ["uniqueIdentifier"] = "emit_event" }, ["dependsOn"] = new JsonArray("shape"), ["input"] = new JsonObject { ["type"] = "order.seen" } });

        var response = await workspace.Owner.PatchJsonAsync(workspace.Workflows("/graphs"), new { steps }, "\"1\"");

        await response.ShouldBeAsync(HttpStatusCode.OK);
        (await response.ReadObjectAsync())["graph"]!["nodes"]!.AsArray().Select(n => (string)n!["id"]!).ShouldBe(["fetch", "shape", "log"]);
        await (await workspace.Owner.PatchJsonAsync(workspace.Workflows("/graphs"), new { description = "lost" }, "\"1\"")).ShouldBeProblemAsync(HttpStatusCode.PreconditionFailed);
        var badGraph = await workspace.Owner.PatchJsonAsync(workspace.Workflows("/graphs"), new { graph = new { nodes = new[] { new { id = "fetch", position = new { x = 0, y = 0 } } }, edges = Array.Empty<object>() } });
        (await badGraph.ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity)).Errors!.Keys.ShouldContain("graph.nodes");
        ((int)(await workspace.GetWorkflowAsync("graphs"))["version"]!).ShouldBe(2);
    }

    [Theory, AllDatabases]
    public async Task Rename_ToATakenName_Is409(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        await workspace.CreateWorkflowAsync("one");
        await workspace.CreateWorkflowAsync("two", new { title = "Second workflow" });

        await (await workspace.Owner.PostJsonAsync(workspace.Workflows("/two/rename"), new { name = "one" })).ShouldBeProblemAsync(HttpStatusCode.Conflict);
        (await (await workspace.Owner.PostJsonAsync(workspace.Workflows("/two/rename"), new { })).ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity)).Errors!.Keys.ShouldBe(["name"]);
        var renamed = await (await workspace.Owner.PostJsonAsync(workspace.Workflows("/two/rename"), new { name = "three" })).ReadObjectAsync();
        ((string)renamed["title"]!).ShouldBe("Second workflow", "a title set apart from the name stays");
    }

    [Theory, AllDatabases]
    public async Task Duplicate_CopiesStepsAndGraph_Inactive_WithItsOwnWebhookToken(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        var original = await workspace.CreateWorkflowAsync("hooked", new { type = "webhook", isActive = true, trigger = new { webhook = new { mode = "sync", timeout = "20s" } } });

        var copy = await workspace.Owner.PostAsync(workspace.Workflows("/hooked/duplicate"), null);
        var second = await workspace.Owner.PostJsonAsync(workspace.Workflows("/hooked/duplicate"), new { });

        await copy.ShouldBeAsync(HttpStatusCode.Created);
        var body = await copy.ReadObjectAsync();
        ((string)body["name"]!).ShouldBe("hooked-copy");
        ((string)body["title"]!).ShouldBe("hooked (copy)");
        ((bool)body["isActive"]!).ShouldBeFalse();
        body["steps"]!.ToJsonString().ShouldBe(original["steps"]!.ToJsonString());
        body["graph"]!.ToJsonString().ShouldBe(original["graph"]!.ToJsonString());
        ((string)(await second.ReadObjectAsync())["name"]!).ShouldBe("hooked-copy-2");
        var originalToken = await (await workspace.Owner.GetAsync(workspace.Workflows("/hooked/webhook-token"))).ReadObjectAsync();
        var copyToken = await (await workspace.Owner.GetAsync(workspace.Workflows("/hooked-copy/webhook-token"))).ReadObjectAsync();
        ((string)copyToken["token"]!).ShouldNotBe((string)originalToken["token"]!);
    }

    [Theory, AllDatabases]
    public async Task WebhookToken_IsForEditors_AndRotationReplacesIt(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        await workspace.CreateWorkflowAsync("intake", new { type = "webhook" });
        using var viewer = app.Client(await workspace.Owner.CreateKeyAsync(workspace.Name, "viewer"));
        using var editor = app.Client(await workspace.Owner.CreateKeyAsync(workspace.Name, "editor"));

        var first = await editor.GetAsync(workspace.Workflows("/intake/webhook-token"));

        await first.ShouldBeAsync(HttpStatusCode.OK);
        first.Headers.CacheControl!.NoStore.ShouldBeTrue();
        var token = (string)(await first.ReadObjectAsync())["token"]!;
        token.ShouldStartWith("whk_");
        token.Length.ShouldBeGreaterThan(40);
        ((string)(await (await editor.GetAsync(workspace.Workflows("/intake/webhook-token"))).ReadObjectAsync())["token"]!).ShouldBe(token);
        await (await viewer.GetAsync(workspace.Workflows("/intake/webhook-token"))).ShouldBeProblemAsync(HttpStatusCode.Forbidden);
        (await workspace.GetWorkflowAsync("intake")).ToJsonString().ShouldNotContain(token);
        ((string)(await workspace.GetWorkflowAsync("intake"))["webhookPath"]!).ShouldBe("/hooks/{token}");

        var rotated = await (await editor.PostAsync(workspace.Workflows("/intake/webhook-token/rotate"), null)).ReadObjectAsync();

        ((string)rotated["token"]!).ShouldNotBe(token);
        ((string)rotated["path"]!).ShouldBe("/hooks/" + (string)rotated["token"]!);
        ((string)(await (await editor.GetAsync(workspace.Workflows("/intake/webhook-token"))).ReadObjectAsync())["token"]!).ShouldBe((string)rotated["token"]!);
        app.Logs.Messages.ShouldNotContain(m => m.Contains(token, StringComparison.Ordinal));
    }

    [Theory, AllDatabases]
    public async Task Bin_Restore_Purge_AndBulkDelete(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        var kept = await workspace.CreateWorkflowAsync("kept");
        var binned = await workspace.CreateWorkflowAsync("binned");
        var purged = await workspace.CreateWorkflowAsync("purged");
        using var editor = app.Client(await workspace.Owner.CreateKeyAsync(workspace.Name, "editor"));

        var bulk = await (await editor.PostJsonAsync(workspace.Workflows("/bulk-delete"), new { items = new[] { (string)binned["id"]!, "purged", "ghost" } })).ReadObjectAsync();

        bulk["results"]!.AsArray().Select(r => (int)r!["status"]!).ShouldBe([200, 200, 404]);
        WorkflowApi.Names(await (await editor.GetAsync(workspace.Workflows())).ReadObjectAsync()).ShouldBe(["kept"]);
        WorkflowApi.Names(await (await editor.GetAsync(workspace.Workflows("?status=deleted&sort=name"))).ReadObjectAsync()).ShouldBe(["binned", "purged"]);
        ((string)(await workspace.GetWorkflowAsync((string)binned["id"]!))["status"]!).ShouldBe("deleted");
        await (await editor.PatchJsonAsync(workspace.Workflows($"/{binned["id"]}"), new { description = "x" })).ShouldBeProblemAsync(HttpStatusCode.Conflict);
        await (await editor.DeleteAsync(workspace.Workflows($"/{purged["id"]}?permanent=true"))).ShouldBeProblemAsync(HttpStatusCode.Forbidden);
        await (await workspace.Owner.DeleteAsync(workspace.Workflows($"/{purged["id"]}?permanent=true"))).ShouldBeAsync(HttpStatusCode.NoContent);
        await (await editor.GetAsync(workspace.Workflows($"/{purged["id"]}/versions"))).ShouldBeProblemAsync(HttpStatusCode.NotFound);
        await (await editor.PostAsync(workspace.Workflows($"/{binned["id"]}/restore"), null)).ShouldBeAsync(HttpStatusCode.OK);
        WorkflowApi.Names(await (await editor.GetAsync(workspace.Workflows("?sort=name"))).ReadObjectAsync()).ShouldBe(["binned", "kept"]);
        ((string)kept["status"]!).ShouldBe("active");
    }

    [Theory, AllDatabases]
    public async Task List_FiltersBySearchActiveTypeEventTypeAndPersona(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        var persona = await workspace.CreatePersonaAsync("support-bot");
        await (await workspace.Owner.PostJsonAsync($"/api/v1/workspaces/{workspace.Name}/event-types", new { name = "ticket.created" })).ShouldBeAsync(HttpStatusCode.Created);
        await workspace.CreateWorkflowAsync("ticket-triage", new
        {
            title = "Ticket triage",
            type = "event",
            isActive = true,
            executingAgent = "support-bot",
            trigger = new { eventType = "ticket.created", filters = new Dictionary<string, object> { ["{{ context.event.payload.priority }}"] = new Dictionary<string, object> { ["~in"] = new[] { "high" } } } },
        });
        await workspace.CreateWorkflowAsync("nightly-report", new { title = "Nightly report", description = "Summarises invoices.", type = "schedule", trigger = new { cron = "0 2 * * *", timeZone = "Europe/Paris" } });
        await workspace.CreateWorkflowAsync("manual-fix", new { description = "Repairs invoices by hand." });

        async Task<List<string>> Names(string query) => WorkflowApi.Names(await (await workspace.Owner.GetAsync(workspace.Workflows("?sort=name&" + query))).ReadObjectAsync());

        (await Names("q=invoices")).ShouldBe(["manual-fix", "nightly-report"]);
        (await Names("q=TRIAGE")).ShouldBe(["ticket-triage"]);
        (await Names("q=nightly%20invoices")).ShouldBe(["nightly-report"]);
        (await Names("active=true")).ShouldBe(["ticket-triage"]);
        (await Names("active=false")).ShouldBe(["manual-fix", "nightly-report"]);
        (await Names("type=schedule")).ShouldBe(["nightly-report"]);
        (await Names("eventType=ticket.created")).ShouldBe(["ticket-triage"]);
        (await Names("persona=support-bot")).ShouldBe(["ticket-triage"]);
        (await Names($"persona={persona["id"]}")).ShouldBe(["ticket-triage"]);
        await (await workspace.Owner.PatchJsonAsync($"/api/v1/workspaces/{workspace.Name}/personas/support-bot", new { name = "helpdesk-bot" })).ShouldBeAsync(HttpStatusCode.OK);
        (await Names("persona=helpdesk-bot")).ShouldBe(["ticket-triage"], "the label holds the persona's ID, so a rename keeps the link");
        WorkflowApi.Names(await (await workspace.Owner.GetAsync(workspace.Workflows("?sort=-title"))).ReadObjectAsync())
            .ShouldBe(["manual-fix", "ticket-triage", "nightly-report"], "titles sort ordinally, so lowercase after uppercase");

        var summary = (await (await workspace.Owner.GetAsync(workspace.Workflows("?type=event"))).ReadObjectAsync())["results"]![0]!.AsObject();
        ((string)summary["trigger"]!).ShouldBe("ticket.created");
        summary["personas"]!.AsArray().Select(p => (string)p!).ShouldBe(["support-bot"]);
        ((int)summary["stepCount"]!).ShouldBe(2);
        summary["models"]!.AsArray().ShouldBeEmpty("its agent step takes the persona's model");
        summary.ContainsKey("steps").ShouldBeFalse();

        (await (await workspace.Owner.GetAsync(workspace.Workflows("?type=cron"))).ShouldBeProblemAsync(HttpStatusCode.BadRequest)).Errors!.Keys.ShouldBe(["type"]);
        (await (await workspace.Owner.GetAsync(workspace.Workflows("?sort=steps"))).ShouldBeProblemAsync(HttpStatusCode.BadRequest)).Errors!.Keys.ShouldBe(["sort"]);
        await (await workspace.Owner.GetAsync(workspace.Workflows("?active=maybe"))).ShouldBeProblemAsync(HttpStatusCode.BadRequest);
    }

    [Theory, AllDatabases]
    public async Task List_ShowsEachWorkflowsLatestRun_OrNullBeforeTheFirst(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        var ran = await workspace.CreateFlowAsync([new { id = "only", activity = new { uniqueIdentifier = "transform" }, input = new { ok = true } }], name: "ran");
        await using var refusing = await FakeHttpServer.StartAsync(context =>
        {
            context.Response.StatusCode = 500;
            return Task.CompletedTask;
        });
        var failed = await workspace.CreateFlowAsync(
            [new { id = "only", activity = new { uniqueIdentifier = "http" }, input = new { method = "POST", url = refusing.Address + "no" }, retryPolicy = new { maximumAttempts = 1 } }], name: "failed");
        await workspace.CreateFlowAsync([new { id = "only", activity = new { uniqueIdentifier = "transform" }, input = new { ok = true } }], name: "never");
        await workspace.StartAsync(ran);
        var latest = await workspace.StartAsync(ran);
        var failure = await workspace.StartAsync(failed);

        var results = (await (await workspace.Owner.GetAsync(workspace.Workflows("?sort=name"))).ReadObjectAsync())["results"]!.AsArray()
            .ToDictionary(w => (string)w!["name"]!, w => w!["lastRun"]);

        ((string)results["ran"]!["id"]!).ShouldBe((string)latest["id"]!);
        ((int)results["ran"]!["number"]!).ShouldBe(2);
        ((string)results["ran"]!["status"]!).ShouldBe("succeeded");
        results["ran"]!["finishedAt"].ShouldNotBeNull();
        ((string)results["failed"]!["id"]!).ShouldBe((string)failure["id"]!);
        ((string)results["failed"]!["status"]!).ShouldBe("failed");
        results["never"].ShouldBeNull();
    }

    [Theory, AllDatabases]
    public async Task List_NamesTheModelsItsStepsWriteOut_ButNotTemplatedOnes(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        await workspace.CreateFlowAsync(
        [
            new { id = "ask", activity = new { uniqueIdentifier = "llm" }, input = new { prompt = "hi", model = new { provider = "mock", model = "echo" } } },
            new { id = "again", activity = new { uniqueIdentifier = "llm" }, dependsOn = new[] { "ask" }, input = new { prompt = "hi", model = new { provider = "mock", model = "echo" } } },
            new { id = "bare", activity = new { uniqueIdentifier = "llm" }, dependsOn = new[] { "ask" }, input = new { prompt = "hi", model = new { model = "gpt-4o" } } },
            new { id = "chosen", activity = new { uniqueIdentifier = "llm" }, dependsOn = new[] { "ask" }, input = new { prompt = "hi", model = new { provider = "mock", model = "{{ context.body.model }}" } } },
        ], name: "models");

        var summary = (await (await workspace.Owner.GetAsync(workspace.Workflows())).ReadObjectAsync())["results"]!.AsArray().ShouldHaveSingleItem()!;

        summary["models"]!.AsArray().Select(m => (string)m!).ShouldBe(["mock/echo", "gpt-4o"]);
    }

    [Theory, AllDatabases]
    public async Task OtherWorkspaces_CannotSeeOrTouchIt(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var mine = await app.CreateWorkspaceAsync();
        var theirs = await app.CreateWorkspaceAsync();
        var workflow = await mine.CreateWorkflowAsync("private");
        var id = (string)workflow["id"]!;

        foreach (var request in new Func<HttpClient, Task<HttpResponseMessage>>[]
        {
            c => c.GetAsync(theirs.Workflows($"/{id}")),
            c => c.PatchJsonAsync(theirs.Workflows($"/{id}"), new { description = "x" }),
            c => c.DeleteAsync(theirs.Workflows($"/{id}")),
            c => c.GetAsync(theirs.Workflows($"/{id}/versions")),
            c => c.GetAsync(theirs.Workflows($"/{id}/webhook-token")),
            c => c.PostAsync(theirs.Workflows($"/{id}/activate"), null),
            c => c.PostJsonAsync(theirs.Workflows($"/{id}/duplicate"), new { }),
        })
        {
            await (await request(theirs.Owner)).ShouldBeProblemAsync(HttpStatusCode.NotFound);
        }

        ((int)(await mine.GetWorkflowAsync(id))["version"]!).ShouldBe(1);
    }

    [Theory, AllDatabases]
    public async Task Viewer_CanRead_ButNotWrite(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        await workspace.CreateWorkflowAsync("watched");
        using var viewer = app.Client(await workspace.Owner.CreateKeyAsync(workspace.Name, "viewer"));

        await (await viewer.GetAsync(workspace.Workflows("/watched"))).ShouldBeAsync(HttpStatusCode.OK);
        await (await viewer.GetAsync(workspace.Workflows("/watched/versions"))).ShouldBeAsync(HttpStatusCode.OK);
        foreach (var write in new Func<Task<HttpResponseMessage>>[]
        {
            () => viewer.PostAsync(workspace.Workflows(), Api.JsonContent(WorkflowApi.Body("sneaky"))),
            () => viewer.PatchJsonAsync(workspace.Workflows("/watched"), new { description = "x" }),
            () => viewer.DeleteAsync(workspace.Workflows("/watched")),
            () => viewer.PostAsync(workspace.Workflows("/watched/activate"), null),
            () => viewer.PostJsonAsync(workspace.Workflows("/watched/rename"), new { name = "mine" }),
            () => viewer.PostAsync(workspace.Workflows("/watched/webhook-token/rotate"), null),
            () => viewer.PostJsonAsync(workspace.Workflows("/bulk-delete"), new { items = new[] { "watched" } }),
        })
        {
            await (await write()).ShouldBeProblemAsync(HttpStatusCode.Forbidden);
        }

        ((int)(await workspace.GetWorkflowAsync("watched"))["version"]!).ShouldBe(1);
    }

    [Theory, AllDatabases]
    public async Task ConcurrentPatches_OnOneVersion_ExactlyOneWins(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        await workspace.CreateWorkflowAsync("raced");

        var patches = await Task.WhenAll(Enumerable.Range(0, 8).Select(i =>
            workspace.Owner.PatchJsonAsync(workspace.Workflows("/raced"), new { description = $"writer {i}" }, "\"1\"")));

        patches.Count(r => r.StatusCode == HttpStatusCode.OK).ShouldBe(1);
        patches.Where(r => r.StatusCode != HttpStatusCode.OK).ShouldAllBe(r => r.StatusCode == HttpStatusCode.PreconditionFailed);
        ((int)(await (await workspace.Owner.GetAsync(workspace.Workflows("/raced/versions"))).ReadObjectAsync())["count"]!).ShouldBe(2);
    }

    [Theory, AllDatabases]
    public async Task PersonaPipeline_IsStoredExpanded(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        await workspace.CreatePersonaAsync("writer");
        await workspace.CreatePersonaAsync("editor");

        var response = await workspace.Owner.PostAsync(workspace.Workflows(), new StringContent("""
            {"name": "essay", "personaPipeline": {"designer": {"persona": "writer"}, "checker": {"persona": "editor"}, "maxIterations": 2}}
            """, Encoding.UTF8, "application/json"));

        await response.ShouldBeAsync(HttpStatusCode.Created);
        var body = await response.ReadObjectAsync();
        ((string)body["subType"]!).ShouldBe("pipeline");
        body["steps"]!.AsArray().Select(s => (string)s!["id"]!).ShouldBe(["pipeline", "design", "check", "result"]);
        WorkflowApi.Names(await (await workspace.Owner.GetAsync(workspace.Workflows("?persona=editor"))).ReadObjectAsync()).ShouldBe(["essay"]);
        var missing = await workspace.Owner.PatchJsonAsync(workspace.Workflows("/essay"), new { personaPipeline = new { checker = new { persona = "ghost" } } });
        (await missing.ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity)).Errors!.Keys.ShouldBe(["steps[2].input.persona"]);
    }
}
