using System.Net;
using System.Text.Json.Nodes;
using Cadre.Storage;

namespace Cadre.Server.Tests.Workspaces;

public sealed class WorkspaceEndpointTests
{
    [Theory, AllDatabases]
    public async Task Create_ValidRequest_Returns201WithLocationETagAndBody(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        using var admin = app.AdminClient();
        var name = Api.UniqueName("acme");

        var response = await admin.PostJsonAsync("/api/v1/workspaces", new { name, displayName = "Acme Inc", settings = new { timeZone = "Europe/Paris" } });

        await response.ShouldBeAsync(HttpStatusCode.Created);
        response.Headers.Location!.ToString().ShouldBe($"/api/v1/workspaces/{name}");
        response.Headers.ETag!.Tag.ShouldBe("\"1\"");
        var body = await response.ReadObjectAsync();
        ((string)body["id"]!).ShouldStartWith("ws_");
        ((string)body["name"]!).ShouldBe(name);
        ((string)body["displayName"]!).ShouldBe("Acme Inc");
        ((string)body["settings"]!["timeZone"]!).ShouldBe("Europe/Paris");
        ((int)body["version"]!).ShouldBe(1);
        ((string)body["createdAt"]!).ShouldEndWith("Z");
    }

    [Theory, AllDatabases]
    public async Task Create_WithoutDisplayName_UsesName(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        using var admin = app.AdminClient();
        var name = Api.UniqueName();

        var body = await (await admin.PostJsonAsync("/api/v1/workspaces", new { name })).ReadObjectAsync();

        ((string)body["displayName"]!).ShouldBe(name);
        body["settings"]!.AsObject().Count.ShouldBe(0);
    }

    [Theory]
    [AllDatabases("")]
    [AllDatabases("ab")]
    [AllDatabases("Upper")]
    [AllDatabases("-leading")]
    [AllDatabases("trailing-")]
    [AllDatabases("under_score")]
    [AllDatabases("spa ce")]
    [AllDatabases("newline\n")]
    [AllDatabases("this-name-is-much-too-long-for-a-workspace-slug-because-it-has-64")]
    public async Task Create_InvalidName_Returns422NamingTheField(DatabaseKind db, string name)
    {
        var app = await SharedApps.Get(db);
        using var admin = app.AdminClient();

        var response = await admin.PostJsonAsync("/api/v1/workspaces", new { name });

        var problem = await response.ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity);
        problem.Errors!.Keys.ShouldBe(["name"]);
    }

    [Theory, AllDatabases]
    public async Task Create_ManyInvalidFields_NamesEachOne(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        using var admin = app.AdminClient();

        var response = await admin.PostJsonAsync("/api/v1/workspaces", new { name = "X", displayName = "tab\there" });

        var problem = await response.ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity);
        problem.Errors!.Keys.ShouldBe(["name", "displayName"], ignoreOrder: true);
    }

    [Theory, AllDatabases]
    public async Task Create_SettingsOver64KiB_Returns422(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        using var admin = app.AdminClient();

        var response = await admin.PostJsonAsync("/api/v1/workspaces", new { name = Api.UniqueName(), settings = new { blob = new string('x', 70_000) } });

        (await response.ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity)).Errors!.Keys.ShouldBe(["settings"]);
    }

    [Theory, AllDatabases]
    public async Task Create_TakenName_Returns409AndChangesNothing(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        using var admin = app.AdminClient();

        var response = await admin.PostJsonAsync("/api/v1/workspaces", new { workspace.Name, displayName = "Other" });

        (await response.ShouldBeProblemAsync(HttpStatusCode.Conflict)).Detail!.ShouldContain(workspace.Name);
        var current = await (await admin.GetAsync($"/api/v1/workspaces/{workspace.Name}")).ReadObjectAsync();
        ((string)current["displayName"]!).ShouldBe(workspace.Name);
        ((string)current["id"]!).ShouldBe(workspace.Id);
    }

    [Theory, AllDatabases]
    public async Task Create_WithWorkspaceOwnerKey_Returns403(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();

        var response = await workspace.Owner.PostJsonAsync("/api/v1/workspaces", new { name = Api.UniqueName() });

        await response.ShouldBeProblemAsync(HttpStatusCode.Forbidden);
    }

    [Theory, AllDatabases]
    public async Task Get_ExistingWorkspace_ReturnsItWithETag(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();

        var response = await workspace.Owner.GetAsync($"/api/v1/workspaces/{workspace.Name}");

        await response.ShouldBeAsync(HttpStatusCode.OK);
        response.Headers.ETag!.Tag.ShouldBe("\"1\"");
        ((string)(await response.ReadObjectAsync())["id"]!).ShouldBe(workspace.Id);
    }

    [Theory, AllDatabases]
    public async Task Get_UnknownWorkspace_Returns404(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        using var admin = app.AdminClient();

        var response = await admin.GetAsync("/api/v1/workspaces/no-such-workspace");

        (await response.ShouldBeProblemAsync(HttpStatusCode.NotFound)).Detail!.ShouldContain("no-such-workspace");
    }

    [Theory, AllDatabases]
    public async Task Get_OtherWorkspacesKey_Returns404NotForbidden(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var mine = await app.CreateWorkspaceAsync();
        var theirs = await app.CreateWorkspaceAsync();

        var response = await mine.Owner.GetAsync($"/api/v1/workspaces/{theirs.Name}");

        var problem = await response.ShouldBeProblemAsync(HttpStatusCode.NotFound);
        var unknown = await (await mine.Owner.GetAsync("/api/v1/workspaces/never-existed")).ShouldBeProblemAsync(HttpStatusCode.NotFound);
        problem.Title.ShouldBe(unknown.Title);
    }

    [Theory, AllDatabases]
    public async Task List_WorkspaceKey_SeesOnlyItsOwnWorkspace(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var mine = await app.CreateWorkspaceAsync();
        await app.CreateWorkspaceAsync();

        var page = await (await mine.Owner.GetAsync("/api/v1/workspaces")).ReadObjectAsync();

        ((int)page["count"]!).ShouldBe(1);
        ((string)page["results"]![0]!["name"]!).ShouldBe(mine.Name);
    }

    [Theory, AllDatabases]
    public async Task List_InstanceAdmin_SeesNewestFirst(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var first = await app.CreateWorkspaceAsync();
        var second = await app.CreateWorkspaceAsync();
        using var admin = app.AdminClient();

        var page = await (await admin.GetAsync("/api/v1/workspaces?limit=100")).ReadObjectAsync();

        var names = page["results"]!.AsArray().Select(w => (string)w!["name"]!).ToList();
        names.IndexOf(second.Name).ShouldBeLessThan(names.IndexOf(first.Name));
        ((int)page["count"]!).ShouldBeGreaterThanOrEqualTo(2);
    }

    [Theory, AllDatabases]
    public async Task Update_DisplayNameAndSettings_MergesAndBumpsVersion(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        await workspace.Owner.PatchJsonAsync($"/api/v1/workspaces/{workspace.Name}", new { settings = new { keep = 1, drop = 2, nested = new { a = 1, b = 2 } } });

        var response = await workspace.Owner.PatchJsonAsync(
            $"/api/v1/workspaces/{workspace.Name}",
            "{\"displayName\":\"Renamed\",\"settings\":{\"drop\":null,\"nested\":{\"b\":null,\"c\":3},\"added\":true}}",
            ifMatch: "\"2\"");

        await response.ShouldBeAsync(HttpStatusCode.OK);
        response.Headers.ETag!.Tag.ShouldBe("\"3\"");
        var body = await response.ReadObjectAsync();
        ((string)body["displayName"]!).ShouldBe("Renamed");
        body["settings"]!.ToJsonString().ShouldBe("""{"keep":1,"nested":{"a":1,"c":3},"added":true}""");
        ((int)body["version"]!).ShouldBe(3);
    }

    [Theory, AllDatabases]
    public async Task Update_MergePatchContentType_IsAccepted(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        var request = new HttpRequestMessage(HttpMethod.Patch, $"/api/v1/workspaces/{workspace.Name}")
        {
            Content = new StringContent("""{"displayName":"Merged"}""", System.Text.Encoding.UTF8, "application/merge-patch+json"),
        };

        var response = await workspace.Owner.SendAsync(request);

        await response.ShouldBeAsync(HttpStatusCode.OK);
    }

    [Theory, AllDatabases]
    public async Task Update_Rename_MovesTheWorkspaceToItsNewName(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        var newName = Api.UniqueName("renamed");

        await (await workspace.Owner.PatchJsonAsync($"/api/v1/workspaces/{workspace.Name}", new { name = newName })).ShouldBeAsync(HttpStatusCode.OK);

        await (await workspace.Owner.GetAsync($"/api/v1/workspaces/{newName}")).ShouldBeAsync(HttpStatusCode.OK);
        await (await workspace.Owner.GetAsync($"/api/v1/workspaces/{workspace.Name}")).ShouldBeProblemAsync(HttpStatusCode.NotFound);
    }

    [Theory, AllDatabases]
    public async Task Update_RenameToTakenName_Returns409AndChangesNothing(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        var other = await app.CreateWorkspaceAsync();
        using var admin = app.AdminClient();

        var response = await admin.PatchJsonAsync($"/api/v1/workspaces/{workspace.Name}", new { name = other.Name, displayName = "Changed" });

        await response.ShouldBeProblemAsync(HttpStatusCode.Conflict);
        var current = await (await admin.GetAsync($"/api/v1/workspaces/{workspace.Name}")).ReadObjectAsync();
        ((string)current["displayName"]!).ShouldBe(workspace.Name);
        ((int)current["version"]!).ShouldBe(1);
    }

    [Theory]
    [AllDatabases("\"1\"", HttpStatusCode.OK)]
    [AllDatabases("*", HttpStatusCode.OK)]
    [AllDatabases("\"7\", \"1\"", HttpStatusCode.OK)]
    [AllDatabases("\"2\"", HttpStatusCode.PreconditionFailed)]
    [AllDatabases("W/\"1\"", HttpStatusCode.PreconditionFailed)]
    [AllDatabases("not-an-etag", HttpStatusCode.PreconditionFailed)]
    public async Task Update_IfMatch_AppliesOnlyWhenCurrent(DatabaseKind db, string ifMatch, HttpStatusCode expected)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();

        var response = await workspace.Owner.PatchJsonAsync($"/api/v1/workspaces/{workspace.Name}", new { displayName = "Changed" }, ifMatch);

        response.StatusCode.ShouldBe(expected, await response.Content.ReadAsStringAsync());
        var current = await (await workspace.Owner.GetAsync($"/api/v1/workspaces/{workspace.Name}")).ReadObjectAsync();
        ((string)current["displayName"]!).ShouldBe(expected == HttpStatusCode.OK ? "Changed" : workspace.Name);
    }

    [Theory, AllDatabases]
    public async Task Update_NothingChanged_KeepsVersion(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();

        var body = await (await workspace.Owner.PatchJsonAsync($"/api/v1/workspaces/{workspace.Name}", new { name = workspace.Name })).ReadObjectAsync();

        ((int)body["version"]!).ShouldBe(1);
    }

    [Theory, AllDatabases]
    public async Task Update_InvalidFields_Returns422AndChangesNothing(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();

        var response = await workspace.Owner.PatchJsonAsync($"/api/v1/workspaces/{workspace.Name}", new { name = "Bad Name", displayName = "ok" });

        (await response.ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity)).Errors!.Keys.ShouldBe(["name"]);
        var current = await (await workspace.Owner.GetAsync($"/api/v1/workspaces/{workspace.Name}")).ReadObjectAsync();
        ((int)current["version"]!).ShouldBe(1);
    }

    [Theory, AllDatabases]
    public async Task Delete_Owner_RemovesWorkspaceAndItsKeys(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        var viewerKey = await workspace.Owner.CreateKeyAsync(workspace.Name, "viewer");

        var response = await workspace.Owner.DeleteAsync($"/api/v1/workspaces/{workspace.Name}");

        await response.ShouldBeAsync(HttpStatusCode.NoContent);
        using var admin = app.AdminClient();
        await (await admin.GetAsync($"/api/v1/workspaces/{workspace.Name}")).ShouldBeProblemAsync(HttpStatusCode.NotFound);
        using var viewer = app.Client(viewerKey);
        await (await viewer.GetAsync("/api/v1/workspaces")).ShouldBeProblemAsync(HttpStatusCode.Unauthorized);
    }

    [Theory, AllDatabases]
    public async Task Delete_StaleIfMatch_Returns412AndKeepsWorkspace(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        var request = new HttpRequestMessage(HttpMethod.Delete, $"/api/v1/workspaces/{workspace.Name}");
        request.Headers.TryAddWithoutValidation("If-Match", "\"5\"");

        var response = await workspace.Owner.SendAsync(request);

        await response.ShouldBeProblemAsync(HttpStatusCode.PreconditionFailed);
        await (await workspace.Owner.GetAsync($"/api/v1/workspaces/{workspace.Name}")).ShouldBeAsync(HttpStatusCode.OK);
    }
}
