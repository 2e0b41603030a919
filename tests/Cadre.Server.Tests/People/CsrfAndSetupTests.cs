using System.Net;
using Cadre.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace Cadre.Server.Tests.People;

public sealed class CsrfTests
{
    [Theory, AllDatabases]
    public async Task CookieWrite_WithoutToken_Returns403AndChangesNothing(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var user = await app.CreateUserAsync(displayName: "Before");
        using var browser = await app.SignInAsync(user);
        browser.Client.DefaultRequestHeaders.Remove("X-CSRF-Token");

        var response = await browser.Client.PatchJsonAsync("/api/v1/me", new { displayName = "After" });

        (await response.ShouldBeProblemAsync(HttpStatusCode.Forbidden)).Title.ShouldBe("CSRF token missing or invalid");
        var me = await (await browser.Client.GetAsync("/api/v1/me")).ReadObjectAsync();
        ((string)me["user"]!["displayName"]!).ShouldBe("Before");
    }

    [Theory, AllDatabases]
    public async Task CookieWrite_WithAnotherSessionsToken_Returns403(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        using var mine = await app.SignInAsync(await app.CreateUserAsync());
        using var theirs = await app.SignInAsync(await app.CreateUserAsync());
        mine.UseCsrfToken(theirs.CsrfToken);

        await (await mine.Client.PatchJsonAsync("/api/v1/me", new { displayName = "x" })).ShouldBeProblemAsync(HttpStatusCode.Forbidden);
        mine.UseCsrfToken("forged-token");
        await (await mine.Client.PatchJsonAsync("/api/v1/me", new { displayName = "x" })).ShouldBeProblemAsync(HttpStatusCode.Forbidden);
    }

    [Theory, AllDatabases]
    public async Task CookieWrite_WithToken_IsAccepted_AndReadsNeedNone(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        using var browser = await app.SignInAsync(await app.CreateUserAsync());

        await (await browser.Client.PatchJsonAsync("/api/v1/me", new { displayName = "Changed" })).ShouldBeAsync(HttpStatusCode.OK);
        browser.Client.DefaultRequestHeaders.Remove("X-CSRF-Token");
        await (await browser.Client.GetAsync("/api/v1/me")).ShouldBeAsync(HttpStatusCode.OK);
        var fresh = await (await browser.Client.GetAsync("/api/v1/auth/csrf")).ReadObjectAsync();
        browser.UseCsrfToken((string)fresh["csrfToken"]!);
        await (await browser.Client.PatchJsonAsync("/api/v1/me", new { displayName = "Again" })).ShouldBeAsync(HttpStatusCode.OK);
    }

    [Theory, AllDatabases]
    public async Task ApiKeyWrite_NeedsNoToken(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();

        await (await workspace.Owner.PatchJsonAsync($"/api/v1/workspaces/{workspace.Name}", new { displayName = "By key" })).ShouldBeAsync(HttpStatusCode.OK);
    }
}

public sealed class SetupTests
{
    [Theory, AllDatabases]
    public async Task Setup_WithPrintedCode_MakesTheFirstUserInstanceOwnerOnce(DatabaseKind db)
    {
        await using var app = await CadreApp.StartAsync(db);
        var code = app.Services.GetRequiredService<StartupReport>().SetupCode;
        code.ShouldNotBeNull();
        using var client = app.Client();
        ((bool)(await (await client.GetAsync("/api/v1/setup")).ReadObjectAsync())["required"]!).ShouldBeTrue();

        var wrong = await client.PostJsonAsync("/api/v1/setup", new { code = "not-the-code", email = "owner@example.com", displayName = "Owner", password = PeopleApi.Password });
        var right = await client.PostJsonAsync("/api/v1/setup", new { code, email = "owner@example.com", displayName = "Owner", password = PeopleApi.Password });
        using var someoneElse = app.Client();
        var again = await someoneElse.PostJsonAsync("/api/v1/setup", new { code, email = "second@example.com", displayName = "Second", password = PeopleApi.Password });

        (await wrong.ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity)).Errors!.Keys.ShouldBe(["code"]);
        await right.ShouldBeAsync(HttpStatusCode.Created);
        ((string)(await right.ReadObjectAsync())["user"]!["instanceRole"]!).ShouldBe("owner");
        await again.ShouldBeProblemAsync(HttpStatusCode.Conflict);
        var me = await (await client.GetAsync("/api/v1/me")).ReadObjectAsync();
        ((string)me["instanceRole"]!).ShouldBe("owner");
        ((bool)(await (await client.GetAsync("/api/v1/setup")).ReadObjectAsync())["required"]!).ShouldBeFalse();
    }

    [Theory, AllDatabases]
    public async Task Setup_InvalidAccount_Returns422AndKeepsTheCodeUsable(DatabaseKind db)
    {
        await using var app = await CadreApp.StartAsync(db);
        var code = app.Services.GetRequiredService<StartupReport>().SetupCode;
        using var client = app.Client();

        var weak = await client.PostJsonAsync("/api/v1/setup", new { code, email = "owner@example.com", displayName = "Owner", password = "short" });

        (await weak.ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity)).Errors!.Keys.ShouldContain("password");
    }

    [Theory, AllDatabases]
    public async Task AdminEmailAndPassword_MakeTheOwnerAtStart_AndNoCodeIsPrinted(DatabaseKind db)
    {
        await using var app = await CadreApp.StartAsync(db, new Dictionary<string, string?>
        {
            ["Cadre:Auth:AdminEmail"] = "ops@example.com",
            ["Cadre:Auth:AdminPassword"] = PeopleApi.Password,
        });

        app.Services.GetRequiredService<StartupReport>().SetupCode.ShouldBeNull();
        using var browser = await app.SignInAsync(new TestUser("", "ops@example.com", PeopleApi.Password));
        var me = await (await browser.Client.GetAsync("/api/v1/me")).ReadObjectAsync();
        ((string)me["instanceRole"]!).ShouldBe("owner");
        await (await browser.Client.PostJsonAsync("/api/v1/workspaces", new { name = Api.UniqueName() })).ShouldBeAsync(HttpStatusCode.Created);
    }
}
