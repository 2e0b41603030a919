using System.Net;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Cadre.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Cadre.Server.Tests.People;

public sealed partial class InvitationTests
{
    [Theory, AllDatabases]
    public async Task Accept_NewAccount_CreatesItSignsInAndJoinsWithTheRole(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        var email = $"{Api.UniqueName("new")}@example.com";
        var invitation = await InviteAsync(workspace, email, "editor");
        var (client, _) = app.BrowserClient();
        using var _client = client;

        var preview = await client.PostJsonAsync("/api/v1/invitations/preview", new { token = (string)invitation["token"]! });
        var accepted = await client.PostJsonAsync("/api/v1/invitations/accept", new { token = (string)invitation["token"]!, displayName = "New Person", password = PeopleApi.Password });

        var previewed = await preview.ReadObjectAsync();
        ((string)previewed["workspace"]!).ShouldBe(workspace.Name);
        ((bool)previewed["accountExists"]!).ShouldBeFalse();
        await accepted.ShouldBeAsync(HttpStatusCode.OK);
        var body = await accepted.ReadObjectAsync();
        ((bool)body["accountCreated"]!).ShouldBeTrue();
        ((string)body["role"]!).ShouldBe("editor");
        var me = await (await client.GetAsync("/api/v1/me")).ReadObjectAsync();
        me["workspaces"]!.AsArray().Single()!["role"]!.GetValue<string>().ShouldBe("editor");
        var listed = await (await workspace.Owner.GetAsync($"/api/v1/workspaces/{workspace.Name}/invitations?status=accepted")).ReadObjectAsync();
        ((string)listed["results"]![0]!["acceptedBy"]!["name"]!).ShouldBe("New Person");
    }

    [Theory, AllDatabases]
    public async Task Accept_ExistingAccountNotSignedIn_NeedsItsPassword(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        var user = await app.CreateUserAsync();
        var token = (string)(await InviteAsync(workspace, user.Email, "viewer"))["token"]!;
        using var client = app.Client();

        var wrong = await client.PostJsonAsync("/api/v1/invitations/accept", new { token, password = "not their password" });
        var right = await client.PostJsonAsync("/api/v1/invitations/accept", new { token, password = user.Password });

        (await wrong.ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity)).Errors!.Keys.ShouldBe(["password"]);
        await right.ShouldBeAsync(HttpStatusCode.OK);
        ((bool)(await right.ReadObjectAsync())["accountCreated"]!).ShouldBeFalse();
        await (await workspace.Owner.GetAsync($"/api/v1/workspaces/{workspace.Name}/members/{user.Id}")).ShouldBeAsync(HttpStatusCode.OK);
    }

    [Theory, AllDatabases]
    public async Task Accept_SignedInWithTheInvitedAddress_Joins_OtherAddress_Refused(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        var invited = await app.CreateUserAsync();
        var other = await app.CreateUserAsync();
        var token = (string)(await InviteAsync(workspace, invited.Email, "operator"))["token"]!;
        using var otherBrowser = await app.SignInAsync(other);
        using var invitedBrowser = await app.SignInAsync(invited);

        var refused = await otherBrowser.Client.PostJsonAsync("/api/v1/invitations/accept", new { token });
        var joined = await invitedBrowser.Client.PostJsonAsync("/api/v1/invitations/accept", new { token });

        await refused.ShouldBeProblemAsync(HttpStatusCode.Forbidden);
        await joined.ShouldBeAsync(HttpStatusCode.OK);
        ((string)(await joined.ReadObjectAsync())["role"]!).ShouldBe("operator");
    }

    [Theory, AllDatabases]
    public async Task Accept_TokenUsedTwice_SecondIsRefused(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        var token = (string)(await InviteAsync(workspace, $"{Api.UniqueName()}@example.com", "viewer"))["token"]!;
        using var first = app.Client();
        using var second = app.Client();

        await (await first.PostJsonAsync("/api/v1/invitations/accept", new { token, displayName = "First", password = PeopleApi.Password })).ShouldBeAsync(HttpStatusCode.OK);
        var again = await second.PostJsonAsync("/api/v1/invitations/accept", new { token, displayName = "Second", password = PeopleApi.Password });

        (await again.ShouldBeProblemAsync(HttpStatusCode.Conflict)).Detail!.ShouldContain("already been used");
    }

    [Theory, AllDatabases]
    public async Task Accept_ConcurrentRedemptions_OnlyOneSucceeds(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        var token = (string)(await InviteAsync(workspace, $"{Api.UniqueName()}@example.com", "viewer"))["token"]!;

        var attempts = await Task.WhenAll(Enumerable.Range(0, 4).Select(async _ =>
        {
            using var client = app.Client();
            return (await client.PostJsonAsync("/api/v1/invitations/accept", new { token, displayName = "Racer", password = PeopleApi.Password })).StatusCode;
        }));

        attempts.Count(s => s == HttpStatusCode.OK).ShouldBe(1);
        var members = await (await workspace.Owner.GetAsync($"/api/v1/workspaces/{workspace.Name}/members")).ReadObjectAsync();
        ((int)members["count"]!).ShouldBe(1);
    }

    [Theory, AllDatabases]
    public async Task Accept_Expired_IsRefused(DatabaseKind db)
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var app = await CadreApp.StartAsync(db, services: s => s.AddSingleton<TimeProvider>(clock));
        var workspace = await app.CreateWorkspaceAsync();
        var token = (string)(await InviteAsync(workspace, $"{Api.UniqueName()}@example.com", "viewer"))["token"]!;

        clock.Advance(TimeSpan.FromDays(7));

        using var client = app.Client();
        (await (await client.PostJsonAsync("/api/v1/invitations/accept", new { token, displayName = "Late", password = PeopleApi.Password }))
            .ShouldBeProblemAsync(HttpStatusCode.Conflict)).Detail!.ShouldContain("expired");
        var listed = await (await workspace.Owner.GetAsync($"/api/v1/workspaces/{workspace.Name}/invitations?status=expired")).ReadObjectAsync();
        ((int)listed["count"]!).ShouldBe(1);
    }

    [Theory, AllDatabases]
    public async Task Revoked_Or_Replaced_TokensAreRefused(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        var email = $"{Api.UniqueName()}@example.com";
        var first = await InviteAsync(workspace, email, "viewer");
        var second = await InviteAsync(workspace, email, "editor");
        var third = await InviteAsync(workspace, $"{Api.UniqueName()}@example.com", "viewer");
        await (await workspace.Owner.DeleteAsync($"/api/v1/workspaces/{workspace.Name}/invitations/{third["id"]}")).ShouldBeAsync(HttpStatusCode.OK);
        using var client = app.Client();

        await (await client.PostJsonAsync("/api/v1/invitations/preview", new { token = (string)first["token"]! })).ShouldBeProblemAsync(HttpStatusCode.NotFound);
        await (await client.PostJsonAsync("/api/v1/invitations/preview", new { token = (string)third["token"]! })).ShouldBeProblemAsync(HttpStatusCode.NotFound);
        await (await client.PostJsonAsync("/api/v1/invitations/preview", new { token = "made-up" })).ShouldBeProblemAsync(HttpStatusCode.NotFound);
        var latest = await (await client.PostJsonAsync("/api/v1/invitations/preview", new { token = (string)second["token"]! })).ReadObjectAsync();
        ((string)latest["role"]!).ShouldBe("editor");
    }

    [Theory]
    [AllDatabases("""{"email":"not-an-address","role":"viewer"}""", "email")]
    [AllDatabases("""{"email":"a@example.com","role":"god"}""", "role")]
    [AllDatabases("""{}""", "email,role")]
    public async Task Create_InvalidFields_Returns422(DatabaseKind db, string body, string fields)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();

        var response = await workspace.Owner.PostJsonAsync($"/api/v1/workspaces/{workspace.Name}/invitations", body);

        (await response.ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity)).Errors!.Keys.ShouldBe(fields.Split(','), ignoreOrder: true);
    }

    [Theory, AllDatabases]
    public async Task Create_ExistingMemberOrRoleAboveOwn_IsRefused(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        var member = await app.CreateUserAsync();
        await workspace.AddMemberAsync(member, "viewer");
        using var admin = app.Client(await workspace.Owner.CreateKeyAsync(workspace.Name, "admin"));

        await (await workspace.Owner.PostJsonAsync($"/api/v1/workspaces/{workspace.Name}/invitations", new { email = member.Email.ToUpperInvariant(), role = "editor" }))
            .ShouldBeProblemAsync(HttpStatusCode.Conflict);
        await (await admin.PostJsonAsync($"/api/v1/workspaces/{workspace.Name}/invitations", new { email = $"{Api.UniqueName()}@example.com", role = "owner" }))
            .ShouldBeProblemAsync(HttpStatusCode.Forbidden);
    }

    [Theory, AllDatabases]
    public async Task Create_WithSmtp_MailsTheLinkAndReturnsNoToken(DatabaseKind db)
    {
        await using var smtp = new SmtpSink();
        await using var app = await CadreApp.StartAsync(db, smtp.Settings());
        var workspace = await app.CreateWorkspaceAsync();
        var email = $"{Api.UniqueName("mail")}@example.com";

        var created = await InviteAsync(workspace, email, "editor");

        ((string)created["delivery"]!).ShouldBe("email");
        created["token"].ShouldBeNull();
        created["link"].ShouldBeNull();
        var message = await smtp.WaitForAsync(email);
        var token = AcceptLink().Match(message.Data).Groups["token"].Value;
        token.ShouldNotBeNullOrEmpty(message.Data);
        using var client = app.Client();
        await (await client.PostJsonAsync("/api/v1/invitations/accept", new { token, displayName = "By Mail", password = PeopleApi.Password })).ShouldBeAsync(HttpStatusCode.OK);
        app.Logs.Messages.ShouldNotContain(line => line.Contains(token, StringComparison.Ordinal));
    }

    private static async Task<JsonObject> InviteAsync(TestWorkspace workspace, string email, string role)
    {
        var response = await workspace.Owner.PostJsonAsync($"/api/v1/workspaces/{workspace.Name}/invitations", new { email, role });
        await response.ShouldBeAsync(HttpStatusCode.Created);
        return await response.ReadObjectAsync();
    }

    [GeneratedRegex(@"/invitations/accept\?token=(?<token>[A-Za-z0-9]+)")]
    private static partial Regex AcceptLink();
}
