using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Cadre.Common;
using Cadre.Server.Tests.Personas;
using Cadre.Storage;

namespace Cadre.Server.Tests.Workflows;

public sealed class WorkflowTransferTests
{
    private static async Task<string> CreateTeamAsync(TestWorkspace workspace, string name)
    {
        var response = await workspace.Owner.PostJsonAsync($"/api/v1/workspaces/{workspace.Name}/teams", new { name });
        await response.ShouldBeAsync(HttpStatusCode.Created);
        return (string)(await response.ReadObjectAsync())["id"]!;
    }

    /// <summary>A workflow that uses a persona (by ID), a team, a credential, a secret in a template and a pipeline-free DAG.</summary>
    private static async Task<JsonObject> CreateRichAsync(TestWorkspace workspace, string personaName, string teamName)
    {
        var persona = await workspace.CreatePersonaAsync(personaName);
        var teamId = await CreateTeamAsync(workspace, teamName);
        var body = WorkflowApi.Body("rich", new
        {
            title = "Rich workflow",
            teamId,
            executingAgent = (string)persona["id"]!,
            credentials = new { crm = "crm-api-key" },
            repository = new { repoUrl = "https://git.example.com/flows.git", repoBranch = "main", repoTokenSecret = "git-token" },
            metadata = new { owner = "ops", flags = new[] { "a", "b" } },
            defaults = new { timeout = "10m", concurrency = new { maxRuns = 2, whenFull = "reject" } },
        });
        body["steps"]![0]!["input"]!["headers"] = new JsonObject { ["Authorization"] = "Bearer {{ secrets.crmToken }}", ["X-Other"] = "{{ secrets['crm-token'] }}" };
        body["steps"]!.AsArray().Add(new JsonObject
        {
            ["id"] = "answer",
            ["activity"] = new JsonObject { ["uniqueIdentifier"] = "agent" },
            ["dependsOn"] = new JsonArray("shape"),
            ["input"] = new JsonObject { ["persona"] = personaName, ["prompt"] = "Summarise {{ steps.shape.output.total }}.\nKeep it short: 2 lines." },
        });
        var response = await workspace.Owner.PostAsync(workspace.Workflows(), Api.JsonContent(body));
        await response.ShouldBeAsync(HttpStatusCode.Created);
        return await response.ReadObjectAsync();
    }

    private static JsonObject Definition(JsonObject workflow, params string[] without)
    {
        var copy = workflow.DeepClone().AsObject();
        foreach (var member in new[] { "id", "workspaceId", "version", "status", "webhookPath", "createdBy", "updatedBy", "createdAt", "updatedAt", "deletedAt", "deletedBy" }.Concat(without))
        {
            copy.Remove(member);
        }

        return copy;
    }

    [Theory, AllDatabases]
    public async Task Export_NamesPersonasAndTeams_AndReferencesSecrets(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        await CreateRichAsync(workspace, "support-bot", "ops");

        var response = await workspace.Owner.GetAsync(workspace.Workflows("/rich/export"));

        await response.ShouldBeAsync(HttpStatusCode.OK);
        response.Content.Headers.ContentDisposition!.FileName!.Trim('"').ShouldBe($"{workspace.Name}-rich.json");
        var document = await response.ReadObjectAsync();
        ((string)document["workspace"]!).ShouldBe(workspace.Name);
        var exported = document["workflows"]![0]!.AsObject();
        ((string)exported["executingAgent"]!).ShouldBe("support-bot");
        ((string)exported["teamId"]!).ShouldBe("ops");
        ((string)exported["credentials"]!["crm"]!).ShouldBe("crm-api-key");
        exported.ContainsKey("id").ShouldBeFalse();
        exported.ToJsonString().ShouldNotContain("whk_");

        var yaml = await workspace.Owner.GetAsync(workspace.Workflows("/export?format=yaml"));
        await yaml.ShouldBeAsync(HttpStatusCode.OK);
        yaml.Content.Headers.ContentType!.MediaType.ShouldBe("application/yaml");
        var text = await yaml.Content.ReadAsStringAsync();
        text.ShouldContain("executingAgent: support-bot");
        JsonYaml.Parse(text)!["workflows"]!.ToJsonString().ShouldBe(document["workflows"]!.ToJsonString());
        await (await workspace.Owner.GetAsync(workspace.Workflows("/export?format=xml"))).ShouldBeProblemAsync(HttpStatusCode.BadRequest);
        await (await workspace.Owner.GetAsync(workspace.Workflows("/ghost/export"))).ShouldBeProblemAsync(HttpStatusCode.NotFound);
    }

    [Theory, AllDatabases]
    public async Task ExportThenImport_IntoAnotherWorkspace_RoundTripsToTheSameDefinition_InJsonAndYaml(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var source = await app.CreateWorkspaceAsync();
        var viaJson = await app.CreateWorkspaceAsync();
        var viaYaml = await app.CreateWorkspaceAsync();
        var original = await CreateRichAsync(source, "support-bot", "ops");
        foreach (var target in new[] { viaJson, viaYaml })
        {
            await target.CreatePersonaAsync("support-bot");
            await CreateTeamAsync(target, "ops");
        }

        var json = await (await source.Owner.GetAsync(source.Workflows("/export"))).Content.ReadAsStringAsync();
        var yaml = await (await source.Owner.GetAsync(source.Workflows("/export?format=yaml"))).Content.ReadAsStringAsync();

        var jsonImport = await viaJson.Owner.PostAsync(viaJson.Workflows("/import"), new StringContent(json, Encoding.UTF8, "application/json"));
        var yamlImport = await viaYaml.Owner.PostAsync(viaYaml.Workflows("/import"), new StringContent(yaml, Encoding.UTF8, "application/yaml"));

        await jsonImport.ShouldBeAsync(HttpStatusCode.OK);
        await yamlImport.ShouldBeAsync(HttpStatusCode.OK);
        ((string)(await jsonImport.ReadObjectAsync())["results"]![0]!["action"]!).ShouldBe("create");
        var fromJson = await viaJson.GetWorkflowAsync("rich");
        var fromYaml = await viaYaml.GetWorkflowAsync("rich");
        var expected = Definition(original, "teamId", "executingAgent").ToJsonString();
        Definition(fromJson, "teamId", "executingAgent").ToJsonString().ShouldBe(expected);
        Definition(fromYaml, "teamId", "executingAgent").ToJsonString().ShouldBe(expected);
        ((string)fromJson["executingAgent"]!).ShouldBe("support-bot");
        ((string)fromJson["teamId"]!).ShouldStartWith("team_");
        ((string)fromJson["teamId"]!).ShouldNotBe((string)original["teamId"]!);
        var versions = await (await viaJson.Owner.GetAsync(viaJson.Workflows("/rich/versions"))).ReadObjectAsync();
        ((string)versions["results"]![0]!["change"]!).ShouldBe("imported");

        // Importing the same export again changes nothing.
        var again = await (await viaJson.Owner.PostAsync(viaJson.Workflows("/import?mode=upsert"), new StringContent(json, Encoding.UTF8, "application/json"))).ReadObjectAsync();
        ((string)again["results"]![0]!["action"]!).ShouldBe("unchanged");
    }

    [Theory, AllDatabases]
    public async Task Import_MapsPersonaSecretAndTeamNames(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var dev = await app.CreateWorkspaceAsync();
        var prod = await app.CreateWorkspaceAsync();
        await CreateRichAsync(dev, "dev-bot", "dev-team");
        await prod.CreatePersonaAsync("prod-bot");
        var prodTeam = await CreateTeamAsync(prod, "prod-team");
        var document = await (await dev.Owner.GetAsync(dev.Workflows("/export"))).ReadObjectAsync();

        var unmapped = await (await prod.Owner.PostAsync(prod.Workflows("/import"), Api.JsonContent(document))).ReadObjectAsync();
        var error = unmapped["results"]![0]!["error"]!["errors"]!.AsObject();
        error.Select(e => e.Key).ShouldBe(["executingAgent", "steps[2].input.persona", "teamId"], ignoreOrder: true);

        document["mapping"] = new JsonObject
        {
            ["personas"] = new JsonObject { ["dev-bot"] = "prod-bot" },
            ["secrets"] = new JsonObject { ["crm-api-key"] = "crm-prod-key", ["crmToken"] = "crmProdToken", ["crm-token"] = "crm-prod-token", ["git-token"] = "git-prod-token" },
            ["teams"] = new JsonObject { ["dev-team"] = "prod-team" },
        };
        var mapped = await prod.Owner.PostAsync(prod.Workflows("/import"), Api.JsonContent(document));

        await mapped.ShouldBeAsync(HttpStatusCode.OK);
        ((string)(await mapped.ReadObjectAsync())["results"]![0]!["action"]!).ShouldBe("create");
        var imported = await prod.GetWorkflowAsync("rich");
        ((string)imported["executingAgent"]!).ShouldBe("prod-bot");
        ((string)imported["steps"]![2]!["input"]!["persona"]!).ShouldBe("prod-bot");
        ((string)imported["teamId"]!).ShouldBe(prodTeam);
        ((string)imported["credentials"]!["crm"]!).ShouldBe("crm-prod-key");
        ((string)imported["repository"]!["repoTokenSecret"]!).ShouldBe("git-prod-token");
        ((string)imported["steps"]![0]!["input"]!["headers"]!["Authorization"]!).ShouldBe("Bearer {{ secrets.crmProdToken }}");
        ((string)imported["steps"]![0]!["input"]!["headers"]!["X-Other"]!).ShouldBe("{{ secrets['crm-prod-token'] }}");
        WorkflowApi.Names(await (await prod.Owner.GetAsync(prod.Workflows("?persona=prod-bot"))).ReadObjectAsync()).ShouldBe(["rich"]);
    }

    [Theory, AllDatabases]
    public async Task Import_SecretMapping_RenamesOnlyTheName_AndQuotesANewNameThatIsNoIdentifier(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var dev = await app.CreateWorkspaceAsync();
        var prod = await app.CreateWorkspaceAsync();
        var body = WorkflowApi.Body("short-names");
        body["steps"]![0]!["input"]!["headers"] = new JsonObject { ["Authorization"] = "Bearer {{ secrets.s }}", ["X-Other"] = "{{ secrets.tok }}-{{ secrets['s'] }}" };
        await (await dev.Owner.PostAsync(dev.Workflows(), Api.JsonContent(body))).ShouldBeAsync(HttpStatusCode.Created);
        var document = await (await dev.Owner.GetAsync(dev.Workflows("/export"))).ReadObjectAsync();
        document["mapping"] = new JsonObject { ["secrets"] = new JsonObject { ["s"] = "short-key", ["tok"] = "token2" } };

        await (await prod.Owner.PostAsync(prod.Workflows("/import"), Api.JsonContent(document))).ShouldBeAsync(HttpStatusCode.OK);

        var headers = (await prod.GetWorkflowAsync("short-names"))["steps"]![0]!["input"]!["headers"]!;
        // A secret called s once turned "secrets.s" into "short-keyecrets.short-key": only the name is renamed.
        ((string)headers["Authorization"]!).ShouldBe("Bearer {{ secrets['short-key'] }}");
        ((string)headers["X-Other"]!).ShouldBe("{{ secrets.token2 }}-{{ secrets['short-key'] }}");
    }

    [Theory, AllDatabases]
    public async Task Import_MapsSigningSecretNames(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var dev = await app.CreateWorkspaceAsync();
        var prod = await app.CreateWorkspaceAsync();
        await dev.CreateWorkflowAsync("signed", new
        {
            type = "webhook",
            trigger = new { webhook = new { signature = new { style = "github", secrets = new[] { "gh-dev", "gh-dev-old" } } } },
            notifications = new { webhookUrl = "https://example.com/hook", signingSecret = "notify-dev" },
        });
        var document = await (await dev.Owner.GetAsync(dev.Workflows("/export"))).ReadObjectAsync();
        document["mapping"] = new JsonObject { ["secrets"] = new JsonObject { ["gh-dev"] = "gh-prod", ["notify-dev"] = "notify-prod" } };

        await (await prod.Owner.PostAsync(prod.Workflows("/import"), Api.JsonContent(document))).ShouldBeAsync(HttpStatusCode.OK);

        var imported = await prod.GetWorkflowAsync("signed");
        imported["trigger"]!["webhook"]!["signature"]!["secrets"]!.AsArray().Select(s => (string)s!).ShouldBe(["gh-prod", "gh-dev-old"]);
        ((string)imported["notifications"]!["signingSecret"]!).ShouldBe("notify-prod");
    }

    [Theory, AllDatabases]
    public async Task Import_DryRunAnswersTheDiff_ModesDecideWhatHappens(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        await workspace.CreateWorkflowAsync("same");
        await workspace.CreateWorkflowAsync("changing");
        var items = new JsonArray(
            WorkflowApi.Body("same"),
            WorkflowApi.Body("changing", new { description = "New words.", isActive = true }),
            WorkflowApi.Body("fresh"),
            WorkflowApi.Body("Bad Name"),
            WorkflowApi.Body("fresh"));

        var dryRun = await (await workspace.Owner.PostAsync(workspace.Workflows("/import?mode=upsert&dryRun=true"), Api.JsonContent(items))).ReadObjectAsync();

        ((bool)dryRun["dryRun"]!).ShouldBeTrue();
        var results = dryRun["results"]!.AsArray();
        results.Select(r => (string)r!["action"]!).ShouldBe(["unchanged", "update", "create", "error", "error"]);
        var diff = results[1]!["changes"]!.AsArray().ToDictionary(c => (string)c!["path"]!, c => c!.AsObject());
        diff.Keys.ShouldBe(["description", "isActive"], ignoreOrder: true);
        ((string)diff["description"]["after"]!).ShouldBe("New words.");
        ((int)results[3]!["status"]!).ShouldBe(422);
        ((int)results[4]!["status"]!).ShouldBe(409);
        ((int)(await workspace.GetWorkflowAsync("changing"))["version"]!).ShouldBe(1);
        await (await workspace.Owner.GetAsync(workspace.Workflows("/fresh"))).ShouldBeProblemAsync(HttpStatusCode.NotFound);

        var createOnly = await (await workspace.Owner.PostAsync(workspace.Workflows("/import"), Api.JsonContent(new JsonArray(WorkflowApi.Body("changing"), WorkflowApi.Body("fresh"))))).ReadObjectAsync();
        createOnly["results"]!.AsArray().Select(r => (int)r!["status"]!).ShouldBe([409, 201]);
        var upsert = await (await workspace.Owner.PostAsync(workspace.Workflows("/import?mode=upsert"), Api.JsonContent(items))).ReadObjectAsync();
        upsert["summary"]!.ToJsonString().ShouldBe("""{"create":0,"update":1,"unchanged":2,"error":2}""");
        ((bool)(await workspace.GetWorkflowAsync("changing"))["isActive"]!).ShouldBeTrue();
    }

    [Theory, AllDatabases]
    public async Task Import_UnreadableBodies_AreRefusedWhole(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        var bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n" +
            "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n";

        foreach (var (body, mediaType) in new[] { ("workflows: [", "application/yaml"), (bomb, "text/yaml"), ("[{", "application/json"), ("""{"name": "x"}""", "application/json"), ("""{"workflows": [], "mapping": {"personas": 5}}""", "application/json") })
        {
            var response = await workspace.Owner.PostAsync(workspace.Workflows("/import"), new StringContent(body, Encoding.UTF8, mediaType));
            (await response.ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity)).Errors!.Keys.ShouldHaveSingleItem().ShouldStartWith(body.StartsWith("""{"workflows""", StringComparison.Ordinal) ? "mapping" : "body");
        }

        await (await workspace.Owner.PostAsync(workspace.Workflows("/import"), new StringContent("x", Encoding.UTF8, "text/csv"))).ShouldBeProblemAsync(HttpStatusCode.UnsupportedMediaType);
        await (await workspace.Owner.PostAsync(workspace.Workflows("/import?mode=merge"), Api.JsonContent(new JsonArray()))).ShouldBeProblemAsync(HttpStatusCode.BadRequest);
        ((int)(await (await workspace.Owner.GetAsync(workspace.Workflows("?status=all"))).ReadObjectAsync())["count"]!).ShouldBe(0);
    }

    [Theory, AllDatabases]
    public async Task Import_LargerThanTheJsonBodyLimit_IsAccepted(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        var items = new JsonArray([.. Enumerable.Range(0, 25).Select(i => (JsonNode)WorkflowApi.Body($"big-{i:D2}", new { metadata = new { blob = new string('m', 60_000) } }))]);
        var body = items.ToJsonString();
        body.Length.ShouldBeGreaterThan(1024 * 1024);

        var response = await workspace.Owner.PostAsync(workspace.Workflows("/import"), new StringContent(body, Encoding.UTF8, "application/json"));

        await response.ShouldBeAsync(HttpStatusCode.OK);
        ((int)(await response.ReadObjectAsync())["summary"]!["create"]!).ShouldBe(25);
    }
}
