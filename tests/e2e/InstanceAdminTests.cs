using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Cadre.E2E.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Cadre.E2E;

/// <summary>
/// Your account (personal keys shown once, a password change) and the instance administration pages: users and their
/// instance roles, nodes, the encryption key ring and the instance audit log, which a workspace member cannot open.
/// </summary>
public sealed class InstanceAdminTests(InstanceWithOwner cadre) : IClassFixture<InstanceWithOwner>
{
    [BrowserFact]
    public Task PersonalKey_IsShownOnce_WorksAgainstTheApi_ThenIsRevoked() => cadre.InPageAsync(async page =>
    {
        await InstanceWithOwner.SignInAsync(page, "/account");
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Your account", Level = 1 })).ToBeVisibleAsync();

        await page.GetByRole(AriaRole.Button, new() { Name = "New personal key" }).ClickAsync();
        var dialog = page.GetByRole(AriaRole.Dialog);
        await dialog.GetByLabel("Key name").FillAsync("laptop-cli");
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Create key" }).ClickAsync();

        var key = await PageActions.ReadKeyShownOnceAsync(dialog, "laptop-cli");

        using (var asKey = cadre.Server.Client(key))
        {
            var me = await asKey.GetFromJsonAsync<JsonObject>("/api/v1/me");
            Assert.Equal(InstanceWithOwner.OwnerEmail, (string?)me!["user"]!["email"]);
        }

        await dialog.GetByRole(AriaRole.Button, new() { Name = "I have stored it" }).ClickAsync();
        var row = page.GetByRole(AriaRole.Table, new() { Name = "Personal API keys" }).Locator("tbody tr").Filter(new() { HasText = "laptop-cli" });
        await Expect(row).ToContainTextAsync(key[..12]);
        await Expect(row).ToContainTextAsync("active");
        Assert.DoesNotContain(key, await page.ContentAsync());

        await row.GetByRole(AriaRole.Button, new() { Name = "Revoke laptop-cli" }).ClickAsync();
        await page.GetByRole(AriaRole.Dialog).GetByRole(AriaRole.Button, new() { Name = "Revoke key" }).ClickAsync();
        await Expect(row).ToContainTextAsync("revoked");
        using var revoked = cadre.Server.Client(key);
        using var refused = await revoked.GetAsync("/api/v1/me");
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
    });

    [BrowserFact]
    public Task Password_ChangedOnTheAccountPage_SignsInWithTheNewOne() => cadre.InPageAsync(async page =>
    {
        const string email = "pat@example.com", first = "first password of pat 2024", second = "second password of pat 2025";
        await CreateUserAsync(email, "Pat Lee", first);
        await SignInAsAsync(page, email, first);

        await page.GetByRole(AriaRole.Link, new() { Name = "Pat Lee" }).ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex("/account$"));
        await page.GetByLabel("Current password").FillAsync(first);
        await page.GetByLabel("New password", new() { Exact = true }).FillAsync(second);
        await page.GetByLabel("Repeat the new password").FillAsync(second);
        await page.GetByRole(AriaRole.Button, new() { Name = "Change password" }).ClickAsync();
        await Expect(page.GetByText("Password changed.")).ToBeVisibleAsync();

        // This browser stays signed in, with a session that may still write.
        await page.GetByLabel("Display name").FillAsync("Pat Q. Lee");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save profile" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Link, new() { Name = "Pat Q. Lee" })).ToBeVisibleAsync();

        await page.GetByRole(AriaRole.Button, new() { Name = "Sign out" }).ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex("/login$"));
        await page.GetByLabel("E-mail address").FillAsync(email);
        await page.GetByLabel("Password").FillAsync(first);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Alert)).ToBeVisibleAsync();
        await page.GetByLabel("Password").FillAsync(second);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Link, new() { Name = "Pat Q. Lee" })).ToBeVisibleAsync();
    });

    [BrowserFact]
    public Task UsersPage_ListsAccounts_AndChangesAnInstanceRole() => cadre.InPageAsync(async page =>
    {
        var userId = await CreateUserAsync("robin@example.com", "Robin Hart", "a sparrow at dawn 77 times");
        await InstanceWithOwner.SignInAsync(page, "/admin/users");

        await Expect(page.GetByRole(AriaRole.Link, new() { Name = "Instance", Exact = true })).ToBeVisibleAsync();
        var users = page.GetByRole(AriaRole.Table, new() { Name = "Users" });
        await Expect(users).ToContainTextAsync(InstanceWithOwner.OwnerEmail);
        var role = users.GetByLabel("Instance role of Robin Hart");
        await Expect(role).ToHaveValueAsync("none");
        await role.SelectOptionAsync("admin");
        await Expect(page.GetByText("Robin Hart is now instance admin.")).ToBeVisibleAsync();

        using var admin = cadre.Admin();
        var user = await admin.GetFromJsonAsync<JsonObject>($"/api/v1/users/{userId}");
        Assert.Equal("admin", (string?)user!["instanceRole"]);

        await page.GetByLabel("Search").FillAsync("robin");
        await page.GetByRole(AriaRole.Button, new() { Name = "Search", Exact = true }).ClickAsync();
        await Expect(users.Locator("tbody tr")).ToHaveCountAsync(1);
    });

    [BrowserFact]
    public Task NodesEncryptionAndAudit_ShowThisServer_TheKeyRing_AndEarlierActions() => cadre.InPageAsync(async page =>
    {
        await InstanceWithOwner.SignInAsync(page, "/admin/nodes");
        var live = page.GetByRole(AriaRole.Table, new() { Name = "Nodes" }).Locator("tbody tr").Filter(new() { HasText = "live" });
        await Expect(live).ToHaveCountAsync(1);

        await page.GetByRole(AriaRole.Link, new() { Name = "Encryption" }).ClickAsync();
        var keys = page.GetByRole(AriaRole.Table, new() { Name = "Encryption keys" });
        await Expect(keys.Locator("tbody tr").Filter(new() { HasText = "current" })).ToHaveCountAsync(1);
        await page.GetByRole(AriaRole.Button, new() { Name = "Rotate secrets to the current key" }).ClickAsync();
        await page.GetByRole(AriaRole.Dialog).GetByRole(AriaRole.Button, new() { Name = "Rotate now" }).ClickAsync();
        await Expect(page.GetByText("Rotation done:", new() { Exact = true })).ToBeVisibleAsync();

        // Signing in (above) is an instance-level entry.
        await page.GetByRole(AriaRole.Link, new() { Name = "Audit log" }).ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex("/admin/audit$"));
        await page.GetByLabel("Action").FillAsync("auth.signed_in");
        await page.GetByRole(AriaRole.Button, new() { Name = "Apply filters" }).ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex("action=auth.signed_in"));
        var entries = page.GetByRole(AriaRole.Table, new() { Name = "Audit log entries" });
        await Expect(entries.Locator("tbody tr").First).ToContainTextAsync(InstanceWithOwner.OwnerEmail);
        await Expect(entries.Locator("tbody tr").First).ToContainTextAsync("instance");
        await Expect(page.GetByRole(AriaRole.Link, new() { Name = "Export CSV" })).ToHaveAttributeAsync("href", new Regex("/api/v1/admin/audit/export\\?.*action=auth.signed_in"));
    });

    [BrowserFact]
    public Task WorkspaceMember_SeesNoInstanceLink_AndIsToldTheyHaveNoAccess() => cadre.InPageAsync(async page =>
    {
        const string email = "sam@example.com", password = "sam's password is long enough";
        await cadre.CreateWorkspaceAsync("plain", "Plain");
        await CreateUserAsync(email, "Sam Reed", password);
        using (var admin = cadre.Admin())
        using (var added = await admin.PostAsJsonAsync("/api/v1/workspaces/plain/members", new { email, role = "editor" }))
        {
            added.EnsureSuccessStatusCode();
        }

        await SignInAsAsync(page, email, password);
        await Expect(page.GetByRole(AriaRole.Link, new() { Name = "Sam Reed" })).ToBeVisibleAsync();
        await Expect(page.GetByRole(AriaRole.Link, new() { Name = "Instance", Exact = true })).ToHaveCountAsync(0);

        // By its address, the page says they have no access, and asks the API nothing it would refuse.
        var refused = 0;
        page.Response += (_, response) => refused += response.Status == 403 ? 1 : 0;
        await page.GotoAsync("/admin/users");
        await Expect(page.GetByRole(AriaRole.Region, new() { Name = "You don't have access to this page" })).ToContainTextAsync("you have no instance role");
        await Expect(page.GetByRole(AriaRole.Alert)).ToHaveCountAsync(0);
        refused.ShouldBe(0);
    });

    [BrowserFact]
    public Task Settings_OwnershipTransferred_AfterTypingTheWorkspacesName() => cadre.InPageAsync(async page =>
    {
        await cadre.CreateWorkspaceAsync("handover", "Handover");
        var kimId = await CreateUserAsync("kim@example.com", "Kim Park", "a quiet harbour at noon 5");
        using var admin = cadre.Admin();
        using (var added = await admin.PostAsJsonAsync("/api/v1/workspaces/handover/members", new { email = "kim@example.com", role = "admin" }))
        {
            added.EnsureSuccessStatusCode();
        }

        await InstanceWithOwner.SignInAsync(page, "/w/handover/settings");
        await page.GetByLabel("New owner").SelectOptionAsync(kimId);
        await page.GetByRole(AriaRole.Button, new() { Name = "Transfer ownership…" }).ClickAsync();
        var dialog = page.GetByRole(AriaRole.Dialog);
        var confirm = dialog.GetByRole(AriaRole.Button, new() { Name = "Transfer ownership" });
        await Expect(confirm).ToBeDisabledAsync();
        await dialog.GetByLabel("Type handover to confirm").FillAsync("handover");
        await confirm.ClickAsync();
        await Expect(page.GetByText("Kim Park now owns Handover.")).ToBeVisibleAsync();

        var member = await admin.GetFromJsonAsync<JsonObject>($"/api/v1/workspaces/handover/members/{kimId}");
        Assert.Equal("owner", (string?)member!["role"]);
    });

    private async Task<string> CreateUserAsync(string email, string displayName, string password)
    {
        using var admin = cadre.Admin();
        using var created = await admin.PostAsJsonAsync("/api/v1/users", new { email, displayName, password });
        if (!created.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"Creating user {email}: {(int)created.StatusCode} {await created.Content.ReadAsStringAsync()}");
        }

        var user = await created.Content.ReadFromJsonAsync<JsonObject>();
        return (string)user!["id"]!;
    }

    private static async Task SignInAsAsync(IPage page, string email, string password)
    {
        await page.GotoAsync("/login");
        await page.GetByLabel("E-mail address").FillAsync(email);
        await page.GetByLabel("Password").FillAsync(password);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Expect(page).Not.ToHaveURLAsync(new Regex("/login"));
    }
}
