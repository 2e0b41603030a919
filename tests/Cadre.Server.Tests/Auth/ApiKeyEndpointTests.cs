using System.Net;
using Cadre.Storage;

namespace Cadre.Server.Tests.Auth;

public sealed class ApiKeyEndpointTests
{
    [Theory, AllDatabases]
    public async Task Create_ForServiceAccount_ShowsSecretOnceWithRecognisablePrefix(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        var account = await CreateAccountAsync(workspace, "editor");

        var response = await workspace.Owner.PostJsonAsync($"/api/v1/workspaces/{workspace.Name}/service-accounts/{account}/api-keys", new { name = "CI deploys" });

        await response.ShouldBeAsync(HttpStatusCode.Created);
        response.Headers.CacheControl!.NoStore.ShouldBeTrue();
        var created = await response.ReadObjectAsync();
        var secret = (string)created["key"]!;
        secret.ShouldStartWith("cadre_");
        secret.Length.ShouldBe(49);
        ((string)created["prefix"]!).ShouldBe(secret[..12]);
        ((string)created["role"]!).ShouldBe("editor");
        ((string)created["status"]!).ShouldBe("active");
        ((string)created["owner"]!["id"]!).ShouldBe(account);
        ((string)created["owner"]!["kind"]!).ShouldBe("service_account");
        response.Headers.Location!.ToString().ShouldBe($"/api/v1/workspaces/{workspace.Name}/api-keys/{created["id"]}");

        var fetched = await (await workspace.Owner.GetAsync(response.Headers.Location)).ReadObjectAsync();
        fetched.ContainsKey("key").ShouldBeFalse();
        fetched.ToJsonString().ShouldNotContain(secret[12..]);
        ((string)fetched["name"]!).ShouldBe("CI deploys");
    }

    [Theory, AllDatabases]
    public async Task Create_KeyWorks_AsBearerAndAsXApiKey(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        var key = await workspace.Owner.CreateKeyAsync(workspace.Name, "viewer");

        using var bearer = app.Client(key);
        await (await bearer.GetAsync($"/api/v1/workspaces/{workspace.Name}")).ShouldBeAsync(HttpStatusCode.OK);
        using var header = app.Client();
        header.DefaultRequestHeaders.Add("X-Api-Key", key);
        await (await header.GetAsync($"/api/v1/workspaces/{workspace.Name}")).ShouldBeAsync(HttpStatusCode.OK);
    }

    [Theory, AllDatabases]
    public async Task Use_RecordsLastUsedAt(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        var account = await CreateAccountAsync(workspace, "viewer");
        var created = await (await workspace.Owner.PostJsonAsync($"/api/v1/workspaces/{workspace.Name}/service-accounts/{account}/api-keys", new { name = "x" })).ReadObjectAsync();
        created["lastUsedAt"].ShouldBeNull();

        using var client = app.Client((string)created["key"]!);
        await (await client.GetAsync($"/api/v1/workspaces/{workspace.Name}")).ShouldBeAsync(HttpStatusCode.OK);

        var fetched = await (await workspace.Owner.GetAsync($"/api/v1/workspaces/{workspace.Name}/api-keys/{created["id"]}")).ReadObjectAsync();
        fetched["lastUsedAt"].ShouldNotBeNull();
    }

    [Theory]
    [AllDatabases("{}", "name")]
    [AllDatabases("""{"name":"x","role":"superuser"}""", "role")]
    [AllDatabases("""{"name":"  "}""", "name")]
    [AllDatabases("""{"name":"x","expiresAt":"2001-01-01T00:00:00Z"}""", "expiresAt")]
    [AllDatabases("""{"name":"x","role":"admin"}""", "role")]
    public async Task Create_InvalidFields_Returns422NamingEach(DatabaseKind db, string body, string fields)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        var account = await CreateAccountAsync(workspace, "editor");

        var response = await workspace.Owner.PostJsonAsync($"/api/v1/workspaces/{workspace.Name}/service-accounts/{account}/api-keys", body);

        var problem = await response.ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity);
        problem.Errors!.Keys.ShouldBe(fields.Split(','), ignoreOrder: true);
        var keys = await (await workspace.Owner.GetAsync($"/api/v1/workspaces/{workspace.Name}/api-keys")).ReadObjectAsync();
        ((int)keys["count"]!).ShouldBe(1);
    }

    [Theory, AllDatabases]
    public async Task Create_RoleAboveCreatorsOwn_Returns403(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        var ownerAccount = await CreateAccountAsync(workspace, "owner");
        using var admin = app.Client(await workspace.Owner.CreateKeyAsync(workspace.Name, "admin"));

        var response = await admin.PostJsonAsync($"/api/v1/workspaces/{workspace.Name}/service-accounts/{ownerAccount}/api-keys", new { name = "escalate" });

        (await response.ShouldBeProblemAsync(HttpStatusCode.Forbidden)).Detail!.ShouldContain("owner");
        await (await admin.PostJsonAsync($"/api/v1/workspaces/{workspace.Name}/service-accounts/{ownerAccount}/api-keys", new { name = "capped", role = "admin" }))
            .ShouldBeAsync(HttpStatusCode.Created);
    }

    [Theory, AllDatabases]
    public async Task Create_ForUnknownServiceAccount_Returns404(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        var other = await app.CreateWorkspaceAsync();
        var theirs = await CreateAccountAsync(other, "viewer");

        await (await workspace.Owner.PostJsonAsync($"/api/v1/workspaces/{workspace.Name}/service-accounts/{theirs}/api-keys", new { name = "x" }))
            .ShouldBeProblemAsync(HttpStatusCode.NotFound);
        await (await workspace.Owner.PostJsonAsync($"/api/v1/workspaces/{workspace.Name}/service-accounts/sa_nope/api-keys", new { name = "x" }))
            .ShouldBeProblemAsync(HttpStatusCode.NotFound);
    }

    [Theory, AllDatabases]
    public async Task Revoke_Key_StopsItAtOnceAndKeepsItListed(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        var account = await CreateAccountAsync(workspace, "editor");
        var created = await (await workspace.Owner.PostJsonAsync($"/api/v1/workspaces/{workspace.Name}/service-accounts/{account}/api-keys", new { name = "x" })).ReadObjectAsync();
        using var client = app.Client((string)created["key"]!);
        await (await client.GetAsync($"/api/v1/workspaces/{workspace.Name}")).ShouldBeAsync(HttpStatusCode.OK);

        var revoked = await workspace.Owner.DeleteAsync($"/api/v1/workspaces/{workspace.Name}/api-keys/{created["id"]}");

        await revoked.ShouldBeAsync(HttpStatusCode.OK);
        ((string)(await revoked.ReadObjectAsync())["status"]!).ShouldBe("revoked");
        (await (await client.GetAsync($"/api/v1/workspaces/{workspace.Name}")).ShouldBeProblemAsync(HttpStatusCode.Unauthorized)).Detail!.ShouldContain("revoked");
        var again = await workspace.Owner.DeleteAsync($"/api/v1/workspaces/{workspace.Name}/api-keys/{created["id"]}");
        await again.ShouldBeAsync(HttpStatusCode.OK);
        var listed = await (await workspace.Owner.GetAsync($"/api/v1/workspaces/{workspace.Name}/api-keys?status=revoked")).ReadObjectAsync();
        listed["results"]!.AsArray().Select(k => (string)k!["id"]!).ShouldBe([(string)created["id"]!]);
    }

    [Theory, AllDatabases]
    public async Task Revoke_HigherRoleKey_Returns403AndKeepsItWorking(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        using var admin = app.Client(await workspace.Owner.CreateKeyAsync(workspace.Name, "admin"));
        var owners = await (await admin.GetAsync($"/api/v1/workspaces/{workspace.Name}/api-keys?role=owner")).ReadObjectAsync();
        var ownerKeyId = (string)owners["results"]![0]!["id"]!;

        var response = await admin.DeleteAsync($"/api/v1/workspaces/{workspace.Name}/api-keys/{ownerKeyId}");

        await response.ShouldBeProblemAsync(HttpStatusCode.Forbidden);
        await (await workspace.Owner.GetAsync($"/api/v1/workspaces/{workspace.Name}")).ShouldBeAsync(HttpStatusCode.OK);
    }

    [Theory, AllDatabases]
    public async Task GetOrRevoke_KeyOfAnotherWorkspace_Returns404(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var mine = await app.CreateWorkspaceAsync();
        var theirs = await app.CreateWorkspaceAsync();
        var theirKeys = await (await theirs.Owner.GetAsync($"/api/v1/workspaces/{theirs.Name}/api-keys")).ReadObjectAsync();
        var theirKeyId = (string)theirKeys["results"]![0]!["id"]!;

        await (await mine.Owner.GetAsync($"/api/v1/workspaces/{mine.Name}/api-keys/{theirKeyId}")).ShouldBeProblemAsync(HttpStatusCode.NotFound);
        await (await mine.Owner.DeleteAsync($"/api/v1/workspaces/{mine.Name}/api-keys/{theirKeyId}")).ShouldBeProblemAsync(HttpStatusCode.NotFound);
        await (await theirs.Owner.GetAsync($"/api/v1/workspaces/{theirs.Name}")).ShouldBeAsync(HttpStatusCode.OK);
    }

    [Theory, AllDatabases]
    public async Task List_FiltersByRoleAndStatus(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        await workspace.Owner.CreateKeyAsync(workspace.Name, "viewer");
        await workspace.Owner.CreateKeyAsync(workspace.Name, "viewer");
        await workspace.Owner.CreateKeyAsync(workspace.Name, "editor");

        var viewers = await (await workspace.Owner.GetAsync($"/api/v1/workspaces/{workspace.Name}/api-keys?role=viewer")).ReadObjectAsync();
        var active = await (await workspace.Owner.GetAsync($"/api/v1/workspaces/{workspace.Name}/api-keys?status=active")).ReadObjectAsync();
        var expired = await (await workspace.Owner.GetAsync($"/api/v1/workspaces/{workspace.Name}/api-keys?status=expired")).ReadObjectAsync();

        ((int)viewers["count"]!).ShouldBe(2);
        viewers["results"]!.AsArray().ShouldAllBe(k => (string)k!["role"]! == "viewer");
        ((int)active["count"]!).ShouldBe(4);
        ((int)expired["count"]!).ShouldBe(0);
    }

    [Theory]
    [AllDatabases("status=gone", "status")]
    [AllDatabases("role=root", "role")]
    [AllDatabases("role=root&status=gone", "role,status")]
    public async Task List_UnknownFilterValue_Returns400NamingIt(DatabaseKind db, string query, string fields)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();

        var response = await workspace.Owner.GetAsync($"/api/v1/workspaces/{workspace.Name}/api-keys?{query}");

        (await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest)).Errors!.Keys.ShouldBe(fields.Split(','), ignoreOrder: true);
    }

    [Theory, AllDatabases]
    public async Task Get_UnknownKey_Returns404(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();

        await (await workspace.Owner.GetAsync($"/api/v1/workspaces/{workspace.Name}/api-keys/key_nope")).ShouldBeProblemAsync(HttpStatusCode.NotFound);
        await (await workspace.Owner.DeleteAsync($"/api/v1/workspaces/{workspace.Name}/api-keys/key_nope")).ShouldBeProblemAsync(HttpStatusCode.NotFound);
    }

    private static async Task<string> CreateAccountAsync(TestWorkspace workspace, string role)
    {
        var response = await workspace.Owner.PostJsonAsync($"/api/v1/workspaces/{workspace.Name}/service-accounts", new { name = Api.UniqueName("sa"), role });
        await response.ShouldBeAsync(HttpStatusCode.Created);
        return (string)(await response.ReadObjectAsync())["id"]!;
    }
}
