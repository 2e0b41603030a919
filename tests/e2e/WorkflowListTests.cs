using System.Net.Http.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Cadre.E2E.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Cadre.E2E;

/// <summary>The workflows list over workflows made through the API: what it shows, search, pages, the active switch.</summary>
public sealed class WorkflowListTests(InstanceWithOwner cadre) : IClassFixture<InstanceWithOwner>
{
    [BrowserFact]
    public Task WorkflowsMadeThroughTheApi_AreListedAndSearched() => cadre.InPageAsync(async page =>
    {
        var workspace = await cadre.CreateWorkspaceAsync("ops", "Operations");
        await cadre.CreateWorkflowAsync(workspace, "invoice-check", "Checks each invoice against the order");
        await cadre.CreateWorkflowAsync(workspace, "ticket-triage", "Routes support tickets to a persona");
        await cadre.CreateWorkflowAsync(workspace, "nightly-report", "Sums up the day");

        await InstanceWithOwner.SignInAsync(page, "/w/ops/workflows");

        var rows = page.GetByRole(AriaRole.Table).Locator("tbody tr");
        await Expect(rows).ToHaveCountAsync(3);
        await Expect(page.GetByText("3 workflows")).ToBeVisibleAsync();
        await CadreBrowserServer.DocScreenshotAsync(page, "workflows-list");
        await Expect(rows.Filter(new() { HasText = "invoice-check" })).ToContainTextAsync("Checks each invoice against the order");
        await Expect(rows.Filter(new() { HasText = "invoice-check" })).ToContainTextAsync("Manual");
        await Expect(rows.Filter(new() { HasText = "invoice-check" })).ToContainTextAsync("Never run");

        await page.GetByLabel("Search workflows").FillAsync("invoice");
        await Expect(page).ToHaveURLAsync(new Regex(@"\?q=invoice$"));
        await Expect(rows).ToHaveCountAsync(1);
        await Expect(rows.First).ToContainTextAsync("invoice-check");

        // The search is in the address, so a reload (or a shared link) shows the same list.
        await page.ReloadAsync();
        await Expect(page.GetByLabel("Search workflows")).ToHaveValueAsync("invoice");
        await Expect(rows).ToHaveCountAsync(1);

        await page.GetByLabel("Search workflows").FillAsync("zeppelin");
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "No workflow matches" })).ToBeVisibleAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Clear the search" }).ClickAsync();
        await Expect(rows).ToHaveCountAsync(3);
    });

    [BrowserFact]
    public Task ManyWorkflows_ArePagedWithTheApisCursor_AndTheSwitchActivatesOne() => cadre.InPageAsync(async page =>
    {
        var workspace = await cadre.CreateWorkspaceAsync("paging", "Paging");
        for (var i = 1; i <= 27; i++)
        {
            await cadre.CreateWorkflowAsync(workspace, $"flow-{i:00}", $"Workflow number {i}");
        }

        await InstanceWithOwner.SignInAsync(page, "/w/paging/workflows");

        // Newest first, 25 to a page.
        var rows = page.GetByRole(AriaRole.Table).Locator("tbody tr");
        await Expect(rows).ToHaveCountAsync(25);
        await Expect(rows.First).ToContainTextAsync("flow-27");
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "← Previous" })).ToBeDisabledAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Next →" }).ClickAsync();
        await Expect(rows).ToHaveCountAsync(2);
        await Expect(rows.First).ToContainTextAsync("flow-02");
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Next →" })).ToBeDisabledAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "← Previous" }).ClickAsync();
        await Expect(rows).ToHaveCountAsync(25);

        // The switch is a keyboard control: focus it and press Space.
        var toggle = page.GetByRole(AriaRole.Switch, new() { Name = "flow-27 active" });
        await Expect(toggle).Not.ToBeCheckedAsync();
        await toggle.FocusAsync();
        await page.Keyboard.PressAsync("Space");
        await Expect(page.GetByRole(AriaRole.Status).Filter(new() { HasText = "flow-27 activated." })).ToBeVisibleAsync();
        using var admin = cadre.Admin();
        var workflow = await admin.GetFromJsonAsync<JsonObject>($"/api/v1/workspaces/{workspace}/workflows/flow-27");
        ((bool)workflow!["isActive"]!).ShouldBeTrue();
    });

    [BrowserFact]
    public Task FirstWorkflow_FromTheAskAModelTemplate_OpensInTheBuilderAndRunsAtOnce() => cadre.InPageAsync(async page =>
    {
        await cadre.CreateWorkspaceAsync("templates", "Templates");
        await InstanceWithOwner.SignInAsync(page, "/w/templates/workflows");

        await page.GetByRole(AriaRole.Button, new() { Name = "Create your first workflow" }).ClickAsync();
        var dialog = page.GetByRole(AriaRole.Dialog);
        await dialog.GetByLabel("Name").FillAsync("ask");
        await dialog.GetByRole(AriaRole.Radio, new() { Name = "Ask a model" }).CheckAsync();
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Create" }).ClickAsync();

        await Expect(page).ToHaveURLAsync(new Regex("/w/templates/workflows/ask/builder$"));
        await Expect(page.Locator(".react-flow__node")).ToHaveCountAsync(1);

        // The template runs on the built-in mock model, which answers with the prompt it was given.
        await page.GetByRole(AriaRole.Button, new() { Name = "Start run" }).ClickAsync();
        await page.GetByRole(AriaRole.Dialog).GetByLabel("Prompt").FillAsync("tell me about durable runs");
        await page.GetByRole(AriaRole.Dialog).GetByRole(AriaRole.Button, new() { Name = "Start run" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status, new() { Name = "Run status: succeeded" })).ToBeVisibleAsync();
        await Expect(page.GetByText("tell me about durable runs").First).ToBeVisibleAsync();

        // Back in the list, the workflow's last run links to it.
        await page.GotoAsync("/w/templates/workflows");
        var lastRun = page.GetByRole(AriaRole.Link, new() { Name = "Run 1 of ask: succeeded" });
        await Expect(lastRun).ToBeVisibleAsync();
        await lastRun.ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status, new() { Name = "Run status: succeeded" })).ToBeVisibleAsync();
    });
}
