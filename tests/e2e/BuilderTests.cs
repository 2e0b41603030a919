using System.Net.Http.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Cadre.E2E.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Cadre.E2E;

/// <summary>The workflow builder, its versions and the workflows list's actions, driven by clicks; the API says what was saved.</summary>
public sealed class BuilderTests(InstanceWithOwner cadre) : IClassFixture<InstanceWithOwner>
{
    [BrowserFact]
    public Task ThreeStepChain_BuiltByClicking_IsSavedWithItsDependencies() => cadre.InPageAsync(async page =>
    {
        var workspace = await cadre.CreateWorkspaceAsync("build", "Build");
        await cadre.CreateWorkflowAsync(workspace, "chain", "Three steps in a row");

        await InstanceWithOwner.SignInAsync(page, "/w/build/workflows/chain/builder");
        var nodes = page.Locator(".react-flow__node");
        var edges = page.Locator(".react-flow__edge");
        await Expect(nodes).ToHaveCountAsync(1);
        await Expect(page.GetByText("All changes saved")).ToBeVisibleAsync();

        await PageActions.AddStepAsync(page, "transform", "shape");
        // The first dependency is drawn by dragging from a step's right handle to the next step's left one.
        var shape = page.GetByRole(AriaRole.Complementary, new() { Name = "Step shape" });
        await DragAsync(page, nodes.Filter(new() { HasText = "only" }).Locator(".react-flow__handle.source"),
            nodes.Filter(new() { HasText = "shape" }).Locator(".react-flow__handle.target"));
        await Expect(edges).ToHaveCountAsync(1);
        await Expect(shape.GetByRole(AriaRole.Checkbox, new() { Name = "only" })).ToBeCheckedAsync();

        await PageActions.AddStepAsync(page, "transform", "finish");
        var finish = page.GetByRole(AriaRole.Complementary, new() { Name = "Step finish" });
        await finish.GetByRole(AriaRole.Checkbox, new() { Name = "shape" }).CheckAsync();
        await finish.GetByLabel("Input", new() { Exact = true }).FillAsync("{\"shaped\": \"{{ steps.shape.output }}\"}");
        await Expect(nodes).ToHaveCountAsync(3);
        await Expect(edges).ToHaveCountAsync(2);
        await Expect(page.GetByText("Unsaved changes")).ToBeVisibleAsync();

        await page.GetByRole(AriaRole.Button, new() { Name = "Auto-layout" }).ClickAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Save", Exact = true }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status).Filter(new() { HasText = "Saved as version 2." })).ToBeVisibleAsync();
        await Expect(page.GetByText("All changes saved · version 2")).ToBeVisibleAsync();

        using var admin = cadre.Admin();
        var saved = await admin.GetFromJsonAsync<JsonObject>($"/api/v1/workspaces/{workspace}/workflows/chain");
        var steps = saved!["steps"]!.AsArray();
        steps.Select(s => (string)s!["id"]!).ToArray().ShouldBe(new[] { "only", "shape", "finish" });
        steps[1]!["dependsOn"]!.AsArray().Select(d => (string)d!).ToArray().ShouldBe(new[] { "only" });
        steps[2]!["dependsOn"]!.AsArray().Select(d => (string)d!).ToArray().ShouldBe(new[] { "shape" });
        ((string)steps[2]!["input"]!["shaped"]!).ShouldBe("{{ steps.shape.output }}");
        saved["graph"]!["nodes"]!.AsArray().Count.ShouldBe(3);
        saved["graph"]!["edges"]!.AsArray().Count.ShouldBe(2);

        // The graph comes back from the API after a reload.
        await page.ReloadAsync();
        await Expect(nodes).ToHaveCountAsync(3);
        await Expect(edges).ToHaveCountAsync(2);
        await Expect(page.Locator(".react-flow__node").Filter(new() { HasText = "finish" })).ToBeVisibleAsync();
        await Expect(page.GetByText("All changes saved · version 2")).ToBeVisibleAsync();
        await page.Locator(".react-flow__node").Filter(new() { HasText = "finish" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Complementary, new() { Name = "Step finish" }).GetByRole(AriaRole.Checkbox, new() { Name = "shape" })).ToBeCheckedAsync();
        await CadreBrowserServer.DocScreenshotAsync(page, "builder");
    });

    [BrowserFact]
    public Task InvalidRetry_ShowsTheApisMessageInTheStepPanel_AndSavesNothing() => cadre.InPageAsync(async page =>
    {
        var workspace = await cadre.CreateWorkspaceAsync("invalid", "Invalid");
        await cadre.CreateWorkflowAsync(workspace, "strict", "Refuses a bad retry");

        await InstanceWithOwner.SignInAsync(page, "/w/invalid/workflows/strict/builder");
        await page.Locator(".react-flow__node").Filter(new() { HasText = "only" }).ClickAsync();
        var panel = page.GetByRole(AriaRole.Complementary, new() { Name = "Step only" });
        await panel.GetByLabel("Maximum attempts").FillAsync("5000");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save", Exact = true }).ClickAsync();

        // The API's 422 names steps[0].retryPolicy.maximumAttempts: its message sits under that field, and the banner says it too.
        var field = panel.Locator(".field").Filter(new() { Has = page.GetByLabel("Maximum attempts") });
        await Expect(field).ToContainTextAsync("Must be between 1 (no retry) and 1000, or 0 for no limit.");
        await Expect(panel.GetByLabel("Maximum attempts")).ToHaveAttributeAsync("aria-invalid", "true");
        await Expect(page.Locator(".react-flow__node").Filter(new() { HasText = "1 error" })).ToBeVisibleAsync();
        await Expect(page.GetByRole(AriaRole.Alert).Filter(new() { HasText = "steps[0].retryPolicy.maximumAttempts" })).ToBeVisibleAsync();
        await Expect(page.GetByText("Unsaved changes")).ToBeVisibleAsync();

        using var admin = cadre.Admin();
        var stored = await admin.GetFromJsonAsync<JsonObject>($"/api/v1/workspaces/{workspace}/workflows/strict");
        ((int)stored!["version"]!).ShouldBe(1);
        stored["steps"]![0]!["retryPolicy"].ShouldBeNull();
    });

    [BrowserFact]
    public Task AnEditSavesASecondVersion_TheDiffShowsIt_AndARevertBringsTheFirstBack() => cadre.InPageAsync(async page =>
    {
        var workspace = await cadre.CreateWorkspaceAsync("history", "History");
        await cadre.CreateWorkflowAsync(workspace, "evolving", "Changes over time");

        await InstanceWithOwner.SignInAsync(page, "/w/history/workflows/evolving/builder");
        await page.Locator(".react-flow__node").Filter(new() { HasText = "only" }).ClickAsync();
        var panel = page.GetByRole(AriaRole.Complementary, new() { Name = "Step only" });
        await panel.GetByLabel("Input", new() { Exact = true }).FillAsync("{\"ok\": false, \"note\": \"second thoughts\"}");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save", Exact = true }).ClickAsync();
        await Expect(page.GetByText("All changes saved · version 2")).ToBeVisibleAsync();

        await page.GetByRole(AriaRole.Link, new() { Name = "Versions" }).ClickAsync();
        var versions = page.GetByRole(AriaRole.Table, new() { Name = "Versions" }).Locator("tbody tr");
        await Expect(versions).ToHaveCountAsync(2);
        await Expect(versions.First).ToContainTextAsync("Updated");
        await Expect(versions.Last).ToContainTextAsync("Created");

        // The comparison opens on the latest change: the API's field diff names the step's input.
        var changes = page.GetByRole(AriaRole.Table, new() { Name = "Changes from version 1 to 2" });
        await Expect(changes).ToContainTextAsync("steps[0].input.ok");
        await Expect(changes).ToContainTextAsync("second thoughts");
        await CadreBrowserServer.DocScreenshotAsync(page, "workflow-versions");

        await page.GetByRole(AriaRole.Button, new() { Name = "Revert to version 1" }).ClickAsync();
        var dialog = page.GetByRole(AriaRole.Dialog, new() { Name = "Revert to version 1?" });
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Revert", Exact = true }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status).Filter(new() { HasText = "Reverted to version 1: saved as version 3." })).ToBeVisibleAsync();
        await Expect(versions).ToHaveCountAsync(3);
        await Expect(versions.First).ToContainTextAsync("Reverted");

        using var admin = cadre.Admin();
        var stored = await admin.GetFromJsonAsync<JsonObject>($"/api/v1/workspaces/{workspace}/workflows/evolving");
        ((int)stored!["version"]!).ShouldBe(3);
        ((bool)stored["steps"]![0]!["input"]!["ok"]!).ShouldBeTrue();
        stored["steps"]![0]!["input"]!["note"].ShouldBeNull();
    });

    [BrowserFact]
    public Task ListActions_DuplicateDeleteBulkDeleteRestoreAndPurge() => cadre.InPageAsync(async page =>
    {
        var workspace = await cadre.CreateWorkspaceAsync("tidy", "Tidy");
        await cadre.CreateWorkflowAsync(workspace, "alpha", "The first");
        await cadre.CreateWorkflowAsync(workspace, "beta", "The second");

        await InstanceWithOwner.SignInAsync(page, "/w/tidy/workflows");
        var rows = page.GetByRole(AriaRole.Table).Locator("tbody tr");
        await Expect(rows).ToHaveCountAsync(2);

        await page.GetByRole(AriaRole.Button, new() { Name = "Duplicate alpha" }).ClickAsync();
        await Expect(rows).ToHaveCountAsync(3);
        await Expect(rows.Filter(new() { HasText = "alpha-copy" })).ToContainTextAsync("alpha (copy)");

        await page.GetByRole(AriaRole.Button, new() { Name = "Delete alpha (copy)" }).ClickAsync();
        var dialog = page.GetByRole(AriaRole.Dialog, new() { Name = "Move alpha (copy) to the bin?" });
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Move to the bin" }).ClickAsync();
        await Expect(rows).ToHaveCountAsync(2);

        // Both that are left, selected and moved at once.
        await page.GetByRole(AriaRole.Checkbox, new() { Name = "Select alpha" }).CheckAsync();
        await page.GetByRole(AriaRole.Checkbox, new() { Name = "Select beta" }).CheckAsync();
        await page.GetByRole(AriaRole.Region, new() { Name = "Selection" }).GetByRole(AriaRole.Button, new() { Name = "Move to the bin" }).ClickAsync();
        await page.GetByRole(AriaRole.Dialog, new() { Name = "Move 2 workflows to the bin?" }).GetByRole(AriaRole.Button, new() { Name = "Move to the bin" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "No workflows yet" })).ToBeVisibleAsync();

        await page.GetByRole(AriaRole.Button, new() { Name = "Bin", Exact = true }).ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex(@"\?view=bin$"));
        await Expect(rows).ToHaveCountAsync(3);
        await page.GetByRole(AriaRole.Button, new() { Name = "Restore alpha", Exact = true }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status).Filter(new() { HasText = "alpha restored." })).ToBeVisibleAsync();
        await Expect(rows).ToHaveCountAsync(2);

        await page.GetByRole(AriaRole.Button, new() { Name = "Delete beta for good" }).ClickAsync();
        await page.GetByRole(AriaRole.Dialog, new() { Name = "Delete beta for good?" }).GetByRole(AriaRole.Button, new() { Name = "Delete for good" }).ClickAsync();
        await Expect(rows).ToHaveCountAsync(1);

        using var admin = cadre.Admin();
        var alpha = await admin.GetFromJsonAsync<JsonObject>($"/api/v1/workspaces/{workspace}/workflows/alpha");
        ((string)alpha!["status"]!).ShouldBe("active");
        var binned = await admin.GetFromJsonAsync<JsonObject>($"/api/v1/workspaces/{workspace}/workflows?status=deleted");
        binned!["results"]!.AsArray().Select(w => (string)w!["name"]!).ToArray().ShouldBe(new[] { "alpha-copy" });
        using var gone = await admin.GetAsync($"/api/v1/workspaces/{workspace}/workflows/beta");
        ((int)gone.StatusCode).ShouldBe(404);

        await page.GetByRole(AriaRole.Button, new() { Name = "← Back to workflows" }).ClickAsync();
        await Expect(rows).ToHaveCountAsync(1);
        await Expect(rows.First).ToContainTextAsync("alpha");
    });

    [BrowserFact]
    public Task Configuration_ABadCronIsExplainedAtItsField_AGoodOneIsSavedWithItsNextTicks_AndARenameMovesThePage() => cadre.InPageAsync(async page =>
    {
        var workspace = await cadre.CreateWorkspaceAsync("config", "Config");
        await cadre.CreateWorkflowAsync(workspace, "report", "Sums up the day");

        await InstanceWithOwner.SignInAsync(page, "/w/config/workflows/report");
        var form = page.GetByRole(AriaRole.Form, new() { Name = "Configuration" });
        await form.GetByLabel("Trigger type").SelectOptionAsync("schedule");
        await form.GetByLabel("Cron").FillAsync("every morning");
        await form.GetByLabel("Time zone").FillAsync("Europe/Paris");
        await form.GetByRole(AriaRole.Button, new() { Name = "Save configuration" }).ClickAsync();

        var cron = form.Locator(".field").Filter(new() { Has = page.GetByLabel("Cron") });
        await Expect(cron.Locator(".field-errors")).ToBeVisibleAsync();
        await Expect(form.GetByLabel("Cron")).ToHaveAttributeAsync("aria-invalid", "true");
        using var admin = cadre.Admin();
        var unchanged = await admin.GetFromJsonAsync<JsonObject>($"/api/v1/workspaces/{workspace}/workflows/report");
        ((int)unchanged!["version"]!).ShouldBe(1);

        await form.GetByLabel("Cron").FillAsync("0 9 * * *");
        await form.GetByLabel("Name").FillAsync("morning-report");
        await form.GetByRole(AriaRole.Button, new() { Name = "Save configuration" }).ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex("/w/config/workflows/morning-report$"));
        await Expect(page.GetByText("All changes saved · version 3")).ToBeVisibleAsync();
        await Expect(page.GetByRole(AriaRole.Region, new() { Name = "Next fire times" }).Locator("li")).ToHaveCountAsync(5);
        await Expect(page.GetByRole(AriaRole.Region, new() { Name = "Next fire times" }).Locator("li").First).ToContainTextAsync("09:00:00");
        await CadreBrowserServer.DocScreenshotAsync(page, "workflow-configuration");

        var saved = await admin.GetFromJsonAsync<JsonObject>($"/api/v1/workspaces/{workspace}/workflows/morning-report");
        ((string)saved!["type"]!).ShouldBe("schedule");
        ((string)saved["trigger"]!["cron"]!).ShouldBe("0 9 * * *");
        ((string)saved["trigger"]!["timeZone"]!).ShouldBe("Europe/Paris");
    });

    [BrowserFact]
    public Task PersonaPipeline_SetInTheConfiguration_BecomesTheStepsTheBuilderShows() => cadre.InPageAsync(async page =>
    {
        var workspace = await cadre.CreateWorkspaceAsync("pipeline", "Pipeline");
        using var admin = cadre.Admin();
        foreach (var persona in new[] { "writer", "editor" })
        {
            using var created = await admin.PostAsJsonAsync($"/api/v1/workspaces/{workspace}/personas", new { name = persona, instructions = $"You are the {persona}." });
            created.EnsureSuccessStatusCode();
        }

        await cadre.CreateWorkflowAsync(workspace, "essay", "Drafts and reviews an essay");

        await InstanceWithOwner.SignInAsync(page, "/w/pipeline/workflows/essay");
        var form = page.GetByRole(AriaRole.Form, new() { Name = "Configuration" });
        await form.GetByText("Advanced").ClickAsync();
        // A pipeline naming a persona that does not exist is refused at its field, and nothing is saved.
        await form.GetByLabel("Persona pipeline").FillAsync("""{"designer": {"persona": "writer"}, "checker": {"persona": "nobody"}, "maxIterations": 2}""");
        await form.GetByRole(AriaRole.Button, new() { Name = "Save configuration" }).ClickAsync();
        await Expect(form.GetByLabel("Persona pipeline")).ToHaveAttributeAsync("aria-invalid", "true");
        ((int)(await admin.GetFromJsonAsync<JsonObject>($"/api/v1/workspaces/{workspace}/workflows/essay"))!["version"]!).ShouldBe(1);

        await form.GetByLabel("Persona pipeline").FillAsync("""{"designer": {"persona": "writer"}, "checker": {"persona": "editor"}, "maxIterations": 2}""");
        await form.GetByRole(AriaRole.Button, new() { Name = "Save configuration" }).ClickAsync();
        await Expect(page.GetByText("All changes saved · version 2")).ToBeVisibleAsync();

        var saved = await admin.GetFromJsonAsync<JsonObject>($"/api/v1/workspaces/{workspace}/workflows/essay");
        ((string)saved!["personaPipeline"]!["checker"]!["persona"]!).ShouldBe("editor");
        var steps = saved["steps"]!.AsArray().Select(step => (string)step!["id"]!).ToList();
        steps.ShouldContain("design");
        steps.ShouldContain("check");
        await page.GetByRole(AriaRole.Link, new() { Name = "Builder" }).ClickAsync();
        await Expect(page.Locator(".react-flow__node").Filter(new() { HasText = "check" }).First).ToBeVisibleAsync();
    });

    [BrowserFact]
    public Task Credentials_EditedAsRows_OfferTheWorkspacesSecrets_AndTheApisRefusalMarksItsRow() => cadre.InPageAsync(async page =>
    {
        var workspace = await cadre.CreateWorkspaceAsync("creds", "Credentials");
        using var admin = cadre.Admin();
        using (var secret = await admin.PostAsJsonAsync($"/api/v1/workspaces/{workspace}/secrets", new { name = "crm-api-key", value = "not-a-real-key" }))
        {
            secret.EnsureSuccessStatusCode();
        }

        await cadre.CreateWorkflowAsync(workspace, "sync", "Copies customers from the CRM");

        await InstanceWithOwner.SignInAsync(page, "/w/creds/workflows/sync");
        var form = page.GetByRole(AriaRole.Form, new() { Name = "Configuration" });
        await form.GetByText("Advanced").ClickAsync();
        var credentials = form.GetByRole(AriaRole.Group, new() { Name = "Credentials" });
        await credentials.GetByRole(AriaRole.Button, new() { Name = "Add a credential" }).ClickAsync();
        await Expect(credentials.GetByLabel("Name of credential 1")).ToBeFocusedAsync();
        await credentials.GetByLabel("Name of credential 1").FillAsync("crm");
        // The secret is typed with the workspace's secrets offered.
        var secret1 = credentials.GetByLabel("Secret of credential 1");
        var offered = await secret1.EvaluateAsync<string[]>("i => [...(i.list?.options ?? [])].map(o => o.value)");
        offered.ShouldBe(new[] { "crm-api-key" });
        await secret1.FillAsync("crm-api-key");
        await credentials.GetByRole(AriaRole.Button, new() { Name = "Add a credential" }).ClickAsync();
        await credentials.GetByLabel("Name of credential 2").FillAsync("bad name");
        await credentials.GetByLabel("Secret of credential 2").FillAsync("billing-token");
        await Expect(credentials).ToContainTextAsync("No secret is named billing-token in this workspace yet");

        // A name the API refuses: its message under the field, its row marked, nothing saved.
        await form.GetByRole(AriaRole.Button, new() { Name = "Save configuration" }).ClickAsync();
        await Expect(credentials.Locator(".field-errors")).ToContainTextAsync("credentials.bad name: Must map a name");
        await Expect(credentials.GetByLabel("Name of credential 2")).ToHaveAttributeAsync("aria-invalid", "true");
        await Expect(credentials.GetByLabel("Name of credential 1")).Not.ToHaveAttributeAsync("aria-invalid", "true");
        await Expect(credentials).ToHaveAccessibleDescriptionAsync(new Regex("credentials.bad name: Must map a name"));
        ((int)(await admin.GetFromJsonAsync<JsonObject>($"/api/v1/workspaces/{workspace}/workflows/sync"))!["version"]!).ShouldBe(1);

        await credentials.GetByLabel("Name of credential 2").FillAsync("billing");
        await form.GetByRole(AriaRole.Button, new() { Name = "Save configuration" }).ClickAsync();
        await Expect(page.GetByText("All changes saved · version 2")).ToBeVisibleAsync();
        var saved = await admin.GetFromJsonAsync<JsonObject>($"/api/v1/workspaces/{workspace}/workflows/sync");
        var stored = saved!["credentials"]!.AsObject();
        stored.Count.ShouldBe(2);
        ((string?)stored["crm"]).ShouldBe("crm-api-key");
        ((string?)stored["billing"]).ShouldBe("billing-token");

        // A row removed is a credential removed; the rows come back from the API after a reload.
        await form.GetByText("Advanced").ClickAsync(); // the saved version's form starts folded
        await credentials.GetByRole(AriaRole.Button, new() { Name = "Remove credential billing" }).ClickAsync();
        await form.GetByRole(AriaRole.Button, new() { Name = "Save configuration" }).ClickAsync();
        await Expect(page.GetByText("All changes saved · version 3")).ToBeVisibleAsync();
        saved = await admin.GetFromJsonAsync<JsonObject>($"/api/v1/workspaces/{workspace}/workflows/sync");
        saved!["credentials"]!.ToJsonString().ShouldBe("""{"crm":"crm-api-key"}""");
        await page.ReloadAsync();
        await form.GetByText("Advanced").ClickAsync();
        await Expect(credentials.GetByLabel("Name of credential 1")).ToHaveValueAsync("crm");
        await Expect(credentials.GetByLabel("Secret of credential 1")).ToHaveValueAsync("crm-api-key");
        await Expect(credentials.GetByLabel("Name of credential 2")).ToHaveCountAsync(0);
    });

    [BrowserFact]
    public Task ASaveAfterAChangeMadeElsewhere_IsRefused_AndTheReloadShowsTheirVersion() => cadre.InPageAsync(async page =>
    {
        var workspace = await cadre.CreateWorkspaceAsync("race", "Race");
        await cadre.CreateWorkflowAsync(workspace, "contested", "Two editors at once");

        await InstanceWithOwner.SignInAsync(page, "/w/race/workflows/contested/builder");
        await Expect(page.Locator(".react-flow__node")).ToHaveCountAsync(1);

        // Someone else adds a step meanwhile.
        using var admin = cadre.Admin();
        using (var patch = await admin.PatchAsJsonAsync($"/api/v1/workspaces/{workspace}/workflows/contested", new JsonObject
        {
            ["steps"] = new JsonArray(
                new JsonObject { ["id"] = "only", ["activity"] = new JsonObject { ["uniqueIdentifier"] = "transform" } },
                new JsonObject { ["id"] = "theirs", ["activity"] = new JsonObject { ["uniqueIdentifier"] = "transform" }, ["dependsOn"] = new JsonArray("only") }),
        }))
        {
            patch.EnsureSuccessStatusCode();
        }

        await PageActions.AddStepAsync(page, "transform", "mine");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save", Exact = true }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Alert).Filter(new() { HasText = "412" })).ToBeVisibleAsync();
        await Expect(page.GetByText("Someone saved this workflow since you opened it.")).ToBeVisibleAsync();

        await page.GetByRole(AriaRole.Button, new() { Name = "Reload the workflow" }).ClickAsync();
        await Expect(page.GetByText("All changes saved · version 2")).ToBeVisibleAsync();
        await Expect(page.Locator(".react-flow__node").Filter(new() { HasText = "theirs" })).ToBeVisibleAsync();
        await Expect(page.Locator(".react-flow__node")).ToHaveCountAsync(2);
        var stored = await admin.GetFromJsonAsync<JsonObject>($"/api/v1/workspaces/{workspace}/workflows/contested");
        stored!["steps"]!.AsArray().Select(s => (string)s!["id"]!).ToArray().ShouldBe(new[] { "only", "theirs" });
    });

    /// <summary>
    /// Drags with the mouse in small moves, as a hand does, once the canvas is still: adding a step frames every
    /// step with a short animated zoom, and a drag measured before it ends would drop where the handle was.
    /// </summary>
    private static async Task DragAsync(IPage page, ILocator from, ILocator to)
    {
        // Still means the same viewport transform for 20 frames in a row (the framing animation lasts 150 ms).
        await page.WaitForFunctionAsync("""
            () => new Promise(resolve => {
              const viewport = document.querySelector('.react-flow__viewport');
              let last = viewport.style.transform, still = 0;
              const tick = () => {
                const now = viewport.style.transform;
                if (now === last) { if (++still >= 20) { resolve(true); return; } } else { still = 0; last = now; }
                requestAnimationFrame(tick);
              };
              requestAnimationFrame(tick);
            })
            """);
        var start = await from.BoundingBoxAsync() ?? throw new InvalidOperationException("The handle to drag from is not on the page.");
        var end = await to.BoundingBoxAsync() ?? throw new InvalidOperationException("The handle to drop on is not on the page.");
        await page.Mouse.MoveAsync(start.X + start.Width / 2, start.Y + start.Height / 2);
        await page.Mouse.DownAsync();
        await page.Mouse.MoveAsync(start.X + start.Width / 2 + 20, start.Y + start.Height / 2, new() { Steps = 5 });
        await page.Mouse.MoveAsync(end.X + end.Width / 2, end.Y + end.Height / 2, new() { Steps = 10 });
        await page.Mouse.UpAsync();
    }
}
