using System.Net.Http.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Cadre.E2E.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Cadre.E2E;

/// <summary>The insight pages over data made through the API: a workflow's analytics, the events page, the audit log.</summary>
public sealed class InsightTests(InstanceWithOwner cadre) : IClassFixture<InstanceWithOwner>
{
    [BrowserFact]
    public Task WorkflowAnalytics_ShowTheRunsFiguresAndCharts_AndGranularityFollowsTheAddress() => cadre.InPageAsync(async page =>
    {
        var workspace = await cadre.CreateWorkspaceAsync("insight-stats", "Insight stats");
        using var admin = cadre.Admin();
        // The mock model costs nothing until priced: a price makes the cost figures real.
        await ApiCalls.SendAsync(admin, HttpMethod.Put, $"/api/v1/workspaces/{workspace}/prices/reply:Checked.", new { input = 1000m, output = 2000m });
        await ApiCalls.SendAsync(admin, HttpMethod.Post, $"/api/v1/workspaces/{workspace}/personas", new
        {
            name = "checker", instructions = "You check invoices.", model = new { provider = "mock", model = "reply:Checked." },
        });
        // The second step divides by the input: a divisor of 0 is an evaluation error, which fails the run on purpose.
        await ApiCalls.SendAsync(admin, HttpMethod.Post, $"/api/v1/workspaces/{workspace}/workflows", new
        {
            name = "invoice-audit",
            steps = new object[]
            {
                new { id = "ask", activity = new { uniqueIdentifier = "llm" }, input = new { persona = "checker", prompt = "Check invoice {{ context.body.divisor }}" } },
                new { id = "ratio", activity = new { uniqueIdentifier = "transform" }, dependsOn = new[] { "ask" }, input = new { ratio = "{{ 10 / context.body.divisor }}" } },
            },
        });
        // Three runs on the persona's first version, then an edit (as many words, so the same cost), then two on the second.
        var lastRun = "";
        foreach (var divisor in new[] { 1, 2, 0, 5, 0 })
        {
            if (divisor == 5)
            {
                await ApiCalls.SendAsync(admin, HttpMethod.Patch, $"/api/v1/workspaces/{workspace}/personas/checker", new { instructions = "You audit invoices." });
            }

            // ?wait answers when the run has come to rest (or after 30 s, which fails the test here).
            var run = await ApiCalls.SendAsync(admin, HttpMethod.Post, $"/api/v1/workspaces/{workspace}/workflows/invoice-audit/runs?wait=30s", new { input = new { divisor } });
            ((string)run["status"]!).ShouldBe(divisor == 0 ? "failed" : "succeeded", run.ToJsonString());
            lastRun = (string)run["id"]!;
        }

        await InstanceWithOwner.SignInAsync(page, $"/w/{workspace}/workflows/invoice-audit/analytics");

        await Expect(page.GetByRole(AriaRole.Group, new() { Name = "Runs", Exact = true })).ToContainTextAsync("5");
        await Expect(page.GetByRole(AriaRole.Group, new() { Name = "Runs", Exact = true })).ToContainTextAsync("3 succeeded · 2 failed");
        await Expect(page.GetByRole(AriaRole.Group, new() { Name = "Success rate" })).ToContainTextAsync("60%");
        // The mock counts words as tokens: at these prices each of the five calls costs $0.008.
        await Expect(page.GetByRole(AriaRole.Group, new() { Name = "Cost", Exact = true })).ToContainTextAsync("$0.04$0.008 a run");
        await Expect(page.GetByRole(AriaRole.Group, new() { Name = "Tokens" })).ToContainTextAsync("5 calls");

        // Each chart is an image named for what it shows, drawn with data marks.
        var runsChart = page.GetByRole(AriaRole.Img, new() { Name = "Runs over time" });
        await Expect(runsChart).ToHaveAttributeAsync("aria-label", new Regex("3 succeeded, 2 failed"));
        await Expect(runsChart.Locator("path.recharts-rectangle").First).ToBeVisibleAsync();
        (await runsChart.Locator("path.recharts-rectangle").CountAsync()).ShouldBeGreaterThanOrEqualTo(2);
        await Expect(page.GetByRole(AriaRole.Img, new() { Name = "Success rate over time" }).Locator("path.recharts-line-curve")).ToHaveCountAsync(1);
        await Expect(page.GetByRole(AriaRole.Img, new() { Name = "Cost over time" }).Locator("path.recharts-area-area")).ToHaveCountAsync(1);
        var byPersona = page.GetByRole(AriaRole.Region, new() { Name = "Cost by persona", Exact = true });
        await Expect(byPersona.GetByRole(AriaRole.Link, new() { Name = "checker" })).ToBeVisibleAsync();
        await Expect(page.GetByRole(AriaRole.Region, new() { Name = "Cost by persona version" }).Locator("tbody tr")).ToHaveCountAsync(2);
        await Expect(page.GetByRole(AriaRole.Region, new() { Name = "Cost by step" })).ToContainTextAsync("ask");
        await CadreBrowserServer.DocScreenshotAsync(page, "analytics");

        // 30 days a day at a time, then by week: the address keeps the choice, and the series has a row per week.
        var periods = page.Locator("table.visually-hidden").Filter(new() { Has = page.Locator("caption", new() { HasText = "Runs over time" }) }).Locator("tbody tr");
        await Expect(periods).ToHaveCountAsync(30);
        await page.GetByLabel("Granularity").SelectOptionAsync("weekly");
        await Expect(page).ToHaveURLAsync(new Regex(@"/analytics\?granularity=weekly$"));
        await Expect(runsChart).ToHaveAttributeAsync("aria-label", new Regex(@"^Runs over time: [56] weeks"));
        (await periods.CountAsync()).ShouldBeInRange(5, 6);
        await Expect(runsChart.Locator("path.recharts-rectangle").First).ToBeVisibleAsync();
        await Expect(page.GetByRole(AriaRole.Group, new() { Name = "Runs", Exact = true })).ToContainTextAsync("5");

        // A reload keeps the window; a shorter window still holds today's runs.
        await page.ReloadAsync();
        await Expect(page.GetByLabel("Granularity")).ToHaveValueAsync("weekly");
        await page.GetByLabel("Window", new() { Exact = true }).SelectOptionAsync("7");
        await Expect(page).ToHaveURLAsync(new Regex(@"days=7"));
        await Expect(page.GetByRole(AriaRole.Group, new() { Name = "Success rate" })).ToContainTextAsync("60%");

        // The related tab: the persona with how its version did, and the runs with the version each used.
        await page.GetByRole(AriaRole.Link, new() { Name = "Related" }).ClickAsync();
        var persona = page.GetByRole(AriaRole.Article, new() { Name = "Persona checker" });
        await Expect(persona.GetByRole(AriaRole.Link, new() { Name = "checker" })).ToHaveAttributeAsync("href", $"/w/{workspace}/personas/checker");
        await Expect(persona.Locator("tbody tr")).ToHaveCountAsync(2);
        await Expect(persona.Locator("tbody tr").Nth(0)).ToContainTextAsync("66.7%");
        await Expect(persona.Locator("tbody tr").Nth(1)).ToContainTextAsync("50%");
        var change = page.GetByRole(AriaRole.Table, new() { Name = "Persona version changes" }).Locator("tbody tr");
        await Expect(change).ToHaveCountAsync(1);
        await Expect(change).ToContainTextAsync("v1 → v2");
        await Expect(change).ToContainTextAsync("INVOICE-AUDIT-4");
        await Expect(change).ToContainTextAsync("66.7% → 50%");
        var recent = page.GetByRole(AriaRole.Table, new() { Name = "Recent runs" }).Locator("tbody tr");
        await Expect(recent).ToHaveCountAsync(5);
        await Expect(recent.First).ToContainTextAsync("checker v2");
        await Expect(recent.Last).ToContainTextAsync("checker v1");
        await recent.First.GetByRole(AriaRole.Link, new() { Name = "INVOICE-AUDIT-5" }).ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex($"/w/{workspace}/runs/{Regex.Escape(lastRun)}$"));
    });

    [BrowserFact]
    public Task EventsPage_ListsAnEventWithTheRunItStarted_AndSendsATestEvent() => cadre.InPageAsync(async page =>
    {
        var workspace = await cadre.CreateWorkspaceAsync("insight-events", "Insight events");
        using var admin = cadre.Admin();
        await ApiCalls.SendAsync(admin, HttpMethod.Post, $"/api/v1/workspaces/{workspace}/event-types", new
        {
            name = "invoice.received", description = "An invoice arrived from the ERP.", schema = new { type = "object" },
        });
        await ApiCalls.SendAsync(admin, HttpMethod.Post, $"/api/v1/workspaces/{workspace}/workflows", new
        {
            name = "on-invoice", type = "event", trigger = new { eventType = "invoice.received" },
            steps = new[] { new { id = "note", activity = new { uniqueIdentifier = "transform" }, input = new { amount = "{{ context.event.payload.amount }}" } } },
        });
        await ApiCalls.SendAsync(admin, HttpMethod.Post, $"/api/v1/workspaces/{workspace}/workflows/on-invoice/activate", null);
        var sent = await ApiCalls.SendAsync(admin, HttpMethod.Post, $"/api/v1/workspaces/{workspace}/events", new
        {
            type = "invoice.received", source = "erp", id = "INV-1001", payload = new { amount = 42 },
        });
        var runId = (string)sent["runs"]![0]!["runId"]!;
        var displayId = (string)sent["runs"]![0]!["displayId"]!;

        await InstanceWithOwner.SignInAsync(page, $"/w/{workspace}/events");

        var rows = page.GetByRole(AriaRole.Table, new() { Name = "Events" }).Locator("tbody tr");
        await Expect(rows).ToHaveCountAsync(1);
        await Expect(rows.First).ToContainTextAsync("invoice.received");
        await Expect(rows.First).ToContainTextAsync("erp");
        await Expect(rows.First).ToContainTextAsync("INV-1001");

        // The detail: its payload and the runs it started.
        await page.GetByRole(AriaRole.Button, new() { Name = "Show event invoice.received INV-1001" }).ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex(@"\?event=\w+"));
        await Expect(page.GetByLabel("Payload")).ToContainTextAsync("\"amount\": 42");
        await Expect(page.GetByRole(AriaRole.Table, new() { Name = "Runs the event started" })).ToContainTextAsync("on-invoice");

        // Filtering by another type finds nothing, and the filter is in the address.
        await page.GetByLabel("Event type").FillAsync("order.*");
        await Expect(page).ToHaveURLAsync(new Regex(@"type=order\.\*"));
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "No event matches" })).ToBeVisibleAsync();
        await page.GetByLabel("Event type").FillAsync("invoice.*");
        await Expect(rows).ToHaveCountAsync(1);

        // A test event sent from the page starts a run, which the API holds.
        await page.GetByRole(AriaRole.Button, new() { Name = "Send a test event" }).ClickAsync();
        var dialog = page.GetByRole(AriaRole.Dialog, new() { Name = "Send a test event" });
        await dialog.GetByLabel("Payload").FillAsync("{\"amount\": 7}");
        await dialog.GetByLabel("Event ID").FillAsync("INV-1002");
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Send" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status).Filter(new() { HasText = "Event invoice.received sent; 1 run started." })).ToBeVisibleAsync();
        await Expect(rows).ToHaveCountAsync(2);
        var second = await admin.GetFromJsonAsync<JsonObject>($"/api/v1/workspaces/{workspace}/events?limit=1");
        ((string)second!["results"]![0]!["externalId"]!).ShouldBe("INV-1002");
        ((int)second["results"]![0]!["payload"]!["amount"]!).ShouldBe(7);
        ((string)second["results"]![0]!["source"]!).ShouldBe("web-ui");

        // The first event's run is a link to the run's page.
        await rows.Filter(new() { HasText = "INV-1001" }).GetByRole(AriaRole.Link, new() { Name = displayId }).ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex($"/w/{workspace}/runs/{Regex.Escape(runId)}$"));
    });

    [BrowserFact]
    public Task AuditLog_ShowsWhatWasDone_AndFiltersByAction() => cadre.InPageAsync(async page =>
    {
        var workspace = await cadre.CreateWorkspaceAsync("insight-audit", "Insight audit");
        await cadre.CreateWorkflowAsync(workspace, "audited-flow", "Before");
        using var admin = cadre.Admin();
        await ApiCalls.SendAsync(admin, HttpMethod.Patch, $"/api/v1/workspaces/{workspace}/workflows/audited-flow", new { description = "After" });

        await InstanceWithOwner.SignInAsync(page, $"/w/{workspace}/audit");

        var rows = page.GetByRole(AriaRole.Table, new() { Name = "Audit log entries" }).Locator("tbody tr");
        await Expect(rows.Filter(new() { HasText = "workflow.created" })).ToHaveCountAsync(1);
        await Expect(rows.Filter(new() { HasText = "workflow.created" })).ToContainTextAsync("audited-flow");
        await Expect(rows.Filter(new() { HasText = "workflow.updated" })).ToContainTextAsync("PATCH");

        await page.GetByLabel("Action").FillAsync("workflow.updated");
        await page.GetByRole(AriaRole.Button, new() { Name = "Apply filters" }).ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex(@"/audit\?action=workflow\.updated$"));
        await Expect(rows).ToHaveCountAsync(1);
        await Expect(rows.First).ToContainTextAsync("description");
        await Expect(page.GetByText("1 entry matching the filters")).ToBeVisibleAsync();
        await Expect(page.GetByRole(AriaRole.Link, new() { Name = "Export CSV" })).ToHaveAttributeAsync("href", new Regex(@"/audit/export\?action=workflow\.updated&format=csv$"));

        // The export downloads the filtered entries with the session, and is itself recorded.
        var download = await page.RunAndWaitForDownloadAsync(() => page.GetByRole(AriaRole.Link, new() { Name = "Export CSV" }).ClickAsync());
        var csv = await File.ReadAllTextAsync(await download.PathAsync());
        csv.ShouldContain("workflow.updated");
        csv.ShouldNotContain("workflow.created");
        var exported = await admin.GetFromJsonAsync<JsonObject>($"/api/v1/workspaces/{workspace}/audit?action=audit.exported");
        ((int)exported!["count"]!).ShouldBe(1);

        // A prefix matches both; clicking an action narrows to it again.
        await page.GetByLabel("Action").FillAsync("workflow.*");
        await page.GetByRole(AriaRole.Button, new() { Name = "Apply filters" }).ClickAsync();
        await Expect(rows).ToHaveCountAsync(2);
        await rows.Filter(new() { HasText = "workflow.created" }).GetByRole(AriaRole.Button, new() { Name = "workflow.created" }).ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex(@"action=workflow\.created$"));
        await Expect(rows).ToHaveCountAsync(1);

        // A bad filter is the API's 400, shown next to its field.
        await page.GetByLabel("Status").FillAsync("banana");
        await page.GetByRole(AriaRole.Button, new() { Name = "Apply filters" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("status");

        // A workspace without runs has analytics that say so.
        await page.GetByRole(AriaRole.Link, new() { Name = "Analytics" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "No runs in the last 30 days" })).ToBeVisibleAsync();
    });
}
