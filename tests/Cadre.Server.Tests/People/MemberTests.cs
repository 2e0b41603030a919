using System.Net;
using Cadre.Storage;

namespace Cadre.Server.Tests.People;

public sealed class MemberTests
{
    [Theory, AllDatabases]
    public async Task Add_ExistingUserByEmail_ListsThemWithRoleAndWhoAdded(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        var user = await app.CreateUserAsync(displayName: "Katherine Johnson");

        var added = await workspace.Owner.PostJsonAsync($"/api/v1/workspaces/{workspace.Name}/members", new { email = user.Email, role = "editor" });
        var twice = await workspace.Owner.PostJsonAsync($"/api/v1/workspaces/{workspace.Name}/members", new { userId = user.Id, role = "viewer" });

        await added.ShouldBeAsync(HttpStatusCode.Created);
        await twice.ShouldBeProblemAsync(HttpStatusCode.Conflict);
        var list = await (await workspace.Owner.GetAsync($"/api/v1/workspaces/{workspace.Name}/members?search=katherine")).ReadObjectAsync();
        var member = list["results"]!.AsArray().Single()!;
        ((string)member["user"]!["displayName"]!).ShouldBe("Katherine Johnson");
        ((string)member["role"]!).ShouldBe("editor");
        ((string)member["addedBy"]!["kind"]!).ShouldBe("service_account");
    }

    [Theory]
    [AllDatabases("""{"email":"nobody@example.com","role":"viewer"}""", HttpStatusCode.UnprocessableEntity)]
    [AllDatabases("""{"role":"viewer"}""", HttpStatusCode.UnprocessableEntity)]
    [AllDatabases("""{"userId":"usr_x","email":"x@example.com","role":"viewer"}""", HttpStatusCode.UnprocessableEntity)]
    public async Task Add_Unusable_IsRefused(DatabaseKind db, string body, HttpStatusCode status)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();

        await (await workspace.Owner.PostJsonAsync($"/api/v1/workspaces/{workspace.Name}/members", body)).ShouldBeProblemAsync(status);
    }

    [Theory, AllDatabases]
    public async Task RoleChanges_NeverExceedTheCallersRole(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        var admin = await app.CreateUserAsync();
        var member = await app.CreateUserAsync();
        var owner = await app.CreateUserAsync();
        await workspace.AddMemberAsync(admin, "admin");
        await workspace.AddMemberAsync(member, "viewer");
        await workspace.AddMemberAsync(owner, "owner");
        using var browser = await app.SignInAsync(admin);
        var members = $"/api/v1/workspaces/{workspace.Name}/members";

        await (await browser.Client.PatchJsonAsync($"{members}/{member.Id}", new { role = "editor" })).ShouldBeAsync(HttpStatusCode.OK);
        await (await browser.Client.PatchJsonAsync($"{members}/{member.Id}", new { role = "owner" })).ShouldBeProblemAsync(HttpStatusCode.Forbidden);
        await (await browser.Client.PatchJsonAsync($"{members}/{owner.Id}", new { role = "viewer" })).ShouldBeProblemAsync(HttpStatusCode.Forbidden);
        await (await browser.Client.DeleteAsync($"{members}/{owner.Id}")).ShouldBeProblemAsync(HttpStatusCode.Forbidden);
        await (await browser.Client.DeleteAsync($"{members}/{member.Id}")).ShouldBeAsync(HttpStatusCode.NoContent);
    }

    [Theory, AllDatabases]
    public async Task LastOwner_CannotBeDemotedOrLeave_UntilOwnershipIsTransferred(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        var owner = await app.CreateUserAsync();
        var successor = await app.CreateUserAsync();
        await workspace.AddMemberAsync(owner, "owner");
        await workspace.AddMemberAsync(successor, "editor");
        using var browser = await app.SignInAsync(owner);
        var members = $"/api/v1/workspaces/{workspace.Name}/members";

        (await (await browser.Client.DeleteAsync($"{members}/{owner.Id}")).ShouldBeProblemAsync(HttpStatusCode.Conflict)).Detail!.ShouldContain("at least one owner");
        await (await browser.Client.PatchJsonAsync($"{members}/{owner.Id}", new { role = "admin" })).ShouldBeProblemAsync(HttpStatusCode.Conflict);

        var transfer = await browser.Client.PostJsonAsync($"/api/v1/workspaces/{workspace.Name}/transfer-ownership", new { userId = successor.Id });

        await transfer.ShouldBeAsync(HttpStatusCode.OK);
        ((string)(await (await browser.Client.GetAsync($"{members}/{successor.Id}")).ReadObjectAsync())["role"]!).ShouldBe("owner");
        ((string)(await (await browser.Client.GetAsync($"{members}/{owner.Id}")).ReadObjectAsync())["role"]!).ShouldBe("admin");
        await (await browser.Client.DeleteAsync($"{members}/{owner.Id}")).ShouldBeAsync(HttpStatusCode.NoContent);
        await (await browser.Client.GetAsync($"/api/v1/workspaces/{workspace.Name}")).ShouldBeProblemAsync(HttpStatusCode.NotFound);
    }

    [Theory, AllDatabases]
    public async Task ConcurrentDemotionsOfTwoOwners_LeaveOneOwner(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        var first = await app.CreateUserAsync();
        var second = await app.CreateUserAsync();
        await workspace.AddMemberAsync(first, "owner");
        await workspace.AddMemberAsync(second, "owner");
        var members = $"/api/v1/workspaces/{workspace.Name}/members";

        var results = await Task.WhenAll(
            workspace.Owner.PatchJsonAsync($"{members}/{first.Id}", new { role = "viewer" }),
            workspace.Owner.PatchJsonAsync($"{members}/{second.Id}", new { role = "viewer" }));

        results.Count(r => r.StatusCode == HttpStatusCode.OK).ShouldBe(1);
        results.Count(r => r.StatusCode == HttpStatusCode.Conflict).ShouldBe(1);
        var owners = await (await workspace.Owner.GetAsync($"{members}?role=owner")).ReadObjectAsync();
        ((int)owners["count"]!).ShouldBe(1);
    }

    [Theory, AllDatabases]
    public async Task AnyMember_MayLeave(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        var viewer = await app.CreateUserAsync();
        var other = await app.CreateUserAsync();
        await workspace.AddMemberAsync(viewer, "viewer");
        await workspace.AddMemberAsync(other, "viewer");
        using var browser = await app.SignInAsync(viewer);

        await (await browser.Client.DeleteAsync($"/api/v1/workspaces/{workspace.Name}/members/{other.Id}")).ShouldBeProblemAsync(HttpStatusCode.Forbidden);
        await (await browser.Client.DeleteAsync($"/api/v1/workspaces/{workspace.Name}/members/{viewer.Id}")).ShouldBeAsync(HttpStatusCode.NoContent);
        await (await browser.Client.GetAsync($"/api/v1/workspaces/{workspace.Name}")).ShouldBeProblemAsync(HttpStatusCode.NotFound);
    }

    [Theory, AllDatabases]
    public async Task Person_SeesOnlyTheirWorkspaces_WithTheirRoles(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var mine = await app.CreateWorkspaceAsync();
        var theirs = await app.CreateWorkspaceAsync();
        var user = await app.CreateUserAsync();
        await mine.AddMemberAsync(user, "operator");
        using var browser = await app.SignInAsync(user);

        var list = await (await browser.Client.GetAsync("/api/v1/workspaces")).ReadObjectAsync();
        var me = await (await browser.Client.GetAsync("/api/v1/me")).ReadObjectAsync();

        list["results"]!.AsArray().Select(w => (string)w!["name"]!).ShouldBe([mine.Name]);
        me["workspaces"]!.AsArray().Select(w => ((string)w!["name"]!, (string)w["role"]!)).ShouldBe([(mine.Name, "operator")]);
        await (await browser.Client.GetAsync($"/api/v1/workspaces/{theirs.Name}")).ShouldBeProblemAsync(HttpStatusCode.NotFound);
        await (await browser.Client.PatchJsonAsync($"/api/v1/workspaces/{mine.Name}", new { displayName = "x" })).ShouldBeProblemAsync(HttpStatusCode.Forbidden);
    }

    [Theory, AllDatabases]
    public async Task InstanceAdminPerson_CreatesWorkspaceAndOwnsIt(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var admin = await app.CreateUserAsync(instanceRole: "admin", displayName: "Ada Admin");
        using var browser = await app.SignInAsync(admin);
        var name = Api.UniqueName();

        var created = await browser.Client.PostJsonAsync("/api/v1/workspaces", new { name });

        await created.ShouldBeAsync(HttpStatusCode.Created);
        ((string)(await created.ReadObjectAsync())["createdBy"]!["name"]!).ShouldBe("Ada Admin");
        var member = await (await browser.Client.GetAsync($"/api/v1/workspaces/{name}/members/{admin.Id}")).ReadObjectAsync();
        ((string)member["role"]!).ShouldBe("owner");
    }

    [Theory, AllDatabases]
    public async Task Changes_NameTheirAuthor(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        var editor = await app.CreateUserAsync(displayName: "Mary Jackson");
        await workspace.AddMemberAsync(editor, "admin");
        using var browser = await app.SignInAsync(editor);
        var team = (string)(await (await workspace.Owner.PostJsonAsync($"/api/v1/workspaces/{workspace.Name}/teams", new { name = "Red" })).ReadObjectAsync())["id"]!;

        var renamedWorkspace = await (await browser.Client.PatchJsonAsync($"/api/v1/workspaces/{workspace.Name}", new { displayName = "Renamed" })).ReadObjectAsync();
        var renamedTeam = await (await browser.Client.PatchJsonAsync($"/api/v1/workspaces/{workspace.Name}/teams/{team}", new { name = "Blue" })).ReadObjectAsync();

        ((string)renamedWorkspace["updatedBy"]!["name"]!).ShouldBe("Mary Jackson");
        ((string)renamedWorkspace["createdBy"]!["kind"]!).ShouldBe("instance_key");
        ((string)renamedTeam["updatedBy"]!["id"]!).ShouldBe(editor.Id);
        ((string)renamedTeam["createdBy"]!["kind"]!).ShouldBe("service_account");
    }

    [Theory, AllDatabases]
    public async Task RegularPerson_CannotCreateWorkspaces(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        using var browser = await app.SignInAsync(await app.CreateUserAsync());

        await (await browser.Client.PostJsonAsync("/api/v1/workspaces", new { name = Api.UniqueName() })).ShouldBeProblemAsync(HttpStatusCode.Forbidden);
    }
}
