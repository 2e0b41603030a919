using System.Net.Http.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Cadre.E2E.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Cadre.E2E;

/// <summary>
/// Leaving an editor with unsaved changes: the browser's Back button and the UI's own links are held and asked
/// about in Cadre's dialog, Stay keeps the page and its changes, Leave drops them; once saved, nothing asks.
/// </summary>
public sealed class UnsavedChangesTests(InstanceWithOwner cadre) : IClassFixture<InstanceWithOwner>
{
    [BrowserFact]
    public Task Builder_BackWithAnUnsavedStep_AsksFirst_StayKeepsIt_LeaveSavesNothing() => cadre.InPageAsync(async page =>
    {
        var workspace = await cadre.CreateWorkspaceAsync("leaving", "Leaving");
        await cadre.CreateWorkflowAsync(workspace, "kept", "Stays as it was");

        await InstanceWithOwner.SignInAsync(page, "/w/leaving/workflows/kept");
        await page.GetByRole(AriaRole.Link, new() { Name = "Builder", Exact = true }).ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex("/w/leaving/workflows/kept/builder$"));
        var nodes = page.Locator(".react-flow__node");
        await Expect(nodes).ToHaveCountAsync(1);
        await PageActions.AddStepAsync(page, "transform", "extra");
        await Expect(nodes).ToHaveCountAsync(2);
        await Expect(page.GetByText("Unsaved changes")).ToBeVisibleAsync();

        await page.GoBackAsync();
        var dialog = page.GetByRole(AriaRole.Dialog, new() { Name = "Leave without saving?" });
        await Expect(dialog).ToBeVisibleAsync();
        await Expect(dialog).ToContainTextAsync("the steps, dependencies and positions changed since the last save");
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Stay" }).ClickAsync();
        await Expect(dialog).ToBeHiddenAsync();
        await Expect(page).ToHaveURLAsync(new Regex("/w/leaving/workflows/kept/builder$"));
        await Expect(nodes).ToHaveCountAsync(2);
        await Expect(page.GetByText("Unsaved changes")).ToBeVisibleAsync();

        await page.GoBackAsync();
        await Expect(dialog).ToBeVisibleAsync();
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Leave without saving" }).ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex("/w/leaving/workflows/kept$"));
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Save configuration" })).ToBeVisibleAsync();
        await Expect(dialog).ToHaveCountAsync(0);

        using var admin = cadre.Admin();
        var stored = await admin.GetFromJsonAsync<JsonObject>($"/api/v1/workspaces/{workspace}/workflows/kept");
        ((int)stored!["version"]!).ShouldBe(1);
        stored["steps"]!.AsArray().Select(s => (string)s!["id"]!).ToArray().ShouldBe(new[] { "only" });
    });

    [BrowserFact]
    public Task PersonaEditor_ASidebarLinkWithUnsavedEdits_AsksFirst_EscapeStays_LeaveDropsThem() => cadre.InPageAsync(async page =>
    {
        var workspace = await cadre.CreateWorkspaceAsync("asking", "Asking");
        using var admin = cadre.Admin();
        await CreatePersonaAsync(admin, workspace, "editor");

        await InstanceWithOwner.SignInAsync(page, "/w/asking/personas/editor");
        var instructions = page.GetByRole(AriaRole.Textbox, new() { Name = "Instructions", Exact = true });
        await instructions.FillAsync("Never saved.");
        await Expect(page.GetByText("Unsaved changes")).ToBeVisibleAsync();

        var workflows = page.GetByRole(AriaRole.Navigation, new() { Name = "Sections" }).GetByRole(AriaRole.Link, new() { Name = "Workflows" });
        var dialog = page.GetByRole(AriaRole.Dialog, new() { Name = "Leave without saving?" });
        await workflows.ClickAsync();
        await Expect(dialog).ToBeVisibleAsync();
        await Expect(dialog).ToContainTextAsync("the edits made since the draft was last saved");
        // The keyboard answers too: Escape is Stay.
        await page.Keyboard.PressAsync("Escape");
        await Expect(dialog).ToBeHiddenAsync();
        await Expect(page).ToHaveURLAsync(new Regex("/w/asking/personas/editor$"));
        await Expect(instructions).ToHaveValueAsync("Never saved.");

        await workflows.ClickAsync();
        await Expect(dialog).ToBeVisibleAsync();
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Leave without saving" }).ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex("/w/asking/workflows$"));

        var stored = await admin.GetFromJsonAsync<JsonObject>($"/api/v1/workspaces/{workspace}/personas/editor");
        ((int)stored!["version"]!).ShouldBe(1);
        ((string?)stored["instructions"] ?? "").ShouldBeEmpty();
    });

    [BrowserFact]
    public Task SavedChanges_LeavingDoesNotAsk() => cadre.InPageAsync(async page =>
    {
        var workspace = await cadre.CreateWorkspaceAsync("saved", "Saved");
        await cadre.CreateWorkflowAsync(workspace, "done", "Saved before leaving");
        using var admin = cadre.Admin();
        await CreatePersonaAsync(admin, workspace, "finished");
        var dialog = page.GetByRole(AriaRole.Dialog, new() { Name = "Leave without saving?" });

        await InstanceWithOwner.SignInAsync(page, "/w/saved/workflows/done");
        await page.GetByRole(AriaRole.Link, new() { Name = "Builder", Exact = true }).ClickAsync();
        await PageActions.AddStepAsync(page, "transform", "extra");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save", Exact = true }).ClickAsync();
        await Expect(page.GetByText("All changes saved · version 2")).ToBeVisibleAsync();
        await page.GoBackAsync();
        await Expect(page).ToHaveURLAsync(new Regex("/w/saved/workflows/done$"));
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Save configuration" })).ToBeVisibleAsync();
        await Expect(dialog).ToHaveCountAsync(0);

        await page.GotoAsync("/w/saved/personas/finished");
        var instructions = page.GetByRole(AriaRole.Textbox, new() { Name = "Instructions", Exact = true });
        await instructions.FillAsync("Saved as a draft.");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save draft" }).ClickAsync();
        await Expect(page.GetByText("Draft saved, not published")).ToBeVisibleAsync();
        await page.GetByRole(AriaRole.Navigation, new() { Name = "Sections" }).GetByRole(AriaRole.Link, new() { Name = "Workflows" }).ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex("/w/saved/workflows$"));
        await Expect(dialog).ToHaveCountAsync(0);
    });

    private static async Task CreatePersonaAsync(HttpClient admin, string workspace, string name)
    {
        using var response = await admin.PostAsJsonAsync($"/api/v1/workspaces/{workspace}/personas", new JsonObject { ["name"] = name });
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"Creating persona {name}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        }
    }
}
