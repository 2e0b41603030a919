using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Cadre.E2E.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Cadre.E2E;

/// <summary>
/// Promoting workflows from one workspace to another in the browser: export from the list or a workflow's page,
/// then import with a mapping of persona and secret names, checked first (the API's dry run), and a bad document
/// answered with the API's problem.
/// </summary>
public sealed class WorkflowExportImportTests(InstanceWithOwner cadre) : IClassFixture<InstanceWithOwner>
{
    [BrowserFact]
    public Task ListExport_ImportedIntoAnotherWorkspaceWithAMapping_CreatesThenReportsUnchanged() => cadre.InPageAsync(async page =>
    {
        using var admin = cadre.Admin();
        await ArrangeAsync(admin, "dev", "dev-bot", "lead-intake");
        await ArrangeAsync(admin, "prod", "prod-bot", workflow: null);

        // Export the dev list as JSON: the browser downloads the API's document.
        await InstanceWithOwner.SignInAsync(page, "/w/dev/workflows");
        await page.GetByRole(AriaRole.Button, new() { Name = "Export", Exact = true }).ClickAsync();
        var exportDialog = page.GetByRole(AriaRole.Dialog, new() { Name = "Export workflows" });
        await Expect(exportDialog).ToContainTextAsync("(1 workflow)");
        var download = await page.RunAndWaitForDownloadAsync(() => exportDialog.GetByRole(AriaRole.Button, new() { Name = "Download" }).ClickAsync());
        download.SuggestedFilename.ShouldBe("dev-workflows.json");
        var file = (await download.PathAsync())!;
        var exported = JsonNode.Parse(await File.ReadAllTextAsync(file))!;
        ((string)exported["workspace"]!).ShouldBe("dev");
        ((string)exported["workflows"]![0]!["name"]!).ShouldBe("lead-intake");
        ((string)exported["workflows"]![0]!["executingAgent"]!).ShouldBe("dev-bot");
        await Expect(exportDialog).ToBeHiddenAsync();

        // Into prod: the names the document uses are offered for mapping; Check is the API's dry run.
        await page.GotoAsync("/w/prod/workflows");
        var dialog = await OpenImportAsync(page, file);
        await dialog.GetByLabel("Persona dev-bot: name in prod").FillAsync("prod-bot");
        await dialog.GetByLabel("Secret crm-dev-key: name in prod").FillAsync("crm-prod-key");
        await dialog.GetByLabel("Secret crmToken: name in prod").FillAsync("crmProdToken");
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Check" }).ClickAsync();
        var report = dialog.GetByRole(AriaRole.Region, new() { Name = "Import report" });
        await Expect(report).ToContainTextAsync("Would create 1, update 0, 0 unchanged, 0 errors (nothing was changed yet).");
        await Expect(report.Locator(".import-action")).ToHaveTextAsync("create");
        using (var notYet = await admin.GetAsync("/api/v1/workspaces/prod/workflows/lead-intake"))
        {
            notYet.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        }

        await dialog.GetByRole(AriaRole.Button, new() { Name = "Import", Exact = true }).ClickAsync();
        await Expect(report).ToContainTextAsync("Created 1, updated 0, 0 unchanged, 0 errors.");
        await Expect(report.GetByRole(AriaRole.Link, new() { Name = "lead-intake" })).ToBeVisibleAsync();
        var imported = await admin.GetFromJsonAsync<JsonObject>("/api/v1/workspaces/prod/workflows/lead-intake");
        ((string)imported!["executingAgent"]!).ShouldBe("prod-bot");
        ((string)imported["credentials"]!["crm"]!).ShouldBe("crm-prod-key");
        ((string)imported["steps"]![0]!["input"]!["token"]!).ShouldBe("{{ secrets.crmProdToken }}");

        // The list behind the dialog was refreshed.
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Close" }).Last.ClickAsync();
        await Expect(page.GetByRole(AriaRole.Table).Locator("tbody tr")).ToHaveCountAsync(1);
        await Expect(page.GetByRole(AriaRole.Link, new() { Name = "lead-intake" })).ToBeVisibleAsync();

        // The same file again, as an upsert with the same mapping: nothing to change.
        dialog = await OpenImportAsync(page, file);
        await dialog.GetByLabel("Persona dev-bot: name in prod").FillAsync("prod-bot");
        await dialog.GetByLabel("Secret crm-dev-key: name in prod").FillAsync("crm-prod-key");
        await dialog.GetByLabel("Secret crmToken: name in prod").FillAsync("crmProdToken");
        await dialog.GetByLabel("When a workflow of the same name exists").SelectOptionAsync("upsert");
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Check" }).ClickAsync();
        await Expect(report).ToContainTextAsync("Would create 0, update 0, 1 unchanged, 0 errors");
        await Expect(report.Locator(".import-action")).ToHaveTextAsync("unchanged");

        // Without the mapping, the API says which references prod lacks, per workflow.
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Remove persona dev-bot" }).ClickAsync();
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Check" }).ClickAsync();
        await Expect(report.Locator(".import-action")).ToHaveTextAsync("error");
        await Expect(report).ToContainTextAsync("executingAgent");
    });

    [BrowserFact]
    public Task InvalidDocument_ShowsTheApisProblem_AndCreatesNothing() => cadre.InPageAsync(async page =>
    {
        using var admin = cadre.Admin();
        await ArrangeAsync(admin, "target", "target-bot", workflow: null);
        await InstanceWithOwner.SignInAsync(page, "/w/target/workflows");

        await page.GetByRole(AriaRole.Button, new() { Name = "Import", Exact = true }).ClickAsync();
        var dialog = page.GetByRole(AriaRole.Dialog, new() { Name = "Import workflows" });
        var document = dialog.GetByLabel("Document", new() { Exact = true });
        await document.FillAsync("""{"workflows": {"name": "not-a-list"}}""");
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Import", Exact = true }).ClickAsync();
        var problem = dialog.GetByRole(AriaRole.Alert);
        await Expect(problem).ToContainTextAsync("Must be an export document");
        await Expect(dialog.GetByRole(AriaRole.Region, new() { Name = "Import report" })).ToHaveCountAsync(0);

        // Text that is not JSON (it opens as JSON does) gets the API's parser message.
        await document.FillAsync("""{"workflows": [""");
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Import", Exact = true }).ClickAsync();
        await Expect(problem).ToContainTextAsync("Is not valid JSON");

        var list = await admin.GetFromJsonAsync<JsonObject>("/api/v1/workspaces/target/workflows");
        ((int)list!["count"]!).ShouldBe(0);
    });

    [BrowserFact]
    public Task OneWorkflow_ExportedAsYamlFromItsPage_ImportsWithAMapping() => cadre.InPageAsync(async page =>
    {
        using var admin = cadre.Admin();
        await ArrangeAsync(admin, "staging", "staging-bot", "nightly-digest");
        await ArrangeAsync(admin, "live", "live-bot", workflow: null);

        await InstanceWithOwner.SignInAsync(page, "/w/staging/workflows/nightly-digest");
        await page.GetByRole(AriaRole.Button, new() { Name = "Export", Exact = true }).ClickAsync();
        var exportDialog = page.GetByRole(AriaRole.Dialog, new() { Name = "Export nightly-digest" });
        await exportDialog.GetByRole(AriaRole.Radio, new() { Name = "YAML" }).CheckAsync();
        var download = await page.RunAndWaitForDownloadAsync(() => exportDialog.GetByRole(AriaRole.Button, new() { Name = "Download" }).ClickAsync());
        download.SuggestedFilename.ShouldBe("staging-nightly-digest.yaml");
        var file = (await download.PathAsync())!;
        var yaml = await File.ReadAllTextAsync(file);
        yaml.ShouldContain("name: nightly-digest");
        yaml.ShouldContain("executingAgent: staging-bot");

        // YAML is read line by line for the names it uses; the mapping goes with it.
        await page.GotoAsync("/w/live/workflows");
        var dialog = await OpenImportAsync(page, file);
        await dialog.GetByLabel("Persona staging-bot: name in live").FillAsync("live-bot");
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Import", Exact = true }).ClickAsync();
        await Expect(dialog.GetByRole(AriaRole.Region, new() { Name = "Import report" })).ToContainTextAsync("Created 1, updated 0, 0 unchanged, 0 errors.");
        var imported = await admin.GetFromJsonAsync<JsonObject>("/api/v1/workspaces/live/workflows/nightly-digest");
        ((string)imported!["executingAgent"]!).ShouldBe("live-bot");
        // The secret was not mapped, so its name stays.
        ((string)imported["credentials"]!["crm"]!).ShouldBe("crm-dev-key");
    });

    private static async Task<ILocator> OpenImportAsync(IPage page, string file)
    {
        await page.GetByRole(AriaRole.Button, new() { Name = "Import", Exact = true }).ClickAsync();
        var dialog = page.GetByRole(AriaRole.Dialog, new() { Name = "Import workflows" });
        await dialog.GetByLabel("File", new() { Exact = true }).SetInputFilesAsync(file);
        await Expect(dialog.GetByLabel("Document", new() { Exact = true })).Not.ToBeEmptyAsync();
        return dialog;
    }

    /// <summary>A workspace with a persona and, when named, a workflow acting as that persona with a credential and a secret read.</summary>
    private async Task ArrangeAsync(HttpClient admin, string workspace, string persona, string? workflow)
    {
        await cadre.CreateWorkspaceAsync(workspace, workspace);
        await SendAsync(admin, $"/api/v1/workspaces/{workspace}/personas", new { name = persona, instructions = "You qualify leads." });
        if (workflow is null)
        {
            return;
        }

        await SendAsync(admin, $"/api/v1/workspaces/{workspace}/workflows", new
        {
            name = workflow,
            description = "Qualifies each new lead",
            executingAgent = persona,
            credentials = new { crm = "crm-dev-key" },
            steps = new[] { new { id = "shape", activity = new { uniqueIdentifier = "transform" }, input = new JsonObject { ["token"] = "{{ secrets.crmToken }}" } } },
        });
    }

    private static async Task SendAsync(HttpClient admin, string path, object body)
    {
        using var response = await admin.PostAsJsonAsync(path, body);
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"POST {path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        }
    }
}
