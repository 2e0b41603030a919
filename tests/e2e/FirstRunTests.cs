using System.Text.RegularExpressions;
using Cadre.E2E.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Cadre.E2E;

/// <summary>An empty instance, met through the browser: set-up, a first workspace, signing out and in.</summary>
public sealed partial class FirstRunTests(EmptyInstance cadre) : IClassFixture<EmptyInstance>
{
    [BrowserFact]
    public Task SetupLink_MakesTheOwner_WhoSignsOutAndInAgain() => cadre.InPageAsync(async page =>
    {
        // An empty instance sends every page to the first-run screen.
        await page.GotoAsync("/w/acme/workflows");
        await Expect(page).ToHaveURLAsync(EndsWith("/setup"));
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Welcome to Cadre" })).ToBeVisibleAsync();

        // The printed link fills in the code.
        var code = cadre.SetupCode();
        await page.GotoAsync($"/setup?code={code}");
        await Expect(page.GetByLabel("Setup code")).ToHaveValueAsync(code);
        await page.GetByLabel("Your name").FillAsync("Ada Lovelace");
        await page.GetByLabel("E-mail address").FillAsync("ada@example.com");
        await page.GetByLabel("Password").FillAsync("analytical engine notes");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create the owner account" }).ClickAsync();

        // Signed in as instance owner, with no workspace yet: the empty state says how to make one.
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "No workspace yet" })).ToBeVisibleAsync();
        await Expect(page.GetByText("Ada Lovelace")).ToBeVisibleAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Create a workspace" }).ClickAsync();
        await page.GetByLabel("Display name").FillAsync("Acme Inc");
        await Expect(page.GetByLabel("Name in URLs")).ToHaveValueAsync("acme-inc");
        await page.GetByRole(AriaRole.Dialog).GetByRole(AriaRole.Button, new() { Name = "Create" }).ClickAsync();

        await Expect(page).ToHaveURLAsync(EndsWith("/w/acme-inc/workflows"));
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "No workflows yet" })).ToBeVisibleAsync();
        await Expect(page.GetByRole(AriaRole.Combobox, new() { Name = "Workspace" })).ToHaveValueAsync("acme-inc");

        // The setup screen is gone for good.
        await page.GotoAsync("/setup");
        await Expect(page).ToHaveURLAsync(EndsWith("/w/acme-inc/workflows"));

        await page.GetByRole(AriaRole.Button, new() { Name = "Sign out" }).ClickAsync();
        await Expect(page).ToHaveURLAsync(EndsWith("/login"));

        // A wrong password is answered with the API's problem.
        await page.GetByLabel("E-mail address").FillAsync("ada@example.com");
        await page.GetByLabel("Password").FillAsync("not the password at all");
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("The e-mail address or password is wrong.");

        await page.GetByLabel("Password").FillAsync("analytical engine notes");
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Expect(page).ToHaveURLAsync(EndsWith("/w/acme-inc/workflows"));

        // The session is a cookie: a reload stays signed in.
        await page.ReloadAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "No workflows yet" })).ToBeVisibleAsync();
    });

    private static Regex EndsWith(string path) => new(Regex.Escape(path) + "$");
}
