using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Cadre.E2E.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Cadre.E2E;

/// <summary>
/// The files page (list, filters, download, upload, delete) and a workflow's annotations edited as a form in the
/// Configuration tab, with the preview that runs the saved ones.
/// </summary>
public sealed class FilesAndAnnotationsTests(InstanceWithOwner cadre) : IClassFixture<InstanceWithOwner>
{
    [BrowserFact]
    public Task Files_AreListedFilteredDownloadedUploadedAndDeleted() => cadre.InPageAsync(async page =>
    {
        const string notesText = "Remember the milk.\n";
        var workspace = await cadre.CreateWorkspaceAsync("library", "Library");
        using var admin = cadre.Admin();
        var notes = await ApiFiles.UploadAsync(admin, workspace, "notes.txt", "text/plain", Encoding.UTF8.GetBytes(notesText));
        await ApiFiles.DeclareAsync(admin, workspace, "later.csv", "text/csv", Encoding.UTF8.GetBytes("a,b\n1,2\n"));
        // A run still in progress uses this one, so it cannot be deleted yet.
        var held = await ApiFiles.UploadAsync(admin, workspace, "held.json", "application/json", Encoding.UTF8.GetBytes("""{"a": 1}"""));
        await ApiCalls.SendAsync(admin, HttpMethod.Post, $"/api/v1/workspaces/{workspace}/workflows", new
        {
            name = "napper",
            steps = new object[] { new { id = "nap", activity = new { uniqueIdentifier = "sleep" }, input = new JsonObject { ["duration"] = "1h" } } },
        });
        var run = await ApiCalls.SendAsync(admin, HttpMethod.Post, $"/api/v1/workspaces/{workspace}/workflows/napper/runs", new { attachments = new[] { new { storageId = held } } });
        var runId = (string)run["id"]!;

        await InstanceWithOwner.SignInAsync(page, "/w/library/files");
        var rows = page.GetByRole(AriaRole.Table, new() { Name = "Files" }).Locator("tbody tr");
        await Expect(rows).ToHaveCountAsync(3);
        var notesRow = rows.Filter(new() { HasText = "notes.txt" });
        await Expect(notesRow).ToContainTextAsync("text/plain");
        await Expect(notesRow).ToContainTextAsync("19 B");
        await Expect(notesRow).ToContainTextAsync("ready");
        await Expect(notesRow).ToContainTextAsync(notes);
        await Expect(rows.Filter(new() { HasText = "later.csv" })).ToContainTextAsync("pending");
        await Expect(rows.Filter(new() { HasText = "later.csv" }).GetByRole(AriaRole.Link, new() { Name = "Download later.csv" })).ToHaveCountAsync(0);
        await Expect(rows.Filter(new() { HasText = "held.json" })).ToContainTextAsync("Kept (used by a run since");

        // The filters are in the address: by status, then by the run that uses a file.
        await page.GetByLabel("Status").SelectOptionAsync("ready");
        await Expect(page).ToHaveURLAsync(new Regex(@"\?status=ready$"));
        await Expect(rows).ToHaveCountAsync(2);
        await Expect(rows.Filter(new() { HasText = "later.csv" })).ToHaveCountAsync(0);
        await page.GotoAsync("/w/library/files?status=pending");
        await Expect(rows).ToHaveCountAsync(1);
        await Expect(rows.First).ToContainTextAsync("later.csv");
        await page.GetByLabel("Status").SelectOptionAsync("");
        await page.GetByLabel("Used by run").FillAsync(runId);
        await Expect(page).ToHaveURLAsync(new Regex($@"\?run={runId}$"));
        await Expect(rows).ToHaveCountAsync(1);
        await Expect(rows.First).ToContainTextAsync("held.json");
        await page.GetByLabel("Used by run").FillAsync("");
        await Expect(rows).ToHaveCountAsync(3);

        // Download: the API's content, under the file's name.
        var download = await page.RunAndWaitForDownloadAsync(() => notesRow.GetByRole(AriaRole.Link, new() { Name = "Download notes.txt" }).ClickAsync());
        download.SuggestedFilename.ShouldBe("notes.txt");
        (await File.ReadAllTextAsync((await download.PathAsync())!)).ShouldBe(notesText);

        // The storage ID, which runs name, goes to the clipboard.
        await page.Context.GrantPermissionsAsync(["clipboard-read", "clipboard-write"]);
        await notesRow.GetByRole(AriaRole.Button, new() { Name = "Copy the storage ID of notes.txt" }).ClickAsync();
        await Expect(notesRow.GetByRole(AriaRole.Status)).ToHaveTextAsync($"Copied {notes} to the clipboard.");
        (await page.EvaluateAsync<string>("() => navigator.clipboard.readText()")).ShouldBe(notes);

        // One uploaded in the browser: declared, its bytes put to the signed URL, then listed ready.
        var chooser = await page.RunAndWaitForFileChooserAsync(() => page.GetByRole(AriaRole.Button, new() { Name = "Upload files" }).First.ClickAsync());
        await chooser.SetFilesAsync(new FilePayload { Name = "report.md", MimeType = "text/markdown", Buffer = Encoding.UTF8.GetBytes("# Report\n") });
        await Expect(rows).ToHaveCountAsync(4);
        await Expect(rows.Filter(new() { HasText = "report.md" })).ToContainTextAsync("ready");
        var listed = await admin.GetFromJsonAsync<JsonObject>($"/api/v1/workspaces/{workspace}/files?status=ready");
        listed!["results"]!.AsArray().Select(f => (string)f!["name"]!).ShouldContain("report.md");

        // A file a run in progress uses: the API's 409 shows in the dialog, and nothing is deleted.
        var dialog = page.GetByRole(AriaRole.Dialog, new() { Name = "Delete the file?" });
        await rows.Filter(new() { HasText = "held.json" }).GetByRole(AriaRole.Button, new() { Name = "Delete held.json" }).ClickAsync();
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Delete file" }).ClickAsync();
        await Expect(dialog.GetByRole(AriaRole.Alert)).ToContainTextAsync("409");
        await Expect(dialog.GetByRole(AriaRole.Alert)).ToContainTextAsync("still in progress");
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Cancel" }).ClickAsync();
        await Expect(rows).ToHaveCountAsync(4);

        // One deleted: gone from the list, and the API answers 404.
        await notesRow.GetByRole(AriaRole.Button, new() { Name = "Delete notes.txt" }).ClickAsync();
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Delete file" }).ClickAsync();
        await Expect(dialog).ToBeHiddenAsync();
        await Expect(rows).ToHaveCountAsync(3);
        await Expect(rows.Filter(new() { HasText = "notes.txt" })).ToHaveCountAsync(0);
        using var gone = await admin.GetAsync($"/api/v1/workspaces/{workspace}/files/{notes}");
        ((int)gone.StatusCode).ShouldBe(404);

        // The run view links to the files its run uses.
        await page.GotoAsync($"/w/library/runs/{runId}");
        await page.GetByRole(AriaRole.Link, new() { Name = "The run's files" }).ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex($@"/w/library/files\?run={runId}$"));
        await Expect(rows).ToHaveCountAsync(1);
        await Expect(rows.First).ToContainTextAsync("held.json");
    });

    [BrowserFact]
    public Task Annotations_AreEditedAsAForm_PreviewedAgainstAContext_AndTheApisMessagesShowUnderTheirRow() => cadre.InPageAsync(async page =>
    {
        var workspace = await cadre.CreateWorkspaceAsync("enrich", "Enrich");
        using var admin = cadre.Admin();
        await ApiCalls.SendAsync(admin, HttpMethod.Post, $"/api/v1/workspaces/{workspace}/personas", new
        {
            name = "reviewer", displayName = "Reviewer", description = "Reviews changes.", instructions = "You review changes carefully.",
        });
        await ApiCalls.SendAsync(admin, HttpMethod.Post, $"/api/v1/workspaces/{workspace}/workflows", new
        {
            name = "enriched",
            steps = new[] { new { id = "only", activity = new { uniqueIdentifier = "transform" }, input = new JsonObject { ["ok"] = true } } },
            annotations = new[]
            {
                new { id = "agent", annotator = "persona", input = new JsonObject { ["name"] = "{{ context.body.persona }}" }, required = new[] { "name" }, relations = new[] { "workflows" } },
            },
        });

        await InstanceWithOwner.SignInAsync(page, "/w/enrich/workflows/enriched");
        var form = page.GetByRole(AriaRole.Form, new() { Name = "Configuration" });
        await form.GetByText("Advanced").ClickAsync();
        var agent = form.GetByRole(AriaRole.Group, new() { Name = "Annotation 1" });
        await Expect(agent.GetByLabel("ID", new() { Exact = true })).ToHaveValueAsync("agent");
        await Expect(agent.GetByLabel("Annotator")).ToHaveValueAsync("persona");
        await Expect(agent.GetByRole(AriaRole.Checkbox, new() { Name = "name", Exact = true })).ToBeCheckedAsync();
        await Expect(agent.GetByRole(AriaRole.Checkbox, new() { Name = "Also the workflows that use it" })).ToBeCheckedAsync();

        // Edit one row, add a workflow annotation and move it first; the API sees the list as the form shows it.
        await agent.GetByLabel("Write to").FillAsync("who");
        await form.GetByRole(AriaRole.Button, new() { Name = "Add an annotation" }).ClickAsync();
        var added = form.GetByRole(AriaRole.Group, new() { Name = "Annotation 2" });
        await added.GetByLabel("ID", new() { Exact = true }).FillAsync("self");
        await added.GetByLabel("Annotator").SelectOptionAsync("workflow");
        await added.GetByLabel("Input", new() { Exact = true }).FillAsync("""{"name": "{{ workflow.name }}"}""");
        await added.GetByRole(AriaRole.Button, new() { Name = "Move annotation self up" }).ClickAsync();
        await Expect(form.GetByRole(AriaRole.Group, new() { Name = "Annotation 1" }).GetByLabel("ID", new() { Exact = true })).ToHaveValueAsync("self");
        await form.GetByRole(AriaRole.Button, new() { Name = "Save configuration" }).ClickAsync();
        await Expect(page.GetByText("All changes saved · version 2")).ToBeVisibleAsync();

        var saved = await admin.GetFromJsonAsync<JsonObject>($"/api/v1/workspaces/{workspace}/workflows/enriched");
        var annotations = saved!["annotations"]!.AsArray();
        annotations.Select(a => (string)a!["id"]!).ToArray().ShouldBe(new[] { "self", "agent" });
        ((string)annotations[0]!["annotator"]!).ShouldBe("workflow");
        ((string)annotations[0]!["input"]!["name"]!).ShouldBe("{{ workflow.name }}");
        ((string)annotations[1]!["writeTo"]!).ShouldBe("who");
        annotations[1]!["required"]!.AsArray().Select(r => (string)r!).ShouldBe(new[] { "name" });
        annotations[1]!["relations"]!.AsArray().Select(r => (string)r!).ShouldBe(new[] { "workflows" });

        // The preview runs the saved annotations against a context and shows what they made of it.
        await form.GetByText("Advanced").ClickAsync();
        var preview = form.GetByRole(AriaRole.Region, new() { Name = "Try annotations" });
        await preview.GetByLabel("Context", new() { Exact = true }).FillAsync("""{"body": {"persona": "reviewer"}}""");
        await preview.GetByRole(AriaRole.Button, new() { Name = "Run annotations" }).ClickAsync();
        var enriched = preview.GetByLabel("Enriched context");
        await Expect(enriched).ToContainTextAsync("\"who\"");
        await Expect(enriched).ToContainTextAsync("Reviewer");
        await Expect(enriched).ToContainTextAsync("\"self\"");
        await Expect(preview).ToContainTextAsync("Wrote annotations.self (self), who (agent).");

        // A context that leaves a required member empty: the API's problem names the annotation and the member.
        await preview.GetByLabel("Context", new() { Exact = true }).FillAsync("""{"body": {}}""");
        await preview.GetByRole(AriaRole.Button, new() { Name = "Run annotations" }).ClickAsync();
        var problem = preview.GetByRole(AriaRole.Alert);
        await Expect(problem).ToContainTextAsync("annotations[1].input.name");
        await Expect(problem).ToContainTextAsync("Is required, but rendered empty against this context.");
        await Expect(enriched).ToHaveCountAsync(0);

        // A bad ID: the API's 422 shows under that row's field, nothing is saved, and the preview says it runs the saved ones.
        var self = form.GetByRole(AriaRole.Group, new() { Name = "Annotation 1" });
        await self.GetByLabel("ID", new() { Exact = true }).FillAsync("9lives");
        await Expect(preview.GetByRole(AriaRole.Note)).ToContainTextAsync("unsaved changes");
        await form.GetByRole(AriaRole.Button, new() { Name = "Save configuration" }).ClickAsync();
        var id = self.GetByLabel("ID", new() { Exact = true });
        await Expect(id).ToHaveAttributeAsync("aria-invalid", "true");
        await Expect(id).ToHaveAccessibleDescriptionAsync(new Regex("Is required: letters, digits, _ and -, starting with a letter"));
        await Expect(form.GetByRole(AriaRole.Group, new() { Name = "Annotation 2" }).GetByLabel("ID", new() { Exact = true })).Not.ToHaveAttributeAsync("aria-invalid", "true");
        ((int)(await admin.GetFromJsonAsync<JsonObject>($"/api/v1/workspaces/{workspace}/workflows/enriched"))!["version"]!).ShouldBe(2);

        // Discard goes back to the saved rows.
        await form.GetByRole(AriaRole.Button, new() { Name = "Discard" }).ClickAsync();
        await Expect(self.GetByLabel("ID", new() { Exact = true })).ToHaveValueAsync("self");
        await Expect(preview.GetByRole(AriaRole.Note)).ToHaveCountAsync(0);
    });
}
