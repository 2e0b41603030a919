using System.Net;
using Cadre.Storage;

namespace Cadre.Server.Tests.People;

public sealed class TeamTests
{
    [Theory, AllDatabases]
    public async Task Teams_CreateWithMembers_ListGetRenameDelete(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        var alice = await app.CreateUserAsync(displayName: "Alice");
        var bob = await app.CreateUserAsync(displayName: "Bob");
        await workspace.AddMemberAsync(alice, "editor");
        await workspace.AddMemberAsync(bob, "viewer");
        var teams = $"/api/v1/workspaces/{workspace.Name}/teams";

        var created = await workspace.Owner.PostJsonAsync(teams, new { name = "Approvers", description = "Sign off releases", members = new[] { alice.Id, bob.Id } });

        await created.ShouldBeAsync(HttpStatusCode.Created);
        var team = await created.ReadObjectAsync();
        var teamId = (string)team["id"]!;
        teamId.ShouldStartWith("team_");
        ((int)team["memberCount"]!).ShouldBe(2);
        ((string)team["createdBy"]!["kind"]!).ShouldBe("service_account");
        var members = await (await workspace.Owner.GetAsync($"{teams}/{teamId}/members")).ReadObjectAsync();
        members["results"]!.AsArray().Select(m => (string)m!["user"]!["displayName"]!).ShouldBe(["Bob", "Alice"], ignoreOrder: true);

        var renamed = await workspace.Owner.PatchJsonAsync($"{teams}/{teamId}", new { name = "Release approvers" }, ifMatch: "\"1\"");
        await renamed.ShouldBeAsync(HttpStatusCode.OK);
        await (await workspace.Owner.PatchJsonAsync($"{teams}/{teamId}", new { name = "Stale" }, ifMatch: "\"1\"")).ShouldBeProblemAsync(HttpStatusCode.PreconditionFailed);
        ((string)(await (await workspace.Owner.GetAsync($"{teams}/{teamId}")).ReadObjectAsync())["name"]!).ShouldBe("Release approvers");

        await (await workspace.Owner.DeleteAsync($"{teams}/{teamId}")).ShouldBeAsync(HttpStatusCode.NoContent);
        await (await workspace.Owner.GetAsync($"{teams}/{teamId}")).ShouldBeProblemAsync(HttpStatusCode.NotFound);
    }

    [Theory, AllDatabases]
    public async Task Teams_TakeOnlyWorkspaceMembers_AndNamesAreUnique(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        var outsider = await app.CreateUserAsync();
        var teams = $"/api/v1/workspaces/{workspace.Name}/teams";
        var team = (string)(await (await workspace.Owner.PostJsonAsync(teams, new { name = "Ops" })).ReadObjectAsync())["id"]!;

        var withOutsider = await workspace.Owner.PostJsonAsync(teams, new { name = "Mixed", members = new[] { outsider.Id } });
        var addOutsider = await workspace.Owner.PutAsync($"{teams}/{team}/members/{outsider.Id}", null);
        var duplicate = await workspace.Owner.PostJsonAsync(teams, new { name = "Ops" });

        (await withOutsider.ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity)).Errors!.Keys.ShouldBe(["members"]);
        (await addOutsider.ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity)).Errors!.Keys.ShouldBe(["userId"]);
        await duplicate.ShouldBeProblemAsync(HttpStatusCode.Conflict);
    }

    [Theory, AllDatabases]
    public async Task TeamMembership_PutIsIdempotent_RemoveWorks_AndLeavingTheWorkspaceLeavesTheTeam(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        var carol = await app.CreateUserAsync();
        var dave = await app.CreateUserAsync();
        await workspace.AddMemberAsync(carol, "editor");
        await workspace.AddMemberAsync(dave, "editor");
        var teams = $"/api/v1/workspaces/{workspace.Name}/teams";
        var team = (string)(await (await workspace.Owner.PostJsonAsync(teams, new { name = "Writers" })).ReadObjectAsync())["id"]!;

        await (await workspace.Owner.PutAsync($"{teams}/{team}/members/{carol.Id}", null)).ShouldBeAsync(HttpStatusCode.OK);
        await (await workspace.Owner.PutAsync($"{teams}/{team}/members/{carol.Id}", null)).ShouldBeAsync(HttpStatusCode.OK);
        await (await workspace.Owner.PutAsync($"{teams}/{team}/members/{dave.Id}", null)).ShouldBeAsync(HttpStatusCode.OK);
        await (await workspace.Owner.DeleteAsync($"{teams}/{team}/members/{dave.Id}")).ShouldBeAsync(HttpStatusCode.NoContent);
        await (await workspace.Owner.DeleteAsync($"{teams}/{team}/members/{dave.Id}")).ShouldBeProblemAsync(HttpStatusCode.NotFound);
        ((int)(await (await workspace.Owner.GetAsync($"{teams}/{team}")).ReadObjectAsync())["memberCount"]!).ShouldBe(1);

        await (await workspace.Owner.DeleteAsync($"/api/v1/workspaces/{workspace.Name}/members/{carol.Id}")).ShouldBeAsync(HttpStatusCode.NoContent);

        ((int)(await (await workspace.Owner.GetAsync($"{teams}/{team}")).ReadObjectAsync())["memberCount"]!).ShouldBe(0);
    }

    [Theory, AllDatabases]
    public async Task Filters_TeamsOfAMember_AndMembersOfATeam(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        var erin = await app.CreateUserAsync();
        var frank = await app.CreateUserAsync();
        await workspace.AddMemberAsync(erin, "viewer");
        await workspace.AddMemberAsync(frank, "viewer");
        var teams = $"/api/v1/workspaces/{workspace.Name}/teams";
        var red = (string)(await (await workspace.Owner.PostJsonAsync(teams, new { name = "Red", members = new[] { erin.Id } })).ReadObjectAsync())["id"]!;
        await workspace.Owner.PostJsonAsync(teams, new { name = "Blue", members = new[] { frank.Id } });
        using var browser = await app.SignInAsync(erin);

        var mine = await (await browser.Client.GetAsync($"{teams}?member=me")).ReadObjectAsync();
        var members = await (await workspace.Owner.GetAsync($"/api/v1/workspaces/{workspace.Name}/members?team={red}")).ReadObjectAsync();

        mine["results"]!.AsArray().Select(t => (string)t!["name"]!).ShouldBe(["Red"]);
        members["results"]!.AsArray().Select(m => (string)m!["user"]!["id"]!).ShouldBe([erin.Id]);
        await (await workspace.Owner.GetAsync($"{teams}?member=me")).ShouldBeProblemAsync(HttpStatusCode.BadRequest);
        await (await browser.Client.PostJsonAsync(teams, new { name = "Viewers cannot" })).ShouldBeProblemAsync(HttpStatusCode.Forbidden);
    }
}
