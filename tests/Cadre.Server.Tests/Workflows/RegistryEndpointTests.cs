using System.Net;
using System.Text.Json.Nodes;
using Cadre.Storage;

namespace Cadre.Server.Tests.Workflows;

public sealed class RegistryEndpointTests
{
    private static string EventTypes(TestWorkspace workspace, string rest = "") => $"/api/v1/workspaces/{workspace.Name}/event-types{rest}";

    [Fact]
    public async Task Activities_ListEveryBuiltInActivity_WithItsInputSchema()
    {
        var app = await SharedApps.Get(DatabaseKind.Sqlite);
        var workspace = await app.CreateWorkspaceAsync();
        using var viewer = app.Client(await workspace.Owner.CreateKeyAsync(workspace.Name, "viewer"));

        var response = await viewer.GetAsync($"/api/v1/workspaces/{workspace.Name}/activities");

        await response.ShouldBeAsync(HttpStatusCode.OK);
        var activities = JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsArray();
        activities.Select(a => (string)a!["uniqueIdentifier"]!).ShouldBe(
            ["agent", "approval", "condition", "emit_event", "http", "llm", "loop", "respond", "run_workflow", "sleep", "switch", "transform", "triage", "wait_for_event"]);
        var http = activities.Single(a => (string)a!["uniqueIdentifier"]! == "http")!;
        ((string)http["versions"]![0]!["inputSchema"]!["required"]![0]!).ShouldBe("url");
        ((bool)activities.Single(a => (string)a!["uniqueIdentifier"]! == "transform")!["isPure"]!).ShouldBeTrue();
    }

    [Fact]
    public async Task FilterOperators_ListOperatorsLogicalOperatorsAndFunctions()
    {
        var app = await SharedApps.Get(DatabaseKind.Sqlite);
        var workspace = await app.CreateWorkspaceAsync();

        var body = await (await workspace.Owner.GetAsync($"/api/v1/workspaces/{workspace.Name}/filter-operators")).ReadObjectAsync();

        body["operators"]!.AsArray().Select(o => (string)o!["name"]!).ShouldContain("~between");
        ((string)body["operators"]!.AsArray().Single(o => (string)o!["name"]! == "~in")!["operand"]!).ShouldBe("array");
        body["logicalOperators"]!.AsArray().Select(o => (string)o!["name"]!).ShouldBe(["$and", "$or", "$not"]);
        body["functions"]!.AsArray().Select(f => (string)f!["name"]!).ShouldContain("dateAdd");
    }

    [Theory, AllDatabases]
    public async Task EventTypes_CustomTypesJoinTheBuiltIns_AndAreManaged(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();

        var created = await workspace.Owner.PostJsonAsync(EventTypes(workspace), new
        {
            name = "ticket.created",
            description = "A ticket arrived.",
            schema = new { type = "object", required = new[] { "id" }, properties = new { id = new { type = "string" }, priority = new { @enum = new[] { "low", "high" } } } },
        });

        await created.ShouldBeAsync(HttpStatusCode.Created);
        created.Headers.Location!.ToString().ShouldBe(EventTypes(workspace, "/ticket.created"));
        var body = await created.ReadObjectAsync();
        ((string)body["id"]!).ShouldStartWith("evt_");
        ((bool)body["builtIn"]!).ShouldBeFalse();
        var all = await (await workspace.Owner.GetAsync(EventTypes(workspace))).ReadObjectAsync();
        var names = all["results"]!.AsArray().Select(e => (string)e!["name"]!).ToList();
        names.ShouldContain("run.succeeded");
        names.ShouldContain("ticket.created");
        names.ShouldBe(names.Order(StringComparer.Ordinal).ToList());
        ((int)all["count"]!).ShouldBe(names.Count);
        var builtIns = await (await workspace.Owner.GetAsync(EventTypes(workspace, "?builtIn=true"))).ReadObjectAsync();
        builtIns["results"]!.AsArray().ShouldAllBe(e => (bool)e!["builtIn"]!);
        var own = await (await workspace.Owner.GetAsync(EventTypes(workspace, "?builtIn=false"))).ReadObjectAsync();
        own["results"]!.AsArray().Select(e => (string)e!["name"]!).ShouldBe(["ticket.created"]);

        var updated = await workspace.Owner.PatchJsonAsync(EventTypes(workspace, "/ticket.created"), new { description = "A new ticket." }, "\"1\"");
        await updated.ShouldBeAsync(HttpStatusCode.OK);
        ((int)(await updated.ReadObjectAsync())["version"]!).ShouldBe(2);
        await (await workspace.Owner.PatchJsonAsync(EventTypes(workspace, "/ticket.created"), new { description = "stale" }, "\"1\"")).ShouldBeProblemAsync(HttpStatusCode.PreconditionFailed);
        await (await workspace.Owner.PatchJsonAsync(EventTypes(workspace, "/run.failed"), new { description = "mine now" })).ShouldBeProblemAsync(HttpStatusCode.Conflict);
        await (await workspace.Owner.DeleteAsync(EventTypes(workspace, "/run.failed"))).ShouldBeProblemAsync(HttpStatusCode.Conflict);

        await workspace.CreateWorkflowAsync("on-ticket", new { type = "event", trigger = new { eventType = "ticket.created" } });
        (await (await workspace.Owner.DeleteAsync(EventTypes(workspace, "/ticket.created"))).ShouldBeProblemAsync(HttpStatusCode.Conflict)).Detail!.ShouldContain("on-ticket");
        await (await workspace.Owner.DeleteAsync($"/api/v1/workspaces/{workspace.Name}/workflows/on-ticket")).ShouldBeAsync(HttpStatusCode.OK);
        await (await workspace.Owner.DeleteAsync(EventTypes(workspace, "/ticket.created"))).ShouldBeAsync(HttpStatusCode.NoContent);
        await (await workspace.Owner.GetAsync(EventTypes(workspace, "/ticket.created"))).ShouldBeProblemAsync(HttpStatusCode.NotFound);
    }

    [Theory, AllDatabases]
    public async Task EventTypes_UnhappyPaths(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        var other = await app.CreateWorkspaceAsync();
        await (await workspace.Owner.PostJsonAsync(EventTypes(workspace), new { name = "order.paid" })).ShouldBeAsync(HttpStatusCode.Created);
        using var viewer = app.Client(await workspace.Owner.CreateKeyAsync(workspace.Name, "viewer"));

        await (await workspace.Owner.PostJsonAsync(EventTypes(workspace), new { name = "order.paid" })).ShouldBeProblemAsync(HttpStatusCode.Conflict);
        (await (await workspace.Owner.PostJsonAsync(EventTypes(workspace), new { name = "run.custom" })).ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity)).Errors!["name"][0].ShouldContain("built-in");
        (await (await workspace.Owner.PostJsonAsync(EventTypes(workspace), new { name = "order.*" })).ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity)).Errors!.Keys.ShouldBe(["name"]);
        (await (await workspace.Owner.PostJsonAsync(EventTypes(workspace), new { name = "order.refunded", schema = new { type = "money" } })).ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity)).Errors!.Keys.ShouldBe(["schema"]);
        (await (await workspace.Owner.PatchJsonAsync(EventTypes(workspace, "/order.paid"), new { name = "order.settled" })).ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity)).Errors!.Keys.ShouldBe(["name"]);
        await (await viewer.PostJsonAsync(EventTypes(workspace), new { name = "order.viewed" })).ShouldBeProblemAsync(HttpStatusCode.Forbidden);
        await (await other.Owner.GetAsync(EventTypes(workspace, "/order.paid"))).ShouldBeProblemAsync(HttpStatusCode.NotFound);
        await (await other.Owner.GetAsync(EventTypes(other, "/order.paid"))).ShouldBeProblemAsync(HttpStatusCode.NotFound);
        await (await workspace.Owner.GetAsync(EventTypes(workspace, "?builtIn=sometimes"))).ShouldBeProblemAsync(HttpStatusCode.BadRequest);

        var unknownTrigger = await workspace.Owner.PostAsync($"/api/v1/workspaces/{workspace.Name}/workflows",
            Api.JsonContent(WorkflowApi.Body("typo", new { type = "event", trigger = new { eventType = "order.payed" } })));
        (await unknownTrigger.ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity)).Errors!.Keys.ShouldBe(["trigger.eventType"]);
        await (await workspace.Owner.PostAsync($"/api/v1/workspaces/{workspace.Name}/workflows",
            Api.JsonContent(WorkflowApi.Body("pattern", new { type = "event", trigger = new { eventType = "order.*" } })))).ShouldBeAsync(HttpStatusCode.Created);
        await (await workspace.Owner.PostAsync($"/api/v1/workspaces/{workspace.Name}/workflows",
            Api.JsonContent(WorkflowApi.Body("on-failure", new { type = "event", trigger = new { eventType = "run.failed" } })))).ShouldBeAsync(HttpStatusCode.Created);
    }

    [Theory, AllDatabases]
    public async Task EventTypes_PageByName(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        foreach (var name in new[] { "b.one", "a.two", "c.three", "zz.last" })
        {
            await (await workspace.Owner.PostJsonAsync(EventTypes(workspace), new { name })).ShouldBeAsync(HttpStatusCode.Created);
        }

        var seen = new List<string>();
        string? next = EventTypes(workspace, "?limit=3");
        var pages = 0;
        while (next is not null)
        {
            var page = await (await workspace.Owner.GetAsync(next)).ReadObjectAsync();
            seen.AddRange(page["results"]!.AsArray().Select(e => (string)e!["name"]!));
            next = (string?)page["next"];
            pages++;
        }

        seen.ShouldBe(seen.Order(StringComparer.Ordinal).ToList());
        seen.Distinct().Count().ShouldBe(seen.Count);
        seen.ShouldContain("zz.last");
        pages.ShouldBeGreaterThan(2);
        var last = await (await workspace.Owner.GetAsync(EventTypes(workspace, "?limit=2&builtIn=false"))).ReadObjectAsync();
        var second = await (await workspace.Owner.GetAsync((string)last["next"]!)).ReadObjectAsync();
        var back = await (await workspace.Owner.GetAsync((string)second["previous"]!)).ReadObjectAsync();
        back["results"]!.AsArray().Select(e => (string)e!["name"]!).ShouldBe(["a.two", "b.one"]);
    }
}
