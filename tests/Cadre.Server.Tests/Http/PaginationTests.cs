using System.Net;
using System.Text.Json.Nodes;
using Cadre.Storage;

namespace Cadre.Server.Tests.Http;

public sealed class PaginationTests
{
    [Theory, AllDatabases]
    public async Task Pages_WithInsertsBetweenRequests_NeitherRepeatNorSkip(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        await CreateViewerKeysAsync(workspace, 6);

        var before = await ListAllIdsAsync(workspace);
        before.Count.ShouldBe(7);

        var first = await GetPageAsync(workspace.Owner, $"/api/v1/workspaces/{workspace.Name}/api-keys?limit=3");
        // Keys created between reading page one and page two are newer than the cursor: they must not shift page two.
        await workspace.Owner.CreateKeyAsync(workspace.Name, "viewer");
        await workspace.Owner.CreateKeyAsync(workspace.Name, "editor");
        var second = await GetPageAsync(workspace.Owner, (string)first["next"]!);
        var third = await GetPageAsync(workspace.Owner, (string)second["next"]!);

        Ids(first).ShouldBe(before[..3]);
        Ids(second).ShouldBe(before[3..6]);
        Ids(third).ShouldBe(before[6..]);
        third["next"].ShouldBeNull();
        ((int)third["count"]!).ShouldBe(9);
        first["previous"].ShouldBeNull();
    }

    [Theory, AllDatabases]
    public async Task Previous_FromSecondPage_ReturnsFirstPage(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        await CreateViewerKeysAsync(workspace, 4);

        var first = await GetPageAsync(workspace.Owner, $"/api/v1/workspaces/{workspace.Name}/api-keys?limit=2");
        var second = await GetPageAsync(workspace.Owner, (string)first["next"]!);
        var back = await GetPageAsync(workspace.Owner, (string)second["previous"]!);

        Ids(back).ShouldBe(Ids(first));
        back["previous"].ShouldBeNull();
        ((string)back["next"]!).ShouldNotBeNull();
    }

    [Theory, AllDatabases]
    public async Task Links_KeepFiltersAndLimit(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        await CreateViewerKeysAsync(workspace, 3);

        var first = await GetPageAsync(workspace.Owner, $"/api/v1/workspaces/{workspace.Name}/api-keys?role=viewer&limit=2");
        var next = new Uri((string)first["next"]!);

        next.IsAbsoluteUri.ShouldBeTrue();
        next.Query.ShouldContain("role=viewer");
        next.Query.ShouldContain("limit=2");
        var second = await GetPageAsync(workspace.Owner, next.ToString());
        Ids(second).Count.ShouldBe(1);
        second["results"]!.AsArray().ShouldAllBe(k => (string)k!["role"]! == "viewer");
    }

    [Theory, AllDatabases]
    public async Task DefaultLimit_Is50(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        for (var i = 0; i < 3; i++)
        {
            await app.CreateWorkspaceAsync();
        }

        using var admin = app.AdminClient();
        var page = await GetPageAsync(admin, "/api/v1/workspaces");

        Ids(page).Count.ShouldBe(Math.Min(50, (int)page["count"]!));
    }

    [Theory]
    [AllDatabases("limit=0", "limit")]
    [AllDatabases("limit=101", "limit")]
    [AllDatabases("limit=-5", "limit")]
    [AllDatabases("limit=ten", "limit")]
    [AllDatabases("cursor=not-a-cursor", "cursor")]
    [AllDatabases("cursor=eyJrIjoxfQ", "cursor")]
    [AllDatabases("limit=500&cursor=%25%25", "limit,cursor")]
    public async Task BadPagingParameters_Return400NamingEach(DatabaseKind db, string query, string fields)
    {
        var app = await SharedApps.Get(db);
        using var admin = app.AdminClient();

        var response = await admin.GetAsync($"/api/v1/workspaces?{query}");

        (await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest)).Errors!.Keys.ShouldBe(fields.Split(','), ignoreOrder: true);
    }

    private static async Task CreateViewerKeysAsync(TestWorkspace workspace, int count)
    {
        for (var i = 0; i < count; i++)
        {
            await workspace.Owner.CreateKeyAsync(workspace.Name, "viewer");
        }
    }

    private static async Task<List<string>> ListAllIdsAsync(TestWorkspace workspace)
    {
        var page = await GetPageAsync(workspace.Owner, $"/api/v1/workspaces/{workspace.Name}/api-keys?limit=100");
        return Ids(page);
    }

    private static async Task<JsonObject> GetPageAsync(HttpClient client, string url)
    {
        var response = await client.GetAsync(url);
        await response.ShouldBeAsync(HttpStatusCode.OK);
        return await response.ReadObjectAsync();
    }

    private static List<string> Ids(JsonObject page) => page["results"]!.AsArray().Select(item => (string)item!["id"]!).ToList();
}
