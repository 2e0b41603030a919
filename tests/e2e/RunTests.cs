using System.Net.Http.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Cadre.E2E.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Cadre.E2E;

/// <summary>Runs from the browser: started from the start-run dialog and followed live; an approval decided in the inbox.</summary>
public sealed class RunTests(InstanceWithOwner cadre) : IClassFixture<InstanceWithOwner>
{
    [BrowserFact]
    public Task StartRunDialog_StartsARun_AndTheRunViewFollowsItLiveToItsEnd() => cadre.InPageAsync(async page =>
    {
        var workspace = await cadre.CreateWorkspaceAsync("runs-live", "Live runs");
        await CreateWorkflowAsync(workspace, new
        {
            name = "greeter",
            description = "Greets after a pause",
            steps = new object[]
            {
                new { id = "prepare", activity = new { uniqueIdentifier = "transform" }, input = new JsonObject { ["name"] = "{{ context.body.name }}" } },
                // A durable timer: long enough that the page sees the run in progress before it ends.
                new { id = "pause", activity = new { uniqueIdentifier = "sleep" }, input = new JsonObject { ["duration"] = "3s" }, dependsOn = new[] { "prepare" } },
                new { id = "finish", activity = new { uniqueIdentifier = "transform" }, input = new JsonObject { ["greeting"] = "Hello {{ steps.prepare.output.name }}" }, dependsOn = new[] { "pause" } },
            },
        });

        await InstanceWithOwner.SignInAsync(page, "/w/runs-live/workflows/greeter");
        await page.GetByRole(AriaRole.Button, new() { Name = "Start run" }).ClickAsync();
        var dialog = page.GetByRole(AriaRole.Dialog);
        // The dialog lists the fields the steps read from the input, and prefills them.
        await Expect(dialog.GetByRole(AriaRole.List, new() { Name = "Input fields" })).ToContainTextAsync("name");
        await Expect(dialog.GetByLabel("Input", new() { Exact = true })).ToHaveValueAsync(new Regex("\"name\""));
        await dialog.GetByLabel("Input", new() { Exact = true }).FillAsync("{\"name\": \"Ada\"}");
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Start run" }).ClickAsync();

        await Expect(page).ToHaveURLAsync(new Regex("/w/runs-live/runs/run_"));
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "GREETER-1" })).ToBeVisibleAsync();
        // While the timer runs the pause step is not done, and the graph says so...
        var pause = page.Locator(".run-graph [data-step='pause']");
        await Expect(pause).ToHaveAttributeAsync("data-status", new Regex("^(pending|queued|started|running|waiting)$"));
        await Expect(page.Locator(".run-graph [data-step='prepare']")).ToHaveAttributeAsync("data-status", "succeeded");
        await Expect(page.GetByText("The output appears when the run ends.")).ToBeVisibleAsync();

        // ...then the stream turns every node green and the run ends, without a reload.
        await Expect(pause).ToHaveAttributeAsync("data-status", "succeeded");
        await Expect(page.Locator(".run-graph [data-step='finish']")).ToHaveAttributeAsync("data-status", "succeeded");
        await Expect(page.GetByRole(AriaRole.Status, new() { Name = "Run status: succeeded" })).ToBeVisibleAsync();
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "finish: succeeded" })).ToBeVisibleAsync();
        await Expect(page.GetByLabel("Run output")).ToContainTextAsync("Hello Ada");
        await Expect(page.GetByLabel("Run input")).ToContainTextAsync("Ada");
        // Each step's attempts are on the timeline, the pause's timer with them.
        var attempts = page.GetByRole(AriaRole.Table, new() { Name = "Attempts by step" }).Locator("tbody tr");
        await Expect(attempts).ToHaveCountAsync(4);
        await Expect(attempts.Filter(new() { HasText = "timer" })).ToContainTextAsync(new Regex(@"waited \d"));

        using var admin = cadre.Admin();
        var runs = await admin.GetFromJsonAsync<JsonObject>("/api/v1/workspaces/runs-live/workflows/greeter/runs");
        var run = runs!["results"]!.AsArray().Single()!;
        ((string)run["status"]!).ShouldBe("succeeded");
        ((string)run["output"]!["greeting"]!).ShouldBe("Hello Ada");
        ((string)run["trigger"]!["type"]!).ShouldBe("manual");

        // The workflow's runs tab lists it, and links back to it.
        await page.GetByRole(AriaRole.Link, new() { Name = "greeter" }).ClickAsync();
        var rows = page.GetByRole(AriaRole.Table, new() { Name = "Runs of greeter" }).Locator("tbody tr");
        await Expect(rows).ToHaveCountAsync(1);
        await Expect(rows.First).ToContainTextAsync("succeeded");
        await Expect(rows.First).ToContainTextAsync("$0.00");
    });

    [BrowserFact]
    public Task ApprovalInTheInbox_IsApprovedWithAComment_AndTheRunCompletes() => cadre.InPageAsync(async page =>
    {
        var workspace = await cadre.CreateWorkspaceAsync("runs-approve", "Approvals");
        using var admin = cadre.Admin();
        var users = await admin.GetFromJsonAsync<JsonObject>("/api/v1/users");
        var owner = (string)users!["results"]!.AsArray().Single(u => (string?)u!["email"] == InstanceWithOwner.OwnerEmail)!["id"]!;
        await CreateWorkflowAsync(workspace, new
        {
            name = "deploy",
            steps = new object[]
            {
                new { id = "check", activity = new { uniqueIdentifier = "transform" }, input = new JsonObject { ["version"] = "{{ context.body.version }}" } },
                new
                {
                    id = "approve", activity = new { uniqueIdentifier = "approval" }, dependsOn = new[] { "check" },
                    input = new JsonObject { ["message"] = "Deploy version {{ steps.check.output.version }} to production?" },
                    approval = new { approvers = new[] { owner }, quorum = 1, timeout = "1h" },
                },
                new { id = "ship", activity = new { uniqueIdentifier = "transform" }, dependsOn = new[] { "approve" }, input = new JsonObject { ["shipped"] = true } },
            },
        });
        using var started = await admin.PostAsJsonAsync("/api/v1/workspaces/runs-approve/workflows/deploy/runs", new { input = new { version = "1.2.3" } });
        started.EnsureSuccessStatusCode();
        var runId = (string)(await started.Content.ReadFromJsonAsync<JsonObject>())!["id"]!;

        await InstanceWithOwner.SignInAsync(page, "/w/runs-approve/approvals");
        var card = page.GetByRole(AriaRole.Article).Filter(new() { HasText = "Deploy version 1.2.3 to production?" });
        await Expect(card).ToBeVisibleAsync();
        await Expect(card.GetByRole(AriaRole.Link, new() { Name = "DEPLOY-1" })).ToBeVisibleAsync();
        await Expect(card).ToContainTextAsync("Workflow deploy");
        await card.GetByLabel("Comment (optional)").FillAsync("Looks good, ship it");
        await card.GetByRole(AriaRole.Button, new() { Name = "Approve" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status).Filter(new() { HasText = "Approved: step approve (approved)." })).ToBeVisibleAsync();
        await Expect(card).ToContainTextAsync("Looks good, ship it");
        await Expect(card.GetByRole(AriaRole.Button, new() { Name = "Approve" })).ToHaveCountAsync(0);

        // The run goes on to its end.
        await card.GetByRole(AriaRole.Link, new() { Name = "DEPLOY-1" }).ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex($"/w/runs-approve/runs/{runId}$"));
        await Expect(page.GetByRole(AriaRole.Status, new() { Name = "Run status: succeeded" })).ToBeVisibleAsync();
        await Expect(page.Locator(".run-graph [data-step='ship']")).ToHaveAttributeAsync("data-status", "succeeded");
        await Expect(page.GetByRole(AriaRole.Region, new() { Name = "Decided approvals" })).ToContainTextAsync("Looks good, ship it");

        var approvals = await admin.GetFromJsonAsync<JsonObject>($"/api/v1/workspaces/runs-approve/approvals?run={runId}");
        var approval = approvals!["results"]!.AsArray().Single()!;
        ((string)approval["status"]!).ShouldBe("approved");
        ((string)approval["decisions"]![0]!["comment"]!).ShouldBe("Looks good, ship it");
        ((string)approval["decisions"]![0]!["by"]!).ShouldBe(owner);
        var run = await admin.GetFromJsonAsync<JsonObject>($"/api/v1/workspaces/runs-approve/runs/{runId}");
        ((string)run!["status"]!).ShouldBe("succeeded");

        // Nothing is left to decide: the inbox says so.
        await page.GotoAsync("/w/runs-approve/approvals");
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Nothing waits for a decision" })).ToBeVisibleAsync();
    });

    [BrowserFact]
    public Task HaltAndResume_FromTheRunView_StopAndCarryOnTheRun() => cadre.InPageAsync(async page =>
    {
        var workspace = await cadre.CreateWorkspaceAsync("runs-halt", "Halting");
        await CreateWorkflowAsync(workspace, new
        {
            name = "slow",
            steps = new object[] { new { id = "nap", activity = new { uniqueIdentifier = "sleep" }, input = new JsonObject { ["duration"] = "1h" } } },
        });
        using var admin = cadre.Admin();
        using var started = await admin.PostAsJsonAsync("/api/v1/workspaces/runs-halt/workflows/slow/runs", new { });
        started.EnsureSuccessStatusCode();
        var runId = (string)(await started.Content.ReadFromJsonAsync<JsonObject>())!["id"]!;

        await InstanceWithOwner.SignInAsync(page, $"/w/runs-halt/runs/{runId}");
        await Expect(page.GetByRole(AriaRole.Status, new() { Name = "Run status: waiting" })).ToBeVisibleAsync();

        // The step buttons under the graph are the keyboard's way to a step's detail.
        await page.GetByRole(AriaRole.Button, new() { Name = "nap: waiting" }).FocusAsync();
        await page.Keyboard.PressAsync("Enter");
        await Expect(page.GetByRole(AriaRole.Complementary).GetByRole(AriaRole.Heading, new() { Name = "Step nap" })).ToBeVisibleAsync();

        await page.GetByRole(AriaRole.Button, new() { Name = "Halt" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status, new() { Name = "Run status: halted" })).ToBeVisibleAsync();
        var halted = await admin.GetFromJsonAsync<JsonObject>($"/api/v1/workspaces/runs-halt/runs/{runId}");
        ((string)halted!["status"]!).ShouldBe("halted");

        await page.GetByRole(AriaRole.Button, new() { Name = "Resume" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status, new() { NameRegex = new Regex("^Run status: (waiting|running)$") })).ToBeVisibleAsync();
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Halt" })).ToBeVisibleAsync();
        var resumed = await admin.GetFromJsonAsync<JsonObject>($"/api/v1/workspaces/runs-halt/runs/{runId}");
        ((string)resumed!["status"]!).ShouldNotBe("halted");
        ((bool)resumed["haltRequested"]!).ShouldBeFalse();
    });

    [BrowserFact]
    public Task RunsTab_MovesARunOnLive_AndFiltersByStatus() => cadre.InPageAsync(async page =>
    {
        var workspace = await cadre.CreateWorkspaceAsync("runs-tab", "Runs tab");
        await CreateWorkflowAsync(workspace, new
        {
            name = "batch",
            steps = new object[] { new { id = "work", activity = new { uniqueIdentifier = "sleep" }, input = new JsonObject { ["duration"] = "{{ context.body.wait }}" } } },
        });
        using var admin = cadre.Admin();
        foreach (var wait in new[] { "1h", "4s" })
        {
            using var started = await admin.PostAsJsonAsync("/api/v1/workspaces/runs-tab/workflows/batch/runs", new { input = new { wait } });
            started.EnsureSuccessStatusCode();
        }

        await InstanceWithOwner.SignInAsync(page, "/w/runs-tab/workflows/batch/runs");
        var rows = page.GetByRole(AriaRole.Table, new() { Name = "Runs of batch" }).Locator("tbody tr");
        await Expect(rows).ToHaveCountAsync(2);
        await Expect(page.GetByText("2 runs")).ToBeVisibleAsync();
        // Newest first; the short one ends while the page is open, and its row says so without a reload.
        await Expect(rows.First).ToContainTextAsync("BATCH-2");
        await Expect(rows.First).ToContainTextAsync("waiting");
        await Expect(rows.First).ToContainTextAsync("succeeded");
        await Expect(rows.Nth(1)).ToContainTextAsync("waiting");

        await page.GetByLabel("Status").SelectOptionAsync("waiting");
        await Expect(page).ToHaveURLAsync(new Regex(@"/runs\?status=waiting$"));
        await Expect(rows).ToHaveCountAsync(1);
        await Expect(rows.First).ToContainTextAsync("BATCH-1");
        await page.GetByLabel("Status").SelectOptionAsync("failed");
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "No failed runs" })).ToBeVisibleAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Show all runs" }).ClickAsync();
        await Expect(rows).ToHaveCountAsync(2);

        await rows.First.GetByRole(AriaRole.Link, new() { Name = "BATCH-2" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status, new() { Name = "Run status: succeeded" })).ToBeVisibleAsync();
    });

    private async Task CreateWorkflowAsync(string workspace, object definition)
    {
        using var admin = cadre.Admin();
        using var response = await admin.PostAsJsonAsync($"/api/v1/workspaces/{workspace}/workflows", definition);
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"Creating a workflow: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        }
    }
}
