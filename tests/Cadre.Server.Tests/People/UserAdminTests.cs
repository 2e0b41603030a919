using System.Net;
using System.Text.RegularExpressions;
using Cadre.Storage;

namespace Cadre.Server.Tests.People;

public sealed partial class UserAdminTests
{
    [Theory, AllDatabases]
    public async Task InstanceAdmin_CreatesListsAndSearchesUsers(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var user = await app.CreateUserAsync(displayName: "Searchable Hedy");
        using var admin = app.AdminClient();

        var found = await (await admin.GetAsync("/api/v1/users?search=searchable%20hedy")).ReadObjectAsync();
        var byEmail = await (await admin.GetAsync($"/api/v1/users?search={user.Email.ToUpperInvariant()}")).ReadObjectAsync();
        var duplicate = await admin.PostJsonAsync("/api/v1/users", new { email = user.Email.ToUpperInvariant(), displayName = "Again" });

        found["results"]!.AsArray().Select(u => (string)u!["id"]!).ShouldContain(user.Id);
        byEmail["results"]!.AsArray().Select(u => (string)u!["id"]!).ShouldBe([user.Id]);
        await duplicate.ShouldBeProblemAsync(HttpStatusCode.Conflict);
    }

    [Theory, AllDatabases]
    public async Task NonAdmins_CannotManageUsers(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        using var person = await app.SignInAsync(await app.CreateUserAsync());

        await (await person.Client.GetAsync("/api/v1/users")).ShouldBeProblemAsync(HttpStatusCode.Forbidden);
        await (await workspace.Owner.GetAsync("/api/v1/users")).ShouldBeProblemAsync(HttpStatusCode.Forbidden);
    }

    [Theory, AllDatabases]
    public async Task PasswordReset_LinkSetsANewPasswordOnce_AndEndsSessions(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var user = await app.CreateUserAsync();
        using var browser = await app.SignInAsync(user);
        using var admin = app.AdminClient();

        var issued = await admin.PostAsync($"/api/v1/users/{user.Id}/password-reset", null);

        await issued.ShouldBeAsync(HttpStatusCode.OK);
        var link = await issued.ReadObjectAsync();
        ((string)link["delivery"]!).ShouldBe("none");
        var token = ResetLink().Match((string)link["link"]!).Groups["token"].Value;
        using var client = app.Client();
        const string newPassword = "the reset passphrase";
        await (await client.PostJsonAsync("/api/v1/auth/reset-password", new { token, password = "short" })).ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity);
        await (await client.PostJsonAsync("/api/v1/auth/reset-password", new { token, password = newPassword })).ShouldBeAsync(HttpStatusCode.NoContent);
        (await (await client.PostJsonAsync("/api/v1/auth/reset-password", new { token, password = "yet another passphrase" }))
            .ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity)).Errors!["token"].Single().ShouldContain("already been used");

        await (await browser.Client.GetAsync("/api/v1/me")).ShouldBeProblemAsync(HttpStatusCode.Unauthorized);
        await (await client.PostJsonAsync("/api/v1/auth/login", new { email = user.Email, password = user.Password })).ShouldBeProblemAsync(HttpStatusCode.Unauthorized);
        await (await client.PostJsonAsync("/api/v1/auth/login", new { email = user.Email, password = newPassword })).ShouldBeAsync(HttpStatusCode.OK);
    }

    [Theory, AllDatabases]
    public async Task ForgotPassword_WithSmtp_MailsAResetLink_AndAnswersTheSameForUnknownAddresses(DatabaseKind db)
    {
        await using var smtp = new SmtpSink();
        await using var app = await CadreApp.StartAsync(db, smtp.Settings());
        var user = await app.CreateUserAsync();
        using var client = app.Client();

        var known = await client.PostJsonAsync("/api/v1/auth/forgot-password", new { email = user.Email });
        var unknown = await client.PostJsonAsync("/api/v1/auth/forgot-password", new { email = "nobody@example.com" });

        known.StatusCode.ShouldBe(HttpStatusCode.Accepted);
        unknown.StatusCode.ShouldBe(HttpStatusCode.Accepted);
        var mail = await smtp.WaitForAsync(user.Email);
        var token = ResetLink().Match(mail.Data).Groups["token"].Value;
        await (await client.PostJsonAsync("/api/v1/auth/reset-password", new { token, password = "mailed reset passphrase" })).ShouldBeAsync(HttpStatusCode.NoContent);
        smtp.Messages.Count.ShouldBe(1);
    }

    [Theory, AllDatabases]
    public async Task InstanceOwner_IsProtected(DatabaseKind db)
    {
        await using var app = await CadreApp.StartAsync(db, new Dictionary<string, string?>
        {
            ["Cadre:Auth:AdminEmail"] = "root@example.com",
            ["Cadre:Auth:AdminPassword"] = PeopleApi.Password,
        });
        using var ownerBrowser = await app.SignInAsync(new TestUser("", "root@example.com", PeopleApi.Password));
        var ownerId = (string)(await (await ownerBrowser.Client.GetAsync("/api/v1/me")).ReadObjectAsync())["user"]!["id"]!;
        var admin = await app.CreateUserAsync(instanceRole: "admin");
        using var adminBrowser = await app.SignInAsync(admin);

        await (await adminBrowser.Client.PatchJsonAsync($"/api/v1/users/{ownerId}", new { status = "disabled" })).ShouldBeProblemAsync(HttpStatusCode.Forbidden);
        await (await ownerBrowser.Client.PatchJsonAsync($"/api/v1/users/{ownerId}", new { instanceRole = "none" })).ShouldBeProblemAsync(HttpStatusCode.Conflict);
        await (await ownerBrowser.Client.PatchJsonAsync($"/api/v1/users/{admin.Id}", new { instanceRole = "owner" })).ShouldBeAsync(HttpStatusCode.OK);
        await (await ownerBrowser.Client.PatchJsonAsync($"/api/v1/users/{ownerId}", new { instanceRole = "admin" })).ShouldBeAsync(HttpStatusCode.OK);
    }

    [Theory]
    [AllDatabases("""{"status":"sleeping"}""", "status")]
    [AllDatabases("""{"instanceRole":"god"}""", "instanceRole")]
    [AllDatabases("""{"avatarUrl":"javascript:alert(1)"}""", "avatarUrl")]
    [AllDatabases("""{"displayName":""}""", "displayName")]
    public async Task UpdateUser_InvalidFields_Return422(DatabaseKind db, string body, string field)
    {
        var app = await SharedApps.Get(db);
        var user = await app.CreateUserAsync();
        using var admin = app.AdminClient();

        var response = await admin.PatchJsonAsync($"/api/v1/users/{user.Id}", body);

        (await response.ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity)).Errors!.Keys.ShouldBe([field]);
    }

    [Theory, AllDatabases]
    public async Task UpdateUser_StaleIfMatch_Returns412_UnknownUser_404(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var user = await app.CreateUserAsync();
        using var admin = app.AdminClient();

        await (await admin.PatchJsonAsync($"/api/v1/users/{user.Id}", new { displayName = "x" }, ifMatch: "\"9\"")).ShouldBeProblemAsync(HttpStatusCode.PreconditionFailed);
        await (await admin.PatchJsonAsync("/api/v1/users/usr_nope", new { displayName = "x" })).ShouldBeProblemAsync(HttpStatusCode.NotFound);
        await (await admin.PostAsync("/api/v1/users/usr_nope/password-reset", null)).ShouldBeProblemAsync(HttpStatusCode.NotFound);
    }

    [GeneratedRegex(@"/reset-password\?token=(?<token>[A-Za-z0-9]+)")]
    private static partial Regex ResetLink();
}
