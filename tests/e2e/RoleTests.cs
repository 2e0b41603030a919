using System.Collections.Concurrent;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Cadre.E2E.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Cadre.E2E;

/// <summary>
/// The UI as the lesser roles see it: a viewer reads every page with no control to change anything, no
/// Administration section and no error; an operator starts runs and decides approvals but edits nothing; an editor
/// edits but administers nothing. No page asks the API for what the role may not have (each 403 is recorded as
/// <c>access.denied</c> in the audit log), and an admin page opened by its address says the person has no access.
/// </summary>
public sealed class RoleTests(InstanceWithOwner cadre) : IClassFixture<InstanceWithOwner>
{
    private const string Workspace = "roles";
    private const string Password = "a long enough passphrase 4242";
    private const string Viewer = "vera@example.com";
    private const string Operator = "otto@example.com";
    private const string Editor = "edie@example.com";

    [BrowserFact]
    public Task Viewer_ReadsEveryPage_WithNoControlToChangeAnything_AndNoError() => cadre.InPageAsync(async page =>
    {
        var runId = await ArrangeAsync();
        var refused = RecordRefusals(page);
        await InstanceWithOwner.SignInAsync(page, $"/w/{Workspace}/workflows", Viewer, Password);

        // The sidebar has no Administration section.
        var sections = page.GetByRole(AriaRole.Navigation, new() { Name = "Sections" });
        await Expect(sections.GetByRole(AriaRole.Link, new() { Name = "Workflows" })).ToBeVisibleAsync();
        await Expect(sections.GetByRole(AriaRole.List, new() { Name = "Administration" })).ToHaveCountAsync(0);
        await Expect(sections.GetByRole(AriaRole.Link, new() { Name = "Members" })).ToHaveCountAsync(0);

        // Workflows: listed, but nothing to create, duplicate, delete or switch.
        await ExpectLoadedAsync(page, "Workflows");
        await Expect(page.GetByRole(AriaRole.Link, new() { Name = "review", Exact = true })).ToBeVisibleAsync();
        await ExpectNoButtonsAsync(page, "New workflow", "Duplicate review", "Delete review");
        await Expect(page.GetByRole(AriaRole.Switch, new() { Name = "review active" })).ToBeDisabledAsync();

        // A workflow's tabs: read-only.
        await page.GotoAsync($"/w/{Workspace}/workflows/review");
        await ExpectLoadedAsync(page, "review");
        await ExpectNoButtonsAsync(page, "Start run", "Save configuration");
        await Expect(page.GetByLabel("Description")).ToBeDisabledAsync();
        await page.GotoAsync($"/w/{Workspace}/workflows/review/builder");
        await ExpectLoadedAsync(page, "review");
        await Expect(page.Locator(".react-flow__node")).ToHaveCountAsync(2);
        await ExpectNoButtonsAsync(page, "Add step", "Save", "Auto-layout");
        await page.GotoAsync($"/w/{Workspace}/workflows/review/runs");
        await ExpectLoadedAsync(page, "review");
        await Expect(page.GetByRole(AriaRole.Table)).ToContainTextAsync("waiting");
        await page.GotoAsync($"/w/{Workspace}/workflows/review/versions");
        await ExpectLoadedAsync(page, "review");
        await ExpectNoButtonsAsync(page, "Revert to version 1");

        // The run waiting for an approval: its approval shows, with nothing to decide it with.
        await page.GotoAsync($"/w/{Workspace}/runs/{runId}");
        await ExpectLoadedAsync(page, "REVIEW-1");
        await Expect(page.GetByText("Ship change 42?").First).ToBeVisibleAsync();
        await ExpectNoButtonsAsync(page, "Approve", "Reject", "Halt", "Rerun");
        await page.GotoAsync($"/w/{Workspace}/approvals");
        await ExpectLoadedAsync(page, "Approvals");
        await Expect(page.GetByRole(AriaRole.Article).Filter(new() { HasText = "Ship change 42?" })).ToBeVisibleAsync();
        await ExpectNoButtonsAsync(page, "Approve", "Reject");

        // Personas: listed and opened read-only, every tab.
        await page.GotoAsync($"/w/{Workspace}/personas");
        await ExpectLoadedAsync(page, "Personas");
        await Expect(page.GetByRole(AriaRole.Link, new() { Name = "Helper" }).First).ToBeVisibleAsync();
        await ExpectNoButtonsAsync(page, "New persona", "Import", "Duplicate Helper", "Move Helper to the bin");
        await page.GotoAsync($"/w/{Workspace}/personas/helper");
        await ExpectLoadedAsync(page, "Helper");
        await Expect(page.GetByRole(AriaRole.Textbox, new() { Name = "Instructions", Exact = true })).ToBeDisabledAsync();
        await ExpectNoButtonsAsync(page, "Save draft", "Publish");
        foreach (var tab in new[] { "versions", "memory", "analytics", "card" })
        {
            await page.GotoAsync($"/w/{Workspace}/personas/helper?tab={tab}");
            await ExpectLoadedAsync(page, "Helper");
        }

        await ExpectNoButtonsAsync(page, "Add a note", "Forget everything");

        // The workspace's other pages.
        foreach (var (path, heading) in new[]
        {
            ("analytics", "Analytics"), ("events", "Events"), ("skills", "Skills"), ("guardrails", "Guardrails"),
            ("providers", "Model providers"), ("webhooks", "Outbound webhooks"),
        })
        {
            await page.GotoAsync($"/w/{Workspace}/{path}");
            await ExpectLoadedAsync(page, heading);
        }

        await page.GotoAsync($"/w/{Workspace}/skills");
        await Expect(page.GetByRole(AriaRole.Table)).ToContainTextAsync("lookup");
        await ExpectNoButtonsAsync(page, "New skill", "Edit lookup", "Delete lookup");
        await page.GotoAsync($"/w/{Workspace}/guardrails");
        await Expect(page.GetByRole(AriaRole.Table)).ToContainTextAsync("calm");
        await ExpectNoButtonsAsync(page, "New guardrail", "Edit calm", "Delete calm");
        await page.GotoAsync($"/w/{Workspace}/providers");
        await Expect(page.GetByRole(AriaRole.Table).First).ToContainTextAsync("mock");
        await ExpectNoButtonsAsync(page, "Connect a provider", "Test mock", "Override mock for this workspace", "Price a model");
        await page.GotoAsync($"/w/{Workspace}/webhooks");
        await ExpectNoButtonsAsync(page, "New subscription");
        await page.GotoAsync($"/w/{Workspace}/events?event={_eventId}");
        await ExpectLoadedAsync(page, "Events");
        await Expect(page.GetByText("CHG-1").First).ToBeVisibleAsync();
        await ExpectNoButtonsAsync(page, "Send a test event", "New event type", "Replay", "Edit change.proposed");

        refused.ShouldBeEmpty("The viewer's pages asked the API for what a viewer may not have.");
    });

    [BrowserFact]
    public Task Viewer_OpeningAdministrationByItsAddress_IsToldTheyHaveNoAccess() => cadre.InPageAsync(async page =>
    {
        await ArrangeAsync();
        var refused = RecordRefusals(page);
        await InstanceWithOwner.SignInAsync(page, $"/w/{Workspace}/keys", Viewer, Password);

        foreach (var (path, heading) in new[] { ("keys", "API keys"), ("audit", "Audit log"), ("secrets", "Secrets") })
        {
            await page.GotoAsync($"/w/{Workspace}/{path}");
            await ExpectLoadedAsync(page, heading);
            var notice = page.GetByRole(AriaRole.Region, new() { Name = "You don't have access to this page" });
            await Expect(notice).ToBeVisibleAsync();
            await Expect(notice).ToContainTextAsync("Your role in this workspace is viewer");
        }

        // The settings and the members are every member's to read (the API's choice), and say who changes them.
        await page.GotoAsync($"/w/{Workspace}/settings");
        await ExpectLoadedAsync(page, "Settings");
        await Expect(page.GetByText("Only admins change these settings.")).ToBeVisibleAsync();
        await Expect(page.GetByLabel("Time zone")).ToBeDisabledAsync();
        await ExpectNoButtonsAsync(page, "Save settings", "Delete workspace…");
        await page.GotoAsync($"/w/{Workspace}/members");
        await ExpectLoadedAsync(page, "Members");
        await Expect(page.GetByText("Only admins and owners of this workspace invite people and change roles; your role here is viewer.")).ToBeVisibleAsync();
        await Expect(page.GetByRole(AriaRole.Table, new() { Name = "Members" })).ToContainTextAsync("Otto Operator");
        await ExpectNoButtonsAsync(page, "Invite people", "Remove Otto Operator", "New team");
        await Expect(page.GetByLabel("Role of Otto Operator")).ToHaveCountAsync(0);

        refused.ShouldBeEmpty("An admin page asked the API for what a viewer may not have.");
    });

    [BrowserFact]
    public Task Operator_StartsARunAndApprovesIt_ButEditsNoWorkflowOrPersona() => cadre.InPageAsync(async page =>
    {
        await ArrangeAsync();
        var refused = RecordRefusals(page);
        await InstanceWithOwner.SignInAsync(page, $"/w/{Workspace}/workflows/review", Operator, Password);

        // Read-only configuration, but a run can be started.
        await ExpectLoadedAsync(page, "review");
        await ExpectNoButtonsAsync(page, "Save configuration");
        await Expect(page.GetByLabel("Description")).ToBeDisabledAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Start run" }).ClickAsync();
        var dialog = page.GetByRole(AriaRole.Dialog);
        await dialog.GetByLabel("Input", new() { Exact = true }).FillAsync("{\"change\": \"77\"}");
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Start run" }).ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex($"/w/{Workspace}/runs/run_"));
        var runId = page.Url[(page.Url.LastIndexOf('/') + 1)..];

        // Its approval is decided in place.
        var card = page.GetByRole(AriaRole.Article).Filter(new() { HasText = "Ship change 77?" });
        await card.GetByRole(AriaRole.Button, new() { Name = "Approve" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status, new() { Name = "Run status: succeeded" })).ToBeVisibleAsync();
        using var admin = cadre.Admin();
        var run = await admin.GetFromJsonAsync<JsonObject>($"/api/v1/workspaces/{Workspace}/runs/{runId}");
        ((string)run!["status"]!).ShouldBe("succeeded");

        // No builder or persona editing; no Administration.
        await page.GotoAsync($"/w/{Workspace}/workflows/review/builder");
        await ExpectLoadedAsync(page, "review");
        await ExpectNoButtonsAsync(page, "Add step", "Save");
        await page.GotoAsync($"/w/{Workspace}/personas/helper");
        await ExpectLoadedAsync(page, "Helper");
        await Expect(page.GetByRole(AriaRole.Textbox, new() { Name = "Instructions", Exact = true })).ToBeDisabledAsync();
        await ExpectNoButtonsAsync(page, "Save draft", "Publish");
        await Expect(page.GetByRole(AriaRole.List, new() { Name = "Administration" })).ToHaveCountAsync(0);

        // Events are sent and replayed by operators; their types are edited by editors.
        await page.GotoAsync($"/w/{Workspace}/events?event={_eventId}");
        await ExpectLoadedAsync(page, "Events");
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Send a test event" })).ToBeVisibleAsync();
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Replay" })).ToBeVisibleAsync();
        await ExpectNoButtonsAsync(page, "New event type", "Edit change.proposed");
        await page.GotoAsync($"/w/{Workspace}/skills");
        await ExpectLoadedAsync(page, "Skills");
        await ExpectNoButtonsAsync(page, "New skill", "Edit lookup");

        refused.ShouldBeEmpty("The operator's pages asked the API for what an operator may not have.");
    });

    [BrowserFact]
    public Task Editor_EditsAWorkflowAndAPersona_ButSeesNoAdministration() => cadre.InPageAsync(async page =>
    {
        await ArrangeAsync();
        var refused = RecordRefusals(page);
        await InstanceWithOwner.SignInAsync(page, $"/w/{Workspace}/workflows/review", Editor, Password);

        await ExpectLoadedAsync(page, "review");
        await Expect(page.GetByRole(AriaRole.List, new() { Name = "Administration" })).ToHaveCountAsync(0);
        var form = page.GetByRole(AriaRole.Form, new() { Name = "Configuration" });
        await form.GetByLabel("Description").FillAsync("Reviewed by the editor");
        await form.GetByRole(AriaRole.Button, new() { Name = "Save configuration" }).ClickAsync();
        await Expect(page.GetByText("All changes saved · version 2")).ToBeVisibleAsync();
        using var admin = cadre.Admin();
        var workflow = await admin.GetFromJsonAsync<JsonObject>($"/api/v1/workspaces/{Workspace}/workflows/review");
        ((string)workflow!["description"]!).ShouldBe("Reviewed by the editor");

        await page.GotoAsync($"/w/{Workspace}/workflows/review/builder");
        await ExpectLoadedAsync(page, "review");
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Add step" })).ToBeVisibleAsync();

        await page.GotoAsync($"/w/{Workspace}/personas/helper");
        await ExpectLoadedAsync(page, "Helper");
        await page.GetByRole(AriaRole.Textbox, new() { Name = "Instructions", Exact = true }).FillAsync("You help, briefly.");
        await page.GetByRole(AriaRole.Button, new() { Name = "Publish", Exact = true }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status).Filter(new() { HasText = "Published version 2." })).ToBeVisibleAsync();
        var persona = await admin.GetFromJsonAsync<JsonObject>($"/api/v1/workspaces/{Workspace}/personas/helper");
        ((string)persona!["instructions"]!).ShouldBe("You help, briefly.");

        // An editor may decide approvals by role, but not one that names only the operator: the API would refuse it.
        var mine = page.WaitForResponseAsync(r => r.Url.Contains("approver=me", StringComparison.Ordinal));
        await page.GotoAsync($"/w/{Workspace}/approvals");
        await ExpectLoadedAsync(page, "Approvals");
        await Expect(page.GetByRole(AriaRole.Article).Filter(new() { HasText = "Ship change 42?" })).ToBeVisibleAsync();
        await mine;
        await ExpectNoButtonsAsync(page, "Approve", "Reject");

        await page.GotoAsync($"/w/{Workspace}/skills");
        await ExpectLoadedAsync(page, "Skills");
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "New skill" })).ToBeVisibleAsync();
        await page.GotoAsync($"/w/{Workspace}/providers");
        await ExpectLoadedAsync(page, "Model providers");
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Test mock" })).ToBeVisibleAsync();
        await ExpectNoButtonsAsync(page, "Connect a provider", "Price a model");
        await page.GotoAsync($"/w/{Workspace}/webhooks");
        await ExpectLoadedAsync(page, "Outbound webhooks");
        await ExpectNoButtonsAsync(page, "New subscription");

        // The admin pages by their address: no access, no error.
        foreach (var (path, heading) in new[] { ("keys", "API keys"), ("audit", "Audit log") })
        {
            await page.GotoAsync($"/w/{Workspace}/{path}");
            await ExpectLoadedAsync(page, heading);
            await Expect(page.GetByRole(AriaRole.Region, new() { Name = "You don't have access to this page" })).ToContainTextAsync("Your role in this workspace is editor");
        }

        refused.ShouldBeEmpty("The editor's pages asked the API for what an editor may not have.");
    });

    /// <summary>Waits for the page's heading and for nothing to be loading, then checks that no error shows.</summary>
    private static async Task ExpectLoadedAsync(IPage page, string heading)
    {
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = heading, Level = 1 }).First).ToBeVisibleAsync();
        await Expect(page.Locator(".loading, .spinner")).ToHaveCountAsync(0);
        await Expect(page.GetByRole(AriaRole.Alert)).ToHaveCountAsync(0);
    }

    private static async Task ExpectNoButtonsAsync(IPage page, params string[] names)
    {
        foreach (var name in names)
        {
            await Expect(page.GetByRole(AriaRole.Button, new() { Name = name, Exact = true })).ToHaveCountAsync(0);
        }
    }

    /// <summary>Every API request the page makes that is refused for the role (403), as "METHOD path".</summary>
    private static ConcurrentQueue<string> RecordRefusals(IPage page)
    {
        var refused = new ConcurrentQueue<string>();
        page.Response += (_, response) =>
        {
            if (response.Status == 403 && new Uri(response.Url).AbsolutePath.StartsWith("/api/", StringComparison.Ordinal))
            {
                refused.Enqueue($"{response.Request.Method} {new Uri(response.Url).PathAndQuery}");
            }
        };
        return refused;
    }

    private static readonly SemaphoreSlim Arranging = new(1, 1);
    private static string? _runId;
    private static string? _eventId;

    /// <summary>
    /// The workspace every test reads: a viewer, an operator and an editor; a persona; a skill; a workflow whose
    /// approval the operator decides, with a run waiting for it.
    /// </summary>
    private async Task<string> ArrangeAsync()
    {
        await Arranging.WaitAsync();
        try
        {
            if (_runId is { } done)
            {
                return done;
            }

            await cadre.CreateWorkspaceAsync(Workspace, "Roles");
            await cadre.CreateMemberAsync(Workspace, Viewer, "Vera Viewer", Password, "viewer");
            var operatorId = await cadre.CreateMemberAsync(Workspace, Operator, "Otto Operator", Password, "operator");
            await cadre.CreateMemberAsync(Workspace, Editor, "Edie Editor", Password, "editor");
            using var admin = cadre.Admin();
            await ApiCalls.SendAsync(admin, HttpMethod.Post, $"/api/v1/workspaces/{Workspace}/personas", new
            {
                name = "helper", displayName = "Helper", description = "Helps.", instructions = "You help.",
            });
            await ApiCalls.SendAsync(admin, HttpMethod.Post, $"/api/v1/workspaces/{Workspace}/personas/helper/memory", new { content = "Likes short answers." });
            await ApiCalls.SendAsync(admin, HttpMethod.Post, $"/api/v1/workspaces/{Workspace}/skills", new
            {
                name = "lookup", kind = "http", description = "Looks an order up.",
                config = new
                {
                    method = "GET", url = "https://shop.example.com/orders/{{ args.order }}",
                    parameters = new { type = "object", properties = new { order = new { type = "integer" } } },
                },
            });
            await ApiCalls.SendAsync(admin, HttpMethod.Post, $"/api/v1/workspaces/{Workspace}/guardrails", new
            {
                name = "calm", kind = "deny_topic", action = "warn", config = new { phrase = "storm" },
            });
            await ApiCalls.SendAsync(admin, HttpMethod.Post, $"/api/v1/workspaces/{Workspace}/event-types", new
            {
                name = "change.proposed", description = "A change was proposed.", schema = new { type = "object" },
            });
            var sent = await ApiCalls.SendAsync(admin, HttpMethod.Post, $"/api/v1/workspaces/{Workspace}/events", new
            {
                type = "change.proposed", source = "git", id = "CHG-1", payload = new { id = 1 },
            });
            _eventId = (string)sent["id"]!;
            await ApiCalls.SendAsync(admin, HttpMethod.Post, $"/api/v1/workspaces/{Workspace}/workflows", new
            {
                name = "review", description = "Checks a change and asks the operator",
                steps = new object[]
                {
                    new { id = "check", activity = new { uniqueIdentifier = "transform" }, input = new JsonObject { ["change"] = "{{ context.body.change }}" } },
                    new
                    {
                        id = "approve", activity = new { uniqueIdentifier = "approval" }, dependsOn = new[] { "check" },
                        input = new JsonObject { ["message"] = "Ship change {{ steps.check.output.change }}?" },
                        approval = new { approvers = new[] { operatorId }, quorum = 1, timeout = "1h" },
                    },
                },
            });
            var run = await ApiCalls.SendAsync(admin, HttpMethod.Post, $"/api/v1/workspaces/{Workspace}/workflows/review/runs", new { input = new { change = "42" } });
            _runId = (string)run["id"]!;
            return _runId;
        }
        finally
        {
            Arranging.Release();
        }
    }
}
