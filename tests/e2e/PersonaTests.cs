using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Cadre.E2E.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Cadre.E2E;

/// <summary>
/// Personas in the browser: creating one and publishing a draft, a conflict with a change made meanwhile,
/// the live preview and the versions' diff, and the list's search, export, import and bin.
/// </summary>
public sealed class PersonaTests(InstanceWithOwner cadre) : IClassFixture<InstanceWithOwner>
{
    [BrowserFact]
    public Task CreatedPersona_DraftSavedThenPublished_BecomesTheNextVersion() => cadre.InPageAsync(async page =>
    {
        var workspace = await cadre.CreateWorkspaceAsync("studio", "Studio");
        await InstanceWithOwner.SignInAsync(page, "/w/studio/personas");

        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "No personas yet" })).ToBeVisibleAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Create your first persona" }).ClickAsync();
        var dialog = page.GetByRole(AriaRole.Dialog, new() { Name = "Create a persona" });
        await dialog.GetByLabel("Name", new() { Exact = true }).FillAsync("support-agent");
        await dialog.GetByLabel("Display name").FillAsync("Support agent");
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Create" }).ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex("/w/studio/personas/support-agent$"));
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Support agent" })).ToBeVisibleAsync();

        var instructions = page.GetByRole(AriaRole.Textbox, new() { Name = "Instructions", Exact = true });
        await instructions.FillAsync("You answer billing questions politely and briefly.");
        await Expect(page.GetByText("Unsaved changes")).ToBeVisibleAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Save draft" }).ClickAsync();
        await Expect(page.GetByText("Draft saved, not published")).ToBeVisibleAsync();

        // The draft is kept by the API: the list points to it, and the editor opens it again.
        await page.GetByRole(AriaRole.Link, new() { Name = "← Personas" }).ClickAsync();
        var drafts = page.GetByRole(AriaRole.Region, new() { Name = "Your drafts" });
        await drafts.GetByRole(AriaRole.Link, new() { Name = "support-agent" }).ClickAsync();
        await Expect(instructions).ToHaveValueAsync("You answer billing questions politely and briefly.");
        await Expect(page.GetByText("Draft saved, not published")).ToBeVisibleAsync();
        await CadreBrowserServer.DocScreenshotAsync(page, "persona-editor");

        // A draft is not live: the persona the API serves is still version 1, without instructions.
        using var admin = cadre.Admin();
        var before = await admin.GetFromJsonAsync<JsonObject>($"/api/v1/workspaces/{workspace}/personas/support-agent");
        ((int)before!["version"]!).ShouldBe(1);
        ((string?)before["instructions"] ?? "").ShouldBeEmpty();

        await page.GetByRole(AriaRole.Button, new() { Name = "Publish", Exact = true }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status).Filter(new() { HasText = "Published version 2." })).ToBeVisibleAsync();
        await Expect(page.GetByText("· version 2 ·")).ToBeVisibleAsync();

        var after = await admin.GetFromJsonAsync<JsonObject>($"/api/v1/workspaces/{workspace}/personas/support-agent");
        ((int)after!["version"]!).ShouldBe(2);
        ((string?)after["instructions"]).ShouldBe("You answer billing questions politely and briefly.");
        ((string?)after["displayName"]).ShouldBe("Support agent");
    });

    [BrowserFact]
    public Task InvalidDraft_ShowsTheApisMessagesNextToTheFields_AndIsNotPublished() => cadre.InPageAsync(async page =>
    {
        var workspace = await cadre.CreateWorkspaceAsync("checks", "Checks");
        using var admin = cadre.Admin();
        await CreatePersonaAsync(admin, workspace, new JsonObject { ["name"] = "careful" });

        await InstanceWithOwner.SignInAsync(page, "/w/checks/personas/careful");
        var temperature = page.GetByRole(AriaRole.Spinbutton, new() { Name = "Temperature" });
        await temperature.FillAsync("5");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save draft" }).ClickAsync();

        // A draft may be invalid while it is edited; the API's message shows at the field it names.
        await Expect(temperature).ToHaveAttributeAsync("aria-invalid", "true");
        await Expect(page.GetByRole(AriaRole.Status).Filter(new() { HasText = "Fix the marked fields before publishing." })).ToBeVisibleAsync();
        await Expect(page.GetByText("One field needs attention before this can be published")).ToContainTextAsync("model.temperature");

        await page.GetByRole(AriaRole.Button, new() { Name = "Publish", Exact = true }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Alert).Filter(new() { HasText = "(422)" })).ToContainTextAsync("model.temperature");
        var persona = await admin.GetFromJsonAsync<JsonObject>($"/api/v1/workspaces/{workspace}/personas/careful");
        ((int)persona!["version"]!).ShouldBe(1);

        await temperature.FillAsync("0.3");
        await page.GetByRole(AriaRole.Button, new() { Name = "Publish", Exact = true }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status).Filter(new() { HasText = "Published version 2." })).ToBeVisibleAsync();
        await Expect(temperature).Not.ToHaveAttributeAsync("aria-invalid", "true");
        persona = await admin.GetFromJsonAsync<JsonObject>($"/api/v1/workspaces/{workspace}/personas/careful");
        ((double)persona!["model"]!["temperature"]!).ShouldBe(0.3);
    });

    [BrowserFact]
    public Task PersonaPublishedMeanwhile_SavingShowsTheConflict_AndOverwritesNothingUntilAsked() => cadre.InPageAsync(async page =>
    {
        var workspace = await cadre.CreateWorkspaceAsync("conflicts", "Conflicts");
        using var admin = cadre.Admin();
        await CreatePersonaAsync(admin, workspace, new JsonObject { ["name"] = "triage", ["instructions"] = "Original instructions." });

        await InstanceWithOwner.SignInAsync(page, "/w/conflicts/personas/triage");
        var instructions = page.GetByRole(AriaRole.Textbox, new() { Name = "Instructions", Exact = true });
        await Expect(instructions).ToHaveValueAsync("Original instructions.");

        // Someone else publishes while the editor is open.
        await PatchAsync(admin, $"/api/v1/workspaces/{workspace}/personas/triage", new JsonObject { ["instructions"] = "Their instructions." });

        await instructions.FillAsync("My instructions.");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save draft" }).ClickAsync();
        var conflict = page.GetByRole(AriaRole.Dialog, new() { Name = "Someone else changed this persona" });
        await Expect(conflict).ToContainTextAsync("was published as version 2");
        await Expect(conflict).ToContainTextAsync("since you opened it at version 1");
        await CadreBrowserServer.DocScreenshotAsync(page, "persona-conflict");
        var persona = await admin.GetFromJsonAsync<JsonObject>($"/api/v1/workspaces/{workspace}/personas/triage");
        ((string?)persona!["instructions"]).ShouldBe("Their instructions.");
        ((int)persona["version"]!).ShouldBe(2);

        await conflict.GetByRole(AriaRole.Button, new() { Name = "Load their version (drop mine)" }).ClickAsync();
        await Expect(instructions).ToHaveValueAsync("Their instructions.");
        await Expect(page.GetByText("· version 2 ·")).ToBeVisibleAsync();

        // A draft saved on version 2, then version 3 published by someone else: publishing asks before overwriting.
        await instructions.FillAsync("My second attempt.");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save draft" }).ClickAsync();
        await Expect(page.GetByText("Draft saved, not published")).ToBeVisibleAsync();
        await PatchAsync(admin, $"/api/v1/workspaces/{workspace}/personas/triage", new JsonObject { ["description"] = "Their description." });
        await page.GetByRole(AriaRole.Button, new() { Name = "Publish", Exact = true }).ClickAsync();
        await Expect(conflict).ToContainTextAsync("since your draft started from version 2");
        persona = await admin.GetFromJsonAsync<JsonObject>($"/api/v1/workspaces/{workspace}/personas/triage");
        ((int)persona!["version"]!).ShouldBe(3);
        ((string?)persona["instructions"]).ShouldBe("Their instructions.");

        await conflict.GetByRole(AriaRole.Button, new() { Name = "Publish mine anyway" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status).Filter(new() { HasText = "Published version 4." })).ToBeVisibleAsync();
        persona = await admin.GetFromJsonAsync<JsonObject>($"/api/v1/workspaces/{workspace}/personas/triage");
        ((int)persona!["version"]!).ShouldBe(4);
        ((string?)persona["instructions"]).ShouldBe("My second attempt.");
    });

    [BrowserFact]
    public Task PersonaPublishedMeanwhile_KeepingMine_AppliesMyEditsOnTopOfTheirs() => cadre.InPageAsync(async page =>
    {
        var workspace = await cadre.CreateWorkspaceAsync("keepers", "Keepers");
        using var admin = cadre.Admin();
        await CreatePersonaAsync(admin, workspace, new JsonObject { ["name"] = "keeper", ["instructions"] = "First." });

        await InstanceWithOwner.SignInAsync(page, "/w/keepers/personas/keeper");
        var instructions = page.GetByRole(AriaRole.Textbox, new() { Name = "Instructions", Exact = true });
        await Expect(instructions).ToHaveValueAsync("First.");
        await PatchAsync(admin, $"/api/v1/workspaces/{workspace}/personas/keeper", new JsonObject { ["instructions"] = "Theirs.", ["description"] = "Theirs too." });

        await instructions.FillAsync("Mine.");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save draft" }).ClickAsync();
        var conflict = page.GetByRole(AriaRole.Dialog, new() { Name = "Someone else changed this persona" });
        await conflict.GetByRole(AriaRole.Button, new() { Name = "Keep my changes over theirs" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status).Filter(new() { HasText = "now based on version 2" })).ToBeVisibleAsync();
        await Expect(instructions).ToHaveValueAsync("Mine.");
        await Expect(page.GetByText("Draft saved, not published")).ToBeVisibleAsync();

        // Nothing is live until published; then it is version 3, on top of theirs.
        var persona = await admin.GetFromJsonAsync<JsonObject>($"/api/v1/workspaces/{workspace}/personas/keeper");
        ((string?)persona!["instructions"]).ShouldBe("Theirs.");
        await page.GetByRole(AriaRole.Button, new() { Name = "Publish", Exact = true }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status).Filter(new() { HasText = "Published version 3." })).ToBeVisibleAsync();
        persona = await admin.GetFromJsonAsync<JsonObject>($"/api/v1/workspaces/{workspace}/personas/keeper");
        ((int)persona!["version"]!).ShouldBe(3);
        ((string?)persona["instructions"]).ShouldBe("Mine.");
        // Only the fields changed here were applied over theirs: their description stays.
        ((string?)persona["description"]).ShouldBe("Theirs too.");
    });

    [BrowserFact]
    public Task Preview_FillsPlaceholders_AndVersionsShowWhatChanged() => cadre.InPageAsync(async page =>
    {
        var workspace = await cadre.CreateWorkspaceAsync("prompts", "Prompts");
        using var admin = cadre.Admin();
        await CreatePersonaAsync(admin, workspace, new JsonObject
        {
            ["name"] = "biller",
            ["instructions"] = "You help {{ params.audience }} with billing.",
            ["parameters"] = new JsonArray(new JsonObject { ["name"] = "audience", ["type"] = "string", ["default"] = "customers" }),
        });

        await InstanceWithOwner.SignInAsync(page, "/w/prompts/personas/biller");
        var server = page.GetByTestId("server-preview");
        await Expect(server).ToHaveTextAsync("You help customers with billing.");
        await page.GetByLabel("Value of audience").FillAsync("admins");
        await Expect(server).ToHaveTextAsync("You help admins with billing.");

        // A placeholder nobody declared is flagged as it is typed, and can be declared from there.
        var instructions = page.GetByRole(AriaRole.Textbox, new() { Name = "Instructions", Exact = true });
        await instructions.FillAsync("You help {{ params.audience }} with billing, in a {{ params.tone }} tone.");
        var placeholders = page.GetByRole(AriaRole.Group, new() { Name = "Placeholders in the instructions" });
        await Expect(placeholders.Locator("li").Filter(new() { HasText = "params.tone" })).ToContainTextAsync("not declared");

        // Inside the text box too: the backdrop behind it (hidden from screen readers) marks each placeholder.
        var backdrop = page.Locator(".field").Filter(new() { Has = instructions }).Locator(".highlight-backdrop");
        await Expect(backdrop).ToHaveAttributeAsync("aria-hidden", "true");
        await Expect(backdrop).ToHaveTextAsync(new Regex("^" + Regex.Escape("You help {{ params.audience }} with billing, in a {{ params.tone }} tone.")));
        await Expect(backdrop.Locator("mark.hl-known")).ToHaveTextAsync(["{{ params.audience }}"]);
        await Expect(backdrop.Locator("mark.hl-unknown")).ToHaveTextAsync(["{{ params.tone }}"]);
        await placeholders.GetByRole(AriaRole.Button, new() { Name = "Declare tone" }).ClickAsync();
        await Expect(placeholders.Locator("li").Filter(new() { HasText = "params.tone" })).ToContainTextAsync("declared");
        await Expect(backdrop.Locator("mark.hl-known")).ToHaveTextAsync(["{{ params.audience }}", "{{ params.tone }}"]);
        await Expect(backdrop.Locator("mark.hl-unknown")).ToHaveCountAsync(0);
        await page.GetByRole(AriaRole.Group, new() { Name = "Parameter tone" }).GetByLabel("Default").FillAsync("friendly");

        // The edited instructions render with the values marked.
        var draftPreview = page.GetByTestId("draft-preview");
        await Expect(draftPreview).ToHaveTextAsync("You help admins with billing, in a friendly tone.");
        await Expect(draftPreview.Locator("mark.ph-filled")).ToHaveCountAsync(2);
        await CadreBrowserServer.DocScreenshotAsync(page, "persona-preview");

        await page.GetByRole(AriaRole.Button, new() { Name = "Publish", Exact = true }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status).Filter(new() { HasText = "Published version 2." })).ToBeVisibleAsync();
        await Expect(server).ToHaveTextAsync("You help admins with billing, in a friendly tone.");

        await page.GetByRole(AriaRole.Link, new() { Name = "Versions", Exact = true }).ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex(@"\?tab=versions$"));
        var changes = page.GetByRole(AriaRole.List, new() { Name = "Changes from version 1 to 2" });
        await Expect(changes.Locator("li").Filter(new() { HasText = "instructions" })).ToBeVisibleAsync();
        await Expect(changes.Locator("li").Filter(new() { HasText = "instructions" }).Locator("ins").Last).ToContainTextAsync("tone");
        await Expect(changes).ToContainTextAsync("parameters");
        await Expect(page.GetByRole(AriaRole.Table).Locator("tbody tr")).ToHaveCountAsync(2);
        await CadreBrowserServer.DocScreenshotAsync(page, "persona-versions");

        // The card is the API's Markdown, rendered.
        await page.GetByRole(AriaRole.Link, new() { Name = "Card", Exact = true }).ClickAsync();
        var card = page.GetByTestId("persona-card");
        await Expect(card.GetByRole(AriaRole.Heading, new() { Name = "biller", Level = 2 })).ToBeVisibleAsync();
        await Expect(card.GetByRole(AriaRole.Heading, new() { Name = "Parameters" })).ToBeVisibleAsync();
        await Expect(card.GetByRole(AriaRole.Cell, new() { Name = "tone", Exact = true })).ToBeVisibleAsync();
        await Expect(card.Locator("pre")).ToContainTextAsync("{{ params.tone }}");

        var persona = await admin.GetFromJsonAsync<JsonObject>($"/api/v1/workspaces/{workspace}/personas/biller");
        ((int)persona!["version"]!).ShouldBe(2);
        persona["parameters"]!.AsArray().Count.ShouldBe(2);
        ((string?)persona["parameters"]![1]!["default"]).ShouldBe("friendly");
    });

    [BrowserFact]
    public Task PersonaList_SearchesExportsImportsAndBins() => cadre.InPageAsync(async page =>
    {
        var workspace = await cadre.CreateWorkspaceAsync("library", "Library");
        using var admin = cadre.Admin();
        await CreatePersonaAsync(admin, workspace, new JsonObject { ["name"] = "billing-helper", ["description"] = "Answers invoices", ["tags"] = new JsonArray("finance") });
        await CreatePersonaAsync(admin, workspace, new JsonObject { ["name"] = "ticket-router", ["description"] = "Routes tickets" });
        await CreatePersonaAsync(admin, workspace, new JsonObject { ["name"] = "night-owl", ["instructions"] = "Summarise the invoices of the day." });

        await InstanceWithOwner.SignInAsync(page, "/w/library/personas");
        var rows = page.GetByRole(AriaRole.Table).Locator("tbody tr");
        await Expect(rows).ToHaveCountAsync(3);
        await CadreBrowserServer.DocScreenshotAsync(page, "personas-list");

        // Search reads instructions too, and lives in the address.
        await page.GetByLabel("Search personas").FillAsync("invoice");
        await Expect(page).ToHaveURLAsync(new Regex(@"\?q=invoice$"));
        await Expect(rows).ToHaveCountAsync(2);
        await page.ReloadAsync();
        await Expect(rows).ToHaveCountAsync(2);
        await page.GetByLabel("Search personas").FillAsync("");
        await Expect(rows).ToHaveCountAsync(3);

        // The CSV export is the API's file, for the list's filters.
        var download = await page.RunAndWaitForDownloadAsync(() => page.GetByRole(AriaRole.Link, new() { Name = "Export CSV" }).ClickAsync());
        download.SuggestedFilename.ShouldBe("library-personas.csv");
        var csv = await File.ReadAllTextAsync((await download.PathAsync())!);
        csv.ShouldContain("id,name,displayName,description");
        csv.ShouldContain("billing-helper");
        csv.ShouldContain("night-owl");

        // An import reports each row: one created, one refused for its name.
        await page.GetByRole(AriaRole.Button, new() { Name = "Import", Exact = true }).ClickAsync();
        var dialog = page.GetByRole(AriaRole.Dialog, new() { Name = "Import personas" });
        await dialog.GetByLabel("File").SetInputFilesAsync(new FilePayload
        {
            Name = "personas.json",
            MimeType = "application/json",
            Buffer = Encoding.UTF8.GetBytes("""[{"name": "imported-one", "description": "From a file"}, {"name": "Bad Name"}]"""),
        });
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Import", Exact = true }).ClickAsync();
        var report = dialog.GetByRole(AriaRole.Region, new() { Name = "Import report" });
        await Expect(report).ToContainTextAsync("Created 1, updated 0, 0 unchanged, 1 error");
        await Expect(report.Locator("li.import-error")).ToHaveCountAsync(1);
        await Expect(report.Locator("li.import-error")).ToContainTextAsync("Bad Name");
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Close" }).First.ClickAsync();
        await Expect(rows).ToHaveCountAsync(4);
        using (var imported = await admin.GetAsync($"/api/v1/workspaces/{workspace}/personas/imported-one"))
        {
            imported.StatusCode.ShouldBe(HttpStatusCode.OK);
        }

        // To the bin and back.
        await page.GetByRole(AriaRole.Button, new() { Name = "Move ticket-router to the bin" }).ClickAsync();
        await page.GetByRole(AriaRole.Dialog, new() { Name = "Move to the bin?" }).GetByRole(AriaRole.Button, new() { Name = "Move to bin" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status).Filter(new() { HasText = "ticket-router moved to the bin." })).ToBeVisibleAsync();
        await Expect(rows).ToHaveCountAsync(3);
        var binned = await admin.GetFromJsonAsync<JsonObject>($"/api/v1/workspaces/{workspace}/personas?status=deleted");
        ((int)binned!["count"]!).ShouldBe(1);

        await page.GetByLabel("Show", new() { Exact = true }).SelectOptionAsync("deleted");
        await Expect(rows).ToHaveCountAsync(1);
        await page.GetByRole(AriaRole.Button, new() { Name = "Restore ticket-router" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "The bin is empty" })).ToBeVisibleAsync();
        binned = await admin.GetFromJsonAsync<JsonObject>($"/api/v1/workspaces/{workspace}/personas?status=deleted");
        ((int)binned!["count"]!).ShouldBe(0);
    });

    private static async Task CreatePersonaAsync(HttpClient admin, string workspace, JsonObject persona)
    {
        using var response = await admin.PostAsJsonAsync($"/api/v1/workspaces/{workspace}/personas", persona);
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"Creating persona: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        }
    }

    private static async Task PatchAsync(HttpClient admin, string path, JsonObject changes)
    {
        using var response = await admin.PatchAsync(path, JsonContent.Create(changes));
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"PATCH {path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        }
    }
}
