using System.Net;
using System.Text.Json.Nodes;
using Cadre.Storage;

namespace Cadre.Server.Tests.Personas;

public sealed class PersonaListTests
{
    private static async Task<TestWorkspace> SeedAsync(CadreApp app)
    {
        var workspace = await app.CreateWorkspaceAsync();
        await workspace.CreatePersonaAsync("billing-helper", new
        {
            displayName = "Penny Invoice",
            description = "Sorts out refunds and invoices.",
            instructions = "You reconcile ledgers for {{ params.region }}.",
            departments = new[] { "Finance" },
            tags = new[] { "billing", "tier-1" },
            parameters = new object[] { new { name = "region", type = "string", @default = "EU" } },
        });
        await workspace.CreatePersonaAsync("triage-bot", new
        {
            displayName = "Trevor Triage",
            description = "Routes incoming tickets.",
            instructions = "Classify every ticket by urgency.",
            departments = new[] { "Support" },
            tags = new[] { "tier-1" },
            flags = new[] { "experimental" },
            model = new { provider = "anthropic", model = "claude-sonnet-4-5" },
        });
        await workspace.CreatePersonaAsync("security-reviewer", new
        {
            displayName = "Ada Audit",
            description = "Reviews pull requests for vulnerabilities.",
            instructions = "Look for injection, secrets and unsafe deserialisation.",
            departments = new[] { "Engineering", "Support" },
            tags = new[] { "security" },
            model = new { provider = "anthropic", model = "claude-opus-4-1" },
        });
        await workspace.CreatePersonaAsync("release-writer", new
        {
            displayName = "Rhea Notes",
            description = "Writes release notes.",
            instructions = "Summarise merged changes for customers.",
            departments = new[] { "Engineering" },
            flags = new[] { "disabled" },
            model = new { provider = "ollama", model = "llama3.1" },
        });
        return workspace;
    }

    private static async Task<List<string>> NamesAsync(TestWorkspace workspace, string query)
    {
        var response = await workspace.Owner.GetAsync(workspace.Path("?" + query));
        await response.ShouldBeAsync(HttpStatusCode.OK);
        return PersonaApi.Names(await response.ReadObjectAsync());
    }

    [Theory, AllDatabases]
    public async Task Search_MatchesNameDisplayNameDescriptionAndInstructions_ByWordPrefix(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await SeedAsync(app);

        (await NamesAsync(workspace, "q=triage")).ShouldBe(["triage-bot"]);
        (await NamesAsync(workspace, "q=penny")).ShouldBe(["billing-helper"]);
        (await NamesAsync(workspace, "q=refunds")).ShouldBe(["billing-helper"]);
        (await NamesAsync(workspace, "q=ledg")).ShouldBe(["billing-helper"]);
        (await NamesAsync(workspace, "q=REVIEW")).ShouldBe(["security-reviewer"]);
        (await NamesAsync(workspace, "q=release%20customers")).ShouldBe(["release-writer"]);
        (await NamesAsync(workspace, "q=release%20ledgers")).ShouldBeEmpty();
        (await NamesAsync(workspace, "q=nothing-like-this")).ShouldBeEmpty();
        // Words are matched, not operators: quotes, stars and boolean words are plain text.
        (await NamesAsync(workspace, "q=%22tickets%22%20OR%20*")).ShouldBeEmpty();
        (await NamesAsync(workspace, "q=%22tickets%22")).ShouldBe(["triage-bot"]);
        (await NamesAsync(workspace, "q=%20%20")).Count.ShouldBe(4);
    }

    [Theory, AllDatabases]
    public async Task Search_FollowsEditsAndDeletes_AndStaysInItsWorkspace(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await SeedAsync(app);
        var other = await SeedAsync(app);

        await (await workspace.Owner.PatchJsonAsync(workspace.Path("/triage-bot"), new { instructions = "Escalate outages quickly." })).ShouldBeAsync(HttpStatusCode.OK);
        await (await workspace.Owner.DeleteAsync(workspace.Path("/release-writer"))).ShouldBeAsync(HttpStatusCode.OK);

        (await NamesAsync(workspace, "q=outages")).ShouldBe(["triage-bot"]);
        (await NamesAsync(workspace, "q=urgency")).ShouldBeEmpty();
        (await NamesAsync(workspace, "q=release")).ShouldBeEmpty();
        (await NamesAsync(workspace, "q=release&status=deleted")).ShouldBe(["release-writer"]);
        (await NamesAsync(other, "q=outages")).ShouldBeEmpty();
        (await NamesAsync(other, "q=urgency")).ShouldBe(["triage-bot"]);

        await (await workspace.Owner.DeleteAsync(workspace.Path("/triage-bot?permanent=true"))).ShouldBeAsync(HttpStatusCode.NoContent);
        (await NamesAsync(workspace, "q=outages&status=all")).ShouldBeEmpty();
    }

    [Theory, AllDatabases]
    public async Task Filters_CombineWithEachOtherAndWithSearch(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await SeedAsync(app);

        (await NamesAsync(workspace, "department=support&sort=name")).ShouldBe(["security-reviewer", "triage-bot"]);
        (await NamesAsync(workspace, "department=Support&department=engineering")).ShouldBe(["security-reviewer"]);
        (await NamesAsync(workspace, "tag=tier-1&sort=name")).ShouldBe(["billing-helper", "triage-bot"]);
        (await NamesAsync(workspace, "flag=experimental")).ShouldBe(["triage-bot"]);
        (await NamesAsync(workspace, "parameter=region")).ShouldBe(["billing-helper"]);
        (await NamesAsync(workspace, "provider=anthropic&sort=name")).ShouldBe(["security-reviewer", "triage-bot"]);
        (await NamesAsync(workspace, "provider=anthropic&model=claude-opus-4-1")).ShouldBe(["security-reviewer"]);
        (await NamesAsync(workspace, "tag=tier-1&q=tickets")).ShouldBe(["triage-bot"]);
        (await NamesAsync(workspace, "tag=unknown")).ShouldBeEmpty();
    }

    [Theory, AllDatabases]
    public async Task Sort_ByEachKey_InBothDirections(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await SeedAsync(app);
        var creation = new[] { "billing-helper", "triage-bot", "security-reviewer", "release-writer" };

        (await NamesAsync(workspace, "")).ShouldBe(creation.Reverse());
        (await NamesAsync(workspace, "sort=createdAt")).ShouldBe(creation);
        (await NamesAsync(workspace, "sort=name")).ShouldBe(creation.Order(StringComparer.Ordinal));
        (await NamesAsync(workspace, "sort=-name")).ShouldBe(creation.Order(StringComparer.Ordinal).Reverse());
        (await NamesAsync(workspace, "sort=displayName")).ShouldBe(["security-reviewer", "billing-helper", "release-writer", "triage-bot"]);

        await (await workspace.Owner.PatchJsonAsync(workspace.Path("/billing-helper"), new { description = "Touched last." })).ShouldBeAsync(HttpStatusCode.OK);
        (await NamesAsync(workspace, "sort=-updatedAt")).First().ShouldBe("billing-helper");
        (await NamesAsync(workspace, "sort=updatedAt")).Last().ShouldBe("billing-helper");
    }

    [Theory, AllDatabases]
    public async Task Paging_WalksEveryMatch_OnceEach_WithTheTotalCount(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        var bulk = await workspace.Owner.PostJsonAsync(workspace.Path("/bulk-create"), new
        {
            items = Enumerable.Range(0, 23).Select(i => new { name = $"agent-{i:D2}", displayName = $"Agent {(i * 7) % 23:D2}", tags = i % 2 == 0 ? new[] { "even" } : [] }),
        });
        await bulk.ShouldBeAsync(HttpStatusCode.OK);

        foreach (var sort in new[] { "name", "-displayName", "-createdAt", "updatedAt" })
        {
            var seen = new List<string>();
            string? next = workspace.Path($"?limit=5&tag=even&sort={sort}");
            while (next is not null)
            {
                var page = await (await workspace.Owner.GetAsync(next)).ReadObjectAsync();
                ((int)page["count"]!).ShouldBe(12);
                page["results"]!.AsArray().Count.ShouldBeLessThanOrEqualTo(5);
                seen.AddRange(PersonaApi.Names(page));
                next = (string?)page["next"];
            }

            seen.Count.ShouldBe(12, sort);
            seen.Distinct().Count().ShouldBe(12, sort);
        }
    }

    [Theory, AllDatabases]
    public async Task BadQueryParameters_Return400NamingThem(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await SeedAsync(app);
        var byName = await (await workspace.Owner.GetAsync(workspace.Path("?limit=1&sort=name"))).ReadObjectAsync();
        var cursor = new Uri((string)byName["next"]!).Query.Split("cursor=")[1];

        (await (await workspace.Owner.GetAsync(workspace.Path("?sort=size"))).ShouldBeProblemAsync(HttpStatusCode.BadRequest)).Errors!.Keys.ShouldBe(["sort"]);
        (await (await workspace.Owner.GetAsync(workspace.Path("?status=archived"))).ShouldBeProblemAsync(HttpStatusCode.BadRequest)).Errors!.Keys.ShouldBe(["status"]);
        (await (await workspace.Owner.GetAsync(workspace.Path($"?sort=-updatedAt&cursor={cursor}"))).ShouldBeProblemAsync(HttpStatusCode.BadRequest)).Errors!.Keys.ShouldBe(["cursor"]);
        (await (await workspace.Owner.GetAsync(workspace.Path("/export?format=xml"))).ShouldBeProblemAsync(HttpStatusCode.BadRequest)).Errors!.Keys.ShouldBe(["format"]);
    }

    [Theory, AllDatabases]
    public async Task ListItems_AreSummaries_WithActors(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await SeedAsync(app);

        var page = await (await workspace.Owner.GetAsync(workspace.Path("?q=triage"))).ReadObjectAsync();

        var item = page["results"]![0]!.AsObject();
        ((string)item["displayName"]!).ShouldBe("Trevor Triage");
        ((string)item["provider"]!).ShouldBe("anthropic");
        item["flags"]!.AsArray().Select(f => (string)f!).ShouldBe(["experimental"]);
        ((string?)item["updatedBy"]?["kind"]).ShouldBe("service_account", item.ToJsonString());
        item.ContainsKey("instructions").ShouldBeFalse("a list carries summaries, not whole prompts");
        JsonNode.DeepEquals(item["createdBy"], item["updatedBy"]).ShouldBeTrue();
    }
}
