using System.Net;
using System.Text.Json.Nodes;
using Cadre.Storage;

namespace Cadre.Server.Tests.Personas;

public sealed class PersonaVersionTests
{
    [Theory, AllDatabases]
    public async Task EveryPublishedChange_IsAVersion_ListedNewestFirst(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        await workspace.CreatePersonaAsync("history", new { description = "one" });
        await (await workspace.Owner.PatchJsonAsync(workspace.Path("/history"), new { description = "two" })).ShouldBeAsync(HttpStatusCode.OK);
        await (await workspace.Owner.PatchJsonAsync(workspace.Path("/history"), new { description = "three", displayName = "History Three" })).ShouldBeAsync(HttpStatusCode.OK);

        var list = await (await workspace.Owner.GetAsync(workspace.Path("/history/versions"))).ReadObjectAsync();

        ((int)list["count"]!).ShouldBe(3);
        list["results"]!.AsArray().Select(v => (int)v!["version"]!).ShouldBe([3, 2, 1]);
        list["results"]!.AsArray().Select(v => (string)v!["change"]!).ShouldBe(["updated", "updated", "created"]);
        ((string)list["results"]![0]!["displayName"]!).ShouldBe("History Three");
        ((string)list["results"]![0]!["createdBy"]!["kind"]!).ShouldBe("service_account");

        var second = await (await workspace.Owner.GetAsync(workspace.Path("/history/versions/2"))).ReadObjectAsync();
        ((int)second["version"]!).ShouldBe(2);
        ((string)second["definition"]!["description"]!).ShouldBe("two");
        ((string)second["definition"]!["displayName"]!).ShouldBe("The history");

        var paged = await (await workspace.Owner.GetAsync(workspace.Path("/history/versions?limit=2"))).ReadObjectAsync();
        var rest = await (await workspace.Owner.GetAsync((string)paged["next"]!)).ReadObjectAsync();
        rest["results"]!.AsArray().Select(v => (int)v!["version"]!).ShouldBe([1]);
    }

    [Theory, AllDatabases]
    public async Task GetVersion_ThatDoesNotExist_Returns404(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        await workspace.CreatePersonaAsync("short-history");

        (await (await workspace.Owner.GetAsync(workspace.Path("/short-history/versions/2"))).ShouldBeProblemAsync(HttpStatusCode.NotFound)).Detail!.ShouldContain("version 1");
        await (await workspace.Owner.GetAsync(workspace.Path("/short-history/versions/0"))).ShouldBeProblemAsync(HttpStatusCode.NotFound);
        await (await workspace.Owner.GetAsync(workspace.Path("/short-history/versions/abc"))).ShouldBeProblemAsync(HttpStatusCode.NotFound);
    }

    [Theory, AllDatabases]
    public async Task Diff_ListsTheFieldsThatChanged(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        await workspace.CreatePersonaAsync("diffed", new { tags = new[] { "a" }, model = new { provider = "openai", model = "gpt-4o", temperature = 0.1 } });
        await (await workspace.Owner.PatchJsonAsync(workspace.Path("/diffed"), new
        {
            description = (string?)null,
            tags = new[] { "a", "b" },
            icon = "🤖",
            model = new { temperature = 0.5 },
        })).ShouldBeAsync(HttpStatusCode.OK);

        var response = await workspace.Owner.GetAsync(workspace.Path("/diffed/diff?from=1&to=2"));

        await response.ShouldBeAsync(HttpStatusCode.OK);
        var changes = (await response.ReadObjectAsync())["changes"]!.AsArray().ToDictionary(c => (string)c!["path"]!, c => c!.AsObject());
        changes.Keys.ShouldBe(["description", "icon", "model.temperature", "tags"], ignoreOrder: true);
        ((string)changes["description"]["op"]!).ShouldBe("removed");
        ((string)changes["description"]["before"]!).ShouldBe("Answers customer questions about billing.");
        ((string)changes["icon"]["op"]!).ShouldBe("added");
        ((string)changes["model.temperature"]["op"]!).ShouldBe("changed");
        ((double)changes["model.temperature"]["before"]!).ShouldBe(0.1);
        ((double)changes["model.temperature"]["after"]!).ShouldBe(0.5);
        changes["tags"]["after"]!.AsArray().Count.ShouldBe(2);

        var backwards = await (await workspace.Owner.GetAsync(workspace.Path("/diffed/diff?from=2&to=1"))).ReadObjectAsync();
        ((string)backwards["changes"]!.AsArray().Single(c => (string)c!["path"]! == "icon")!["op"]!).ShouldBe("removed");
        (await (await workspace.Owner.GetAsync(workspace.Path("/diffed/diff?from=1&to=1"))).ReadObjectAsync())["changes"]!.AsArray().ShouldBeEmpty();
    }

    [Theory, AllDatabases]
    public async Task Diff_BadVersions_AreRefused(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        await workspace.CreatePersonaAsync("undiffed");

        (await (await workspace.Owner.GetAsync(workspace.Path("/undiffed/diff?from=1"))).ShouldBeProblemAsync(HttpStatusCode.BadRequest)).Errors!.Keys.ShouldBe(["to"]);
        (await (await workspace.Owner.GetAsync(workspace.Path("/undiffed/diff?from=x&to=1"))).ShouldBeProblemAsync(HttpStatusCode.BadRequest)).Errors!.Keys.ShouldContain("from");
        (await (await workspace.Owner.GetAsync(workspace.Path("/undiffed/diff?from=1&to=9"))).ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity)).Errors!.Keys.ShouldBe(["to"]);
    }

    [Theory, AllDatabases]
    public async Task Revert_PublishesTheOldStateAsANewVersion_KeepingHistory(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        await workspace.CreatePersonaAsync("reverted", new { instructions = "Original prompt." });
        await (await workspace.Owner.PatchJsonAsync(workspace.Path("/reverted"), new { instructions = "Bad edit." })).ShouldBeAsync(HttpStatusCode.OK);

        var response = await workspace.Owner.PostJsonAsync(workspace.Path("/reverted/revert"), new { version = 1 });

        await response.ShouldBeAsync(HttpStatusCode.OK);
        response.Headers.ETag!.Tag.ShouldBe("\"3\"");
        var body = await response.ReadObjectAsync();
        ((string)body["instructions"]!).ShouldBe("Original prompt.");
        ((int)body["version"]!).ShouldBe(3);
        var versions = await (await workspace.Owner.GetAsync(workspace.Path("/reverted/versions"))).ReadObjectAsync();
        versions["results"]!.AsArray().Select(v => (string)v!["change"]!).ShouldBe(["reverted", "updated", "created"]);
        var kept = await (await workspace.Owner.GetAsync(workspace.Path("/reverted/versions/2"))).ReadObjectAsync();
        ((string)kept["definition"]!["instructions"]!).ShouldBe("Bad edit.");
    }

    [Theory, AllDatabases]
    public async Task Revert_UnhappyPaths(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        await workspace.CreatePersonaAsync("revert-guard");
        await (await workspace.Owner.PatchJsonAsync(workspace.Path("/revert-guard"), new { description = "second" })).ShouldBeAsync(HttpStatusCode.OK);

        (await (await workspace.Owner.PostJsonAsync(workspace.Path("/revert-guard/revert"), new { })).ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity)).Errors!.Keys.ShouldBe(["version"]);
        (await (await workspace.Owner.PostJsonAsync(workspace.Path("/revert-guard/revert"), new { version = 5 })).ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity)).Errors!.Keys.ShouldBe(["version"]);
        var stale = new HttpRequestMessage(HttpMethod.Post, workspace.Path("/revert-guard/revert")) { Content = Api.JsonContent(new { version = 1 }) };
        stale.Headers.TryAddWithoutValidation("If-Match", "\"1\"");
        await (await workspace.Owner.SendAsync(stale)).ShouldBeProblemAsync(HttpStatusCode.PreconditionFailed);
        ((int)(await workspace.GetPersonaAsync("revert-guard"))["version"]!).ShouldBe(2);
    }

    [Theory, AllDatabases]
    public async Task Draft_EditThenPublish_BecomesTheNextVersion(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        await workspace.CreatePersonaAsync("drafted");

        var started = await workspace.Owner.PostJsonAsync(workspace.Path("/drafted/draft"), new { expectedVersion = 1 });
        await started.ShouldBeAsync(HttpStatusCode.Created);
        var draft = await started.ReadObjectAsync();
        ((int)draft["version"]!).ShouldBe(1);
        ((int)draft["baseVersion"]!).ShouldBe(1);
        ((bool)draft["stale"]!).ShouldBeFalse();

        // A draft may be invalid while it is being edited; its errors say why it cannot be published yet.
        var invalid = await workspace.Owner.PatchJsonAsync(workspace.Path("/drafted/draft"), new { expectedVersion = 1, changes = new { instructions = "Hi {{ params.who }}" } });
        await invalid.ShouldBeAsync(HttpStatusCode.OK);
        var invalidDraft = await invalid.ReadObjectAsync();
        ((int)invalidDraft["version"]!).ShouldBe(2);
        invalidDraft["errors"]!.AsObject().Select(e => e.Key).ShouldBe(["instructions"]);
        (await (await workspace.Owner.PostAsync(workspace.Path("/drafted/draft/publish"), null)).ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity)).Errors!.Keys.ShouldBe(["instructions"]);

        var fixedDraft = await workspace.Owner.PatchJsonAsync(workspace.Path("/drafted/draft"),
            new { expectedVersion = 2, changes = new { parameters = new[] { new { name = "who", type = "string", @default = "you" } } } });
        (await fixedDraft.ReadObjectAsync())["errors"]!.AsObject().Count.ShouldBe(0);
        ((int)(await workspace.GetPersonaAsync("drafted"))["version"]!).ShouldBe(1, "a draft is not published until it is");

        var mine = await (await workspace.Owner.GetAsync(workspace.Path("/drafts"))).ReadObjectAsync();
        mine["results"]!.AsArray().Select(d => (string)d!["personaName"]!).ShouldBe(["drafted"]);

        var published = await workspace.Owner.PostAsync(workspace.Path("/drafted/draft/publish"), null);

        await published.ShouldBeAsync(HttpStatusCode.OK);
        var persona = await published.ReadObjectAsync();
        ((int)persona["version"]!).ShouldBe(2);
        ((string)persona["instructions"]!).ShouldBe("Hi {{ params.who }}");
        await (await workspace.Owner.GetAsync(workspace.Path("/drafted/draft"))).ShouldBeProblemAsync(HttpStatusCode.NotFound);
        (await (await workspace.Owner.GetAsync(workspace.Path("/drafts"))).ReadObjectAsync())["results"]!.AsArray().ShouldBeEmpty();
        var versions = await (await workspace.Owner.GetAsync(workspace.Path("/drafted/versions"))).ReadObjectAsync();
        ((string)versions["results"]![0]!["change"]!).ShouldBe("published");
    }

    [Theory, AllDatabases]
    public async Task Draft_StaleExpectedVersion_Returns409WithTheCurrentVersion(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        await workspace.CreatePersonaAsync("tabs");
        await (await workspace.Owner.PostAsync(workspace.Path("/tabs/draft"), null)).ShouldBeAsync(HttpStatusCode.Created);
        await (await workspace.Owner.PatchJsonAsync(workspace.Path("/tabs/draft"), new { expectedVersion = 1, changes = new { description = "tab one" } })).ShouldBeAsync(HttpStatusCode.OK);

        var stale = await workspace.Owner.PatchJsonAsync(workspace.Path("/tabs/draft"), new { expectedVersion = 1, changes = new { description = "tab two" } });

        await stale.ShouldBeProblemAsync(HttpStatusCode.Conflict);
        var problem = JsonNode.Parse(await stale.Content.ReadAsStringAsync())!;
        ((int)problem["currentVersion"]!).ShouldBe(2);
        var draft = await (await workspace.Owner.GetAsync(workspace.Path("/tabs/draft"))).ReadObjectAsync();
        ((string)draft["definition"]!["description"]!).ShouldBe("tab one");

        (await (await workspace.Owner.PatchJsonAsync(workspace.Path("/tabs/draft"), new { changes = new { } })).ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity))
            .Errors!.Keys.ShouldBe(["expectedVersion"]);
        await (await workspace.Owner.PostAsync(workspace.Path("/tabs/draft"), null)).ShouldBeProblemAsync(HttpStatusCode.Conflict);

        await (await workspace.Owner.PatchJsonAsync(workspace.Path("/tabs"), new { description = "published meanwhile" })).ShouldBeAsync(HttpStatusCode.OK);
        using var other = app.Client(await workspace.Owner.CreateKeyAsync(workspace.Name, "editor"));
        var startStale = await other.PostJsonAsync(workspace.Path("/tabs/draft"), new { expectedVersion = 1 });
        await startStale.ShouldBeProblemAsync(HttpStatusCode.Conflict);
        ((int)JsonNode.Parse(await startStale.Content.ReadAsStringAsync())!["currentVersion"]!).ShouldBe(2);
    }

    [Theory, AllDatabases]
    public async Task Publish_AfterSomeoneElsePublished_Is409UnlessForced(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        await workspace.CreatePersonaAsync("shared", new { description = "v1" });
        using var alice = app.Client(await workspace.Owner.CreateKeyAsync(workspace.Name, "editor"));
        using var bob = app.Client(await workspace.Owner.CreateKeyAsync(workspace.Name, "editor"));
        await (await alice.PostAsync(workspace.Path("/shared/draft"), null)).ShouldBeAsync(HttpStatusCode.Created);
        await (await bob.PostAsync(workspace.Path("/shared/draft"), null)).ShouldBeAsync(HttpStatusCode.Created);
        await (await alice.PatchJsonAsync(workspace.Path("/shared/draft"), new { expectedVersion = 1, changes = new { description = "alice" } })).ShouldBeAsync(HttpStatusCode.OK);
        await (await bob.PatchJsonAsync(workspace.Path("/shared/draft"), new { expectedVersion = 1, changes = new { description = "bob", icon = "🐝" } })).ShouldBeAsync(HttpStatusCode.OK);

        // Each editor sees only their own draft.
        ((string)(await (await alice.GetAsync(workspace.Path("/shared/draft"))).ReadObjectAsync())["definition"]!["description"]!).ShouldBe("alice");
        await (await alice.PostAsync(workspace.Path("/shared/draft/publish"), null)).ShouldBeAsync(HttpStatusCode.OK);

        var bobsDraft = await (await bob.GetAsync(workspace.Path("/shared/draft"))).ReadObjectAsync();
        ((bool)bobsDraft["stale"]!).ShouldBeTrue();
        ((int)bobsDraft["personaVersion"]!).ShouldBe(2);
        var refused = await bob.PostJsonAsync(workspace.Path("/shared/draft/publish"), new { });
        await refused.ShouldBeProblemAsync(HttpStatusCode.Conflict);
        ((int)JsonNode.Parse(await refused.Content.ReadAsStringAsync())!["currentVersion"]!).ShouldBe(2);
        ((string)(await workspace.GetPersonaAsync("shared"))["description"]!).ShouldBe("alice");

        var forced = await bob.PostJsonAsync(workspace.Path("/shared/draft/publish"), new { force = true });

        await forced.ShouldBeAsync(HttpStatusCode.OK);
        var persona = await forced.ReadObjectAsync();
        ((int)persona["version"]!).ShouldBe(3);
        ((string)persona["description"]!).ShouldBe("bob");
    }

    [Theory, AllDatabases]
    public async Task Draft_Discard_AndMissingDrafts(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        await workspace.CreatePersonaAsync("scratch");

        await (await workspace.Owner.GetAsync(workspace.Path("/scratch/draft"))).ShouldBeProblemAsync(HttpStatusCode.NotFound);
        await (await workspace.Owner.DeleteAsync(workspace.Path("/scratch/draft"))).ShouldBeProblemAsync(HttpStatusCode.NotFound);
        await (await workspace.Owner.PostAsync(workspace.Path("/scratch/draft/publish"), null)).ShouldBeProblemAsync(HttpStatusCode.NotFound);
        await (await workspace.Owner.PostAsync(workspace.Path("/scratch/draft"), null)).ShouldBeAsync(HttpStatusCode.Created);

        await (await workspace.Owner.DeleteAsync(workspace.Path("/scratch/draft"))).ShouldBeAsync(HttpStatusCode.NoContent);

        await (await workspace.Owner.GetAsync(workspace.Path("/scratch/draft"))).ShouldBeProblemAsync(HttpStatusCode.NotFound);
        ((int)(await workspace.GetPersonaAsync("scratch"))["version"]!).ShouldBe(1);
    }
}
