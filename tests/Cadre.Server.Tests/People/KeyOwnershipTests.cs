using System.Net;
using Cadre.Storage;

namespace Cadre.Server.Tests.People;

/// <summary>A key never acts above its owner, and stops when its owner may no longer act.</summary>
public sealed class KeyOwnershipTests
{
    [Theory, AllDatabases]
    public async Task PersonalKey_NeverExceedsItsOwnersRole(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        var user = await app.CreateUserAsync();
        await workspace.AddMemberAsync(user, "admin");
        using var browser = await app.SignInAsync(user);

        var tooHigh = await browser.Client.PostJsonAsync("/api/v1/me/api-keys", new { name = "x", workspace = workspace.Name, role = "owner" });
        var created = await browser.Client.PostJsonAsync("/api/v1/me/api-keys", new { name = "automation", workspace = workspace.Name });

        await tooHigh.ShouldBeProblemAsync(HttpStatusCode.Forbidden);
        await created.ShouldBeAsync(HttpStatusCode.Created);
        var body = await created.ReadObjectAsync();
        ((string)body["role"]!).ShouldBe("admin");
        ((string)body["owner"]!["id"]!).ShouldBe(user.Id);
        using var key = app.Client((string)body["key"]!);
        await (await key.PatchJsonAsync($"/api/v1/workspaces/{workspace.Name}", new { displayName = "by admin key" })).ShouldBeAsync(HttpStatusCode.OK);

        // The owner is demoted: the key, which says admin, acts as the viewer its owner now is.
        await (await workspace.Owner.PatchJsonAsync($"/api/v1/workspaces/{workspace.Name}/members/{user.Id}", new { role = "viewer" })).ShouldBeAsync(HttpStatusCode.OK);

        await (await key.PatchJsonAsync($"/api/v1/workspaces/{workspace.Name}", new { displayName = "denied" })).ShouldBeProblemAsync(HttpStatusCode.Forbidden);
        await (await key.GetAsync($"/api/v1/workspaces/{workspace.Name}")).ShouldBeAsync(HttpStatusCode.OK);
    }

    [Theory, AllDatabases]
    public async Task PersonalKey_CappedBelowItsOwner_ActsWithTheCap(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        var user = await app.CreateUserAsync();
        await workspace.AddMemberAsync(user, "owner");
        using var browser = await app.SignInAsync(user);
        var body = await (await browser.Client.PostJsonAsync("/api/v1/me/api-keys", new { name = "read-only", workspace = workspace.Name, role = "viewer" })).ReadObjectAsync();
        using var key = app.Client((string)body["key"]!);

        await (await key.GetAsync($"/api/v1/workspaces/{workspace.Name}")).ShouldBeAsync(HttpStatusCode.OK);
        await (await key.PatchJsonAsync($"/api/v1/workspaces/{workspace.Name}", new { displayName = "x" })).ShouldBeProblemAsync(HttpStatusCode.Forbidden);
    }

    [Theory, AllDatabases]
    public async Task PersonalKey_StopsWhenItsOwnerLeavesTheWorkspace(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        var user = await app.CreateUserAsync();
        await workspace.AddMemberAsync(user, "editor");
        using var browser = await app.SignInAsync(user);
        var scoped = (string)(await (await browser.Client.PostJsonAsync("/api/v1/me/api-keys", new { name = "scoped", workspace = workspace.Name })).ReadObjectAsync())["key"]!;
        using var key = app.Client(scoped);
        await (await key.GetAsync($"/api/v1/workspaces/{workspace.Name}")).ShouldBeAsync(HttpStatusCode.OK);

        await (await workspace.Owner.DeleteAsync($"/api/v1/workspaces/{workspace.Name}/members/{user.Id}")).ShouldBeAsync(HttpStatusCode.NoContent);

        (await (await key.GetAsync($"/api/v1/workspaces/{workspace.Name}")).ShouldBeProblemAsync(HttpStatusCode.Unauthorized))
            .Detail!.ShouldContain("no longer a member");
    }

    [Theory, AllDatabases]
    public async Task PersonalKey_AndSessions_StopWhenTheOwnerIsDisabled_AndNotComeBackAlone(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        var user = await app.CreateUserAsync();
        await workspace.AddMemberAsync(user, "editor");
        using var browser = await app.SignInAsync(user);
        var unscoped = (string)(await (await browser.Client.PostJsonAsync("/api/v1/me/api-keys", new { name = "everywhere" })).ReadObjectAsync())["key"]!;
        using var key = app.Client(unscoped);
        await (await key.GetAsync($"/api/v1/workspaces/{workspace.Name}")).ShouldBeAsync(HttpStatusCode.OK);
        using var admin = app.AdminClient();

        await (await admin.PatchJsonAsync($"/api/v1/users/{user.Id}", new { status = "disabled" })).ShouldBeAsync(HttpStatusCode.OK);

        (await (await key.GetAsync("/api/v1/me")).ShouldBeProblemAsync(HttpStatusCode.Unauthorized)).Detail!.ShouldContain("disabled");
        await (await browser.Client.GetAsync("/api/v1/me")).ShouldBeProblemAsync(HttpStatusCode.Unauthorized);

        await (await admin.PatchJsonAsync($"/api/v1/users/{user.Id}", new { status = "active" })).ShouldBeAsync(HttpStatusCode.OK);

        await (await key.GetAsync("/api/v1/me")).ShouldBeAsync(HttpStatusCode.OK);
        await (await browser.Client.GetAsync("/api/v1/me")).ShouldBeProblemAsync(HttpStatusCode.Unauthorized);
    }

    [Theory, AllDatabases]
    public async Task UnscopedPersonalKey_ActsInEachWorkspaceWithTheOwnersRoleThere(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var first = await app.CreateWorkspaceAsync();
        var second = await app.CreateWorkspaceAsync();
        var user = await app.CreateUserAsync();
        await first.AddMemberAsync(user, "admin");
        await second.AddMemberAsync(user, "viewer");
        using var browser = await app.SignInAsync(user);
        using var key = app.Client((string)(await (await browser.Client.PostJsonAsync("/api/v1/me/api-keys", new { name = "cli" })).ReadObjectAsync())["key"]!);

        await (await key.PatchJsonAsync($"/api/v1/workspaces/{first.Name}", new { displayName = "x" })).ShouldBeAsync(HttpStatusCode.OK);
        await (await key.PatchJsonAsync($"/api/v1/workspaces/{second.Name}", new { displayName = "x" })).ShouldBeProblemAsync(HttpStatusCode.Forbidden);
        var list = await (await key.GetAsync("/api/v1/workspaces")).ReadObjectAsync();
        ((int)list["count"]!).ShouldBe(2);
        var mine = await (await browser.Client.GetAsync("/api/v1/me/api-keys")).ReadObjectAsync();
        ((int)mine["count"]!).ShouldBe(1);
    }

    [Theory, AllDatabases]
    public async Task ServiceAccountKey_StopsWhenTheAccountIsDisabledOrDeleted_AndFollowsItsRole(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        var (accountId, secret) = await workspace.Owner.CreateServiceAccountAsync(workspace.Name, "editor");
        using var key = app.Client(secret);
        var account = $"/api/v1/workspaces/{workspace.Name}/service-accounts/{accountId}";
        await (await key.GetAsync($"/api/v1/workspaces/{workspace.Name}")).ShouldBeAsync(HttpStatusCode.OK);

        await (await workspace.Owner.PatchJsonAsync(account, new { role = "viewer" })).ShouldBeAsync(HttpStatusCode.OK);
        await (await key.GetAsync($"/api/v1/workspaces/{workspace.Name}/teams")).ShouldBeAsync(HttpStatusCode.OK);
        await (await key.PostJsonAsync($"/api/v1/workspaces/{workspace.Name}/teams", new { name = "denied" })).ShouldBeProblemAsync(HttpStatusCode.Forbidden);

        await (await workspace.Owner.PatchJsonAsync(account, new { status = "disabled" })).ShouldBeAsync(HttpStatusCode.OK);
        (await (await key.GetAsync($"/api/v1/workspaces/{workspace.Name}")).ShouldBeProblemAsync(HttpStatusCode.Unauthorized)).Detail!.ShouldContain("disabled");

        await (await workspace.Owner.DeleteAsync(account)).ShouldBeAsync(HttpStatusCode.NoContent);
        await (await key.GetAsync($"/api/v1/workspaces/{workspace.Name}")).ShouldBeProblemAsync(HttpStatusCode.Unauthorized);
    }

    [Theory, AllDatabases]
    public async Task ServiceAccount_CannotUsePersonEndpoints(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();

        var me = await (await workspace.Owner.GetAsync("/api/v1/me")).ReadObjectAsync();

        ((string)me["actor"]!["kind"]!).ShouldBe("service_account");
        me["user"].ShouldBeNull();
        ((string)me["workspaces"]![0]!["role"]!).ShouldBe("owner");
        await (await workspace.Owner.PostJsonAsync("/api/v1/me/api-keys", new { name = "x" })).ShouldBeProblemAsync(HttpStatusCode.Forbidden);
    }
}
