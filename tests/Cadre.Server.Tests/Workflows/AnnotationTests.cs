using System.Net;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Cadre.Server.Tests.Personas;
using Cadre.Storage;

namespace Cadre.Server.Tests.Workflows;

public sealed class AnnotationTests
{
    private static async Task<CadreApp> AppAllowingLocalCallsAsync(DatabaseKind db) =>
        await CadreApp.StartAsync(db, new Dictionary<string, string?> { ["Cadre:Outbound:AllowPrivateNetworks"] = "true" });

    [Theory, AllDatabases]
    public async Task Annotate_FetchesPersonasWorkflowsAndHttp_InOrder_IntoTheContext(DatabaseKind db)
    {
        await using var app = await AppAllowingLocalCallsAsync(db);
        await using var crm = await FakeHttpServer.StartAsync(async context =>
        {
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync($$"""{"customer": "{{context.Request.Query["id"]}}", "tier": "gold"}""");
        });
        var workspace = await app.CreateWorkspaceAsync();
        await workspace.CreatePersonaAsync("support-bot", new { instructions = "Help." });
        var body = WorkflowApi.Body("enriched", new
        {
            executingAgent = "support-bot",
            annotations = new object[]
            {
                new { id = "agent", annotator = "persona", input = new { name = "{{ context.body.persona }}" }, required = new[] { "name" }, relations = new[] { "workflows" } },
                new { id = "customer", annotator = "http", input = new { url = crm.Address + "customers?id={{ context.body.customerId }}", headers = new Dictionary<string, string> { ["X-Tier"] = "{{ context.annotations.agent.name }}" } }, writeTo = "crm.customer" },
                new { id = "self", annotator = "workflow", input = new { id = "{{ workflow.id }}" }, relations = new[] { "personas" } },
            },
        });
        await (await workspace.Owner.PostAsync(workspace.Workflows(), Api.JsonContent(body))).ShouldBeAsync(HttpStatusCode.Created);

        var response = await workspace.Owner.PostJsonAsync(workspace.Workflows("/enriched/annotate"), new { context = new { body = new { persona = "support-bot", customerId = "c-42" } } });

        await response.ShouldBeAsync(HttpStatusCode.OK);
        var result = await response.ReadObjectAsync();
        var context = result["context"]!;
        ((string)context["annotations"]!["agent"]!["instructions"]!).ShouldBe("Help.");
        context["annotations"]!["agent"]!["workflows"]!.AsArray().Select(n => (string)n!).ShouldBe(["enriched"]);
        ((int)context["crm"]!["customer"]!["status"]!).ShouldBe(200);
        ((string)context["crm"]!["customer"]!["body"]!["customer"]!).ShouldBe("c-42");
        ((string)context["annotations"]!["self"]!["name"]!).ShouldBe("enriched");
        ((string)context["annotations"]!["self"]!["personas"]![0]!["name"]!).ShouldBe("support-bot");
        ((string)context["body"]!["customerId"]!).ShouldBe("c-42");
        result["annotations"]!.AsArray().Select(a => (string)a!["writeTo"]!).ShouldBe(["annotations.agent", "crm.customer", "annotations.self"]);
        crm.Requests.ShouldHaveSingleItem().Headers["X-Tier"].ShouldBe("support-bot");
    }

    [Theory, AllDatabases]
    public async Task Annotate_Failures_NameTheAnnotation(DatabaseKind db)
    {
        await using var app = await AppAllowingLocalCallsAsync(db);
        await using var failing = await FakeHttpServer.StartAsync(context =>
        {
            context.Response.StatusCode = 503;
            return Task.CompletedTask;
        });
        var workspace = await app.CreateWorkspaceAsync();
        var body = WorkflowApi.Body("failing", new
        {
            annotations = new object[]
            {
                new { id = "who", annotator = "persona", input = new { name = "{{ context.body.persona }}" }, required = new[] { "name" } },
                new { id = "remote", annotator = "http", input = new { url = failing.Address + "x" } },
                new { id = "recent", annotator = "run", input = new { id = "{{ context.body.run }}" } },
            },
        });
        await (await workspace.Owner.PostAsync(workspace.Workflows(), Api.JsonContent(body))).ShouldBeAsync(HttpStatusCode.Created);

        var missingInput = await workspace.Owner.PostJsonAsync(workspace.Workflows("/failing/annotate"), new { context = new { body = new { } } });
        (await missingInput.ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity)).Errors!.Keys.ShouldBe(["annotations[0].input.name"]);
        var unknownPersona = await workspace.Owner.PostJsonAsync(workspace.Workflows("/failing/annotate"), new { context = new { body = new { persona = "nobody" } } });
        (await unknownPersona.ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity)).Errors!["annotations[0]"][0].ShouldContain("nobody");

        await workspace.CreatePersonaAsync("somebody");
        var httpError = await workspace.Owner.PostJsonAsync(workspace.Workflows("/failing/annotate"), new { context = new { body = new { persona = "somebody" } } });
        (await httpError.ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity)).Errors!["annotations[1]"][0].ShouldContain("503");
    }

    [Theory, AllDatabases]
    public async Task Http_ToInternalAddresses_IsRefusedByDefault(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        await using var local = await FakeHttpServer.StartAsync(context => context.Response.WriteAsync("secret"));
        var workspace = await app.CreateWorkspaceAsync();
        foreach (var (name, url) in new[] { ("loopback", local.Address + "x"), ("metadata", "http://169.254.169.254/latest/meta-data/"), ("localhost", $"http://localhost:{local.Address.Port}/x") })
        {
            var body = WorkflowApi.Body(name, new { annotations = new object[] { new { id = "peek", annotator = "http", input = new { url } } } });
            await (await workspace.Owner.PostAsync(workspace.Workflows(), Api.JsonContent(body))).ShouldBeAsync(HttpStatusCode.Created);

            var response = await workspace.Owner.PostJsonAsync(workspace.Workflows($"/{name}/annotate"), new { });

            (await response.ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity)).Errors!["annotations[0]"][0].ShouldContain("private, loopback");
        }

        local.Requests.ShouldBeEmpty();
    }
}
