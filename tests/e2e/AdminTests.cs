using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Cadre.E2E.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Cadre.E2E;

/// <summary>
/// The building-block and administration pages: secrets stay write-only, a new key is shown once, people are invited
/// and their roles changed, a guardrail's and the settings' API errors show beside their fields.
/// </summary>
public sealed class AdminTests(InstanceWithOwner cadre) : IClassFixture<InstanceWithOwner>
{
    [BrowserFact]
    public Task Secret_CreatedInTheBrowser_ItsValueIsNeverShownAgain() => cadre.InPageAsync(async page =>
    {
        const string value = "sk_live_never-show-me-4242";
        await cadre.CreateWorkspaceAsync("vault", "Vault");
        await InstanceWithOwner.SignInAsync(page, "/w/vault/secrets");

        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "No secrets yet" })).ToBeVisibleAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "New secret" }).First.ClickAsync();
        var dialog = page.GetByRole(AriaRole.Dialog);
        await dialog.GetByLabel("Name", new() { Exact = true }).FillAsync("STRIPE_KEY");
        await dialog.GetByLabel("Value", new() { Exact = true }).FillAsync(value);
        await dialog.GetByLabel("Description").FillAsync("Payments, live mode");
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Create secret" }).ClickAsync();

        var row = page.GetByRole(AriaRole.Table).Locator("tbody tr").Filter(new() { HasText = "STRIPE_KEY" });
        await Expect(row).ToContainTextAsync("Payments, live mode");
        await Expect(row).ToContainTextAsync("write-only");
        await Expect(page.GetByText("1 secret", new() { Exact = true })).ToBeVisibleAsync();
        Assert.DoesNotContain(value, await page.ContentAsync());

        // Replacing the value asks for a new one and shows neither.
        await row.GetByRole(AriaRole.Button, new() { Name = "Replace value of STRIPE_KEY" }).ClickAsync();
        await Expect(dialog.GetByLabel("New value")).ToHaveValueAsync("");
        await dialog.GetByLabel("New value").FillAsync(value + "-rotated");
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Save" }).ClickAsync();
        await Expect(page.GetByText("The value of STRIPE_KEY was replaced.")).ToBeVisibleAsync();
        await page.ReloadAsync();
        await Expect(row).ToBeVisibleAsync();
        Assert.DoesNotContain(value, await page.ContentAsync());

        using var admin = cadre.Admin();
        var list = await admin.GetStringAsync("/api/v1/workspaces/vault/secrets");
        Assert.Contains("STRIPE_KEY", list);
        Assert.DoesNotContain(value, list);
        var secret = await admin.GetFromJsonAsync<JsonObject>("/api/v1/workspaces/vault/secrets/STRIPE_KEY");
        Assert.Equal(2, (int)secret!["version"]!);
    });

    [BrowserFact]
    public Task ServiceAccountKey_IsShownOnce_ThenOnlyItsPrefix() => cadre.InPageAsync(async page =>
    {
        await cadre.CreateWorkspaceAsync("machines", "Machines");
        await InstanceWithOwner.SignInAsync(page, "/w/machines/keys");

        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "No service accounts yet" })).ToBeVisibleAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "New service account" }).ClickAsync();
        var dialog = page.GetByRole(AriaRole.Dialog);
        await dialog.GetByLabel("Name", new() { Exact = true }).FillAsync("ci");
        await dialog.GetByLabel("Role").SelectOptionAsync("operator");
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Create service account" }).ClickAsync();

        // Making the account leads straight on to its first key.
        await Expect(dialog.GetByRole(AriaRole.Heading, new() { Name = "New key for ci" })).ToBeVisibleAsync();
        await dialog.GetByLabel("Key name").FillAsync("github-actions");
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Create key" }).ClickAsync();

        var key = await PageActions.ReadKeyShownOnceAsync(dialog, "github-actions");

        // The shown key is the real one.
        using (var asKey = cadre.Server.Client(key))
        {
            using var response = await asKey.GetAsync("/api/v1/workspaces/machines");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        await dialog.GetByRole(AriaRole.Button, new() { Name = "I have stored it" }).ClickAsync();
        var keyRow = page.GetByRole(AriaRole.Table, new() { Name = "API keys" }).Locator("tbody tr").Filter(new() { HasText = "github-actions" });
        await Expect(keyRow).ToContainTextAsync(key[..12]);
        await Expect(keyRow).ToContainTextAsync("active");
        await Expect(page.GetByRole(AriaRole.Table, new() { Name = "Service accounts" }).Locator("tbody tr").Filter(new() { HasText = "ci" })).ToContainTextAsync("operator");
        Assert.DoesNotContain(key, await page.ContentAsync());
        await page.ReloadAsync();
        await Expect(keyRow).ToBeVisibleAsync();
        Assert.DoesNotContain(key, await page.ContentAsync());

        using var admin = cadre.Admin();
        var keys = await admin.GetStringAsync("/api/v1/workspaces/machines/api-keys");
        Assert.Contains(key[..12], keys);
        Assert.DoesNotContain(key, keys);

        // Revoking stops it at once.
        await keyRow.GetByRole(AriaRole.Button, new() { Name = "Revoke github-actions" }).ClickAsync();
        await page.GetByRole(AriaRole.Dialog).GetByRole(AriaRole.Button, new() { Name = "Revoke key" }).ClickAsync();
        await Expect(keyRow).ToContainTextAsync("revoked");
        using var revoked = cadre.Server.Client(key);
        using var refused = await revoked.GetAsync("/api/v1/workspaces/machines");
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
    });

    [BrowserFact]
    public Task Members_InvitedWithARole_AndAMembersRoleChanged() => cadre.InPageAsync(async page =>
    {
        await cadre.CreateWorkspaceAsync("crew", "Crew");
        using var admin = cadre.Admin();
        using (var created = await admin.PostAsJsonAsync("/api/v1/users", new { email = "dana@example.com", displayName = "Dana Scully", password = "the truth is out there 1993" }))
        {
            created.EnsureSuccessStatusCode();
        }

        using (var added = await admin.PostAsJsonAsync("/api/v1/workspaces/crew/members", new { email = "dana@example.com", role = "viewer" }))
        {
            added.EnsureSuccessStatusCode();
        }

        await InstanceWithOwner.SignInAsync(page, "/w/crew/members");

        var members = page.GetByRole(AriaRole.Table, new() { Name = "Members" });
        var role = members.GetByLabel("Role of Dana Scully");
        await Expect(role).ToHaveValueAsync("viewer");
        await role.SelectOptionAsync("editor");
        await Expect(page.GetByText("Dana Scully is now editor.")).ToBeVisibleAsync();
        var member = await admin.GetFromJsonAsync<JsonObject>("/api/v1/workspaces/crew/members?search=dana");
        Assert.Equal("editor", (string?)member!["results"]![0]!["role"]);

        await page.GetByRole(AriaRole.Button, new() { Name = "Invite people" }).ClickAsync();
        var dialog = page.GetByRole(AriaRole.Dialog);
        await dialog.GetByLabel("E-mail address").FillAsync("erin@example.com");
        await dialog.GetByLabel("Role").SelectOptionAsync("operator");
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Send invitation" }).ClickAsync();

        // No SMTP here: the link is shown once, to pass on.
        var link = dialog.GetByLabel("Invitation link for erin@example.com");
        await Expect(link).ToHaveValueAsync(new Regex(@"/invitations/accept\?token=."));
        var url = await link.InputValueAsync();
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Done" }).ClickAsync();

        var invitation = page.GetByRole(AriaRole.Table, new() { Name = "Invitations" }).Locator("tbody tr").Filter(new() { HasText = "erin@example.com" });
        await Expect(invitation).ToContainTextAsync("operator");
        await Expect(invitation).ToContainTextAsync("pending");
        var invitations = await admin.GetFromJsonAsync<JsonObject>("/api/v1/workspaces/crew/invitations");
        var listed = Assert.Single(invitations!["results"]!.AsArray());
        Assert.Equal("erin@example.com", (string?)listed!["email"]);
        Assert.Equal("operator", (string?)listed["role"]);

        // The link leads a newcomer to make an account and join.
        await using var newcomer = await cadre.Browser.NewContextAsync(new() { BaseURL = cadre.Url });
        var erin = await newcomer.NewPageAsync();
        await erin.GotoAsync(new Uri(url).PathAndQuery);
        await Expect(erin.GetByText("to the workspace Crew as operator")).ToBeVisibleAsync();
        await erin.GetByLabel("Your name").FillAsync("Erin Hale");
        await erin.GetByLabel("Password").FillAsync("a long enough passphrase 77");
        await erin.GetByRole(AriaRole.Button, new() { Name = "Create account and join" }).ClickAsync();
        await Expect(erin).ToHaveURLAsync(new Regex("/w/crew/workflows$"));
        var joined = await admin.GetFromJsonAsync<JsonObject>("/api/v1/workspaces/crew/members?search=erin");
        Assert.Equal("operator", (string?)joined!["results"]![0]!["role"]);
    });

    [BrowserFact]
    public Task Guardrail_TheApisErrorShowsBesideTheField_ThenItSaves() => cadre.InPageAsync(async page =>
    {
        await cadre.CreateWorkspaceAsync("guards", "Guards");
        await InstanceWithOwner.SignInAsync(page, "/w/guards/guardrails");

        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "No guardrails yet" })).ToBeVisibleAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "New guardrail" }).First.ClickAsync();
        var dialog = page.GetByRole(AriaRole.Dialog);
        await dialog.GetByLabel("Name", new() { Exact = true }).FillAsync("short-answers");
        await dialog.GetByLabel("Kind").SelectOptionAsync("max_length");
        await dialog.GetByLabel("Stage").SelectOptionAsync("output");
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Create guardrail" }).ClickAsync();

        // Nothing given for the most characters: the API's 422 names config.max, shown under that field.
        var max = dialog.GetByLabel("Most characters");
        await Expect(max).ToHaveAttributeAsync("aria-invalid", "true");
        await Expect(max).ToHaveAccessibleDescriptionAsync(new Regex("Is required: the most characters"));
        await max.FillAsync("500");
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Create guardrail" }).ClickAsync();

        var row = page.GetByRole(AriaRole.Table).Locator("tbody tr").Filter(new() { HasText = "short-answers" });
        await Expect(row).ToContainTextAsync("over 500 characters");
        await Expect(row).ToContainTextAsync("output");
        await Expect(dialog).ToBeHiddenAsync();
        using var admin = cadre.Admin();
        var guardrail = await admin.GetFromJsonAsync<JsonObject>("/api/v1/workspaces/guards/guardrails/short-answers");
        Assert.Equal("max_length", (string?)guardrail!["kind"]);
        Assert.Equal(500, (int)guardrail["config"]!["max"]!);
    });

    [BrowserFact]
    public Task Settings_AnInvalidTimeZoneShowsTheApisError_AValidOneIsSaved() => cadre.InPageAsync(async page =>
    {
        await cadre.CreateWorkspaceAsync("clock", "Clock");
        await InstanceWithOwner.SignInAsync(page, "/w/clock/settings");

        var zone = page.GetByLabel("Time zone");
        await zone.FillAsync("Mars/Olympus_Mons");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save settings" }).ClickAsync();
        await Expect(zone).ToHaveAttributeAsync("aria-invalid", "true");
        await Expect(zone).ToHaveAccessibleDescriptionAsync(new Regex("Must be a time zone's IANA name"));
        using var admin = cadre.Admin();
        var unchanged = await admin.GetFromJsonAsync<JsonObject>("/api/v1/workspaces/clock");
        Assert.Null(unchanged!["settings"]!["timeZone"]);

        await zone.FillAsync("Europe/Paris");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save settings" }).ClickAsync();
        await Expect(page.GetByText("Settings saved.")).ToBeVisibleAsync();
        await Expect(zone).Not.ToHaveAttributeAsync("aria-invalid", "true");
        var saved = await admin.GetFromJsonAsync<JsonObject>("/api/v1/workspaces/clock");
        Assert.Equal("Europe/Paris", (string?)saved!["settings"]!["timeZone"]);

        await page.ReloadAsync();
        await Expect(page.GetByLabel("Time zone")).ToHaveValueAsync("Europe/Paris");
    });

    [BrowserFact]
    public Task PasswordReset_TheLinksPageSetsANewPassword_ThatSignsIn() => cadre.InPageAsync(async page =>
    {
        using var admin = cadre.Admin();
        using var created = await admin.PostAsJsonAsync("/api/v1/users", new { email = "fox@example.com", displayName = "Fox Mulder", password = "i want to believe 1013" });
        created.EnsureSuccessStatusCode();
        var user = await created.Content.ReadFromJsonAsync<JsonObject>();
        using var issued = await admin.PostAsync($"/api/v1/users/{(string?)user!["id"]}/password-reset", null);
        issued.EnsureSuccessStatusCode();
        var link = (string?)(await issued.Content.ReadFromJsonAsync<JsonObject>())!["link"];
        Assert.NotNull(link);

        await page.GotoAsync(new Uri(link).PathAndQuery);
        await page.GetByLabel("New password").FillAsync("trust no one, not even 1013");
        await page.GetByLabel("Repeat the password").FillAsync("trust no one, not even 1014");
        await Expect(page.GetByText("The two passwords differ.")).ToBeVisibleAsync();
        await page.GetByLabel("Repeat the password").FillAsync("trust no one, not even 1013");
        await page.GetByRole(AriaRole.Button, new() { Name = "Set password" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Password changed" })).ToBeVisibleAsync();

        await page.GetByRole(AriaRole.Link, new() { Name = "Sign in" }).ClickAsync();
        await page.GetByLabel("E-mail address").FillAsync("fox@example.com");
        await page.GetByLabel("Password").FillAsync("trust no one, not even 1013");
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Expect(page.GetByText("Fox Mulder")).ToBeVisibleAsync();

        // The link works once.
        await page.GotoAsync(new Uri(link).PathAndQuery);
        await page.GetByLabel("New password").FillAsync("another long password 2002");
        await page.GetByLabel("Repeat the password").FillAsync("another long password 2002");
        await page.GetByRole(AriaRole.Button, new() { Name = "Set password" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Alert)).ToBeVisibleAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Password changed" })).ToHaveCountAsync(0);
    });
}
