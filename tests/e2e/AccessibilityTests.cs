using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Cadre.E2E.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Cadre.E2E;

/// <summary>
/// The UI's accessibility: axe-core (web/node_modules/axe-core) checks every page against WCAG 2 A and AA in
/// both themes, and the way from the workflows list to the builder and the start-run dialog works with the
/// keyboard alone.
/// </summary>
public sealed class AccessibilityTests(InstanceWithOwner cadre) : IClassFixture<InstanceWithOwner>
{
    private const string Workspace = "a11y";

    [BrowserFact]
    public Task EveryPage_InBothThemes_HasNoWcagAOrAaViolations() => cadre.InPageAsync(async page =>
    {
        var (runId, personaName) = await ArrangeAsync();
        var pages = new (string Path, string Heading)[]
        {
            ($"/w/{Workspace}/workflows", "Workflows"),
            ($"/w/{Workspace}/workflows/audited", "audited"),
            ($"/w/{Workspace}/workflows/audited/builder", "audited"),
            ($"/w/{Workspace}/workflows/audited/runs", "audited"),
            ($"/w/{Workspace}/workflows/audited/analytics", "audited"),
            ($"/w/{Workspace}/workflows/audited/related", "audited"),
            ($"/w/{Workspace}/workflows/audited/versions", "audited"),
            ($"/w/{Workspace}/runs/{runId}", "AUDITED-1"),
            ($"/w/{Workspace}/approvals", "Approvals"),
            ($"/w/{Workspace}/personas", "Personas"),
            ($"/w/{Workspace}/personas/{personaName}", "Reviewer"),
            ($"/w/{Workspace}/personas/{personaName}?tab=versions", "Reviewer"),
            ($"/w/{Workspace}/personas/{personaName}?tab=analytics", "Reviewer"),
            ($"/w/{Workspace}/personas/{personaName}?tab=memory", "Reviewer"),
            ($"/w/{Workspace}/personas/{personaName}?tab=card", "Reviewer"),
            ($"/w/{Workspace}/events", "Events"),
            ($"/w/{Workspace}/files", "Files"),
            ($"/w/{Workspace}/analytics", "Analytics"),
            ($"/w/{Workspace}/skills", "Skills"),
            ($"/w/{Workspace}/guardrails", "Guardrails"),
            ($"/w/{Workspace}/providers", "Model providers"),
            ($"/w/{Workspace}/webhooks", "Outbound webhooks"),
            ($"/w/{Workspace}/secrets", "Secrets"),
            ($"/w/{Workspace}/keys", "API keys"),
            ($"/w/{Workspace}/members", "Members"),
            ($"/w/{Workspace}/audit", "Audit log"),
            ($"/w/{Workspace}/settings", "Settings"),
            ("/account", "Your account"),
            ("/admin/users", "Instance"),
            ("/admin/nodes", "Instance"),
            ("/admin/encryption", "Instance"),
            ("/admin/audit", "Instance"),
        };

        var import = await ImportDocumentAsync();
        var violations = new List<string>();
        foreach (var theme in new[] { "light", "dark" })
        {
            await page.Context.ClearCookiesAsync();
            await UseThemeAsync(page, theme);
            // The pages seen before signing in: sign-in, and set-up (which says the instance is set up already).
            await page.GotoAsync("/setup");
            await WaitForPageAsync(page, null);
            violations.AddRange(await AxeAsync(page, "/setup", theme));
            await page.GotoAsync("/login");
            await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Sign in to Cadre" })).ToBeVisibleAsync();
            violations.AddRange(await AxeAsync(page, "/login", theme));

            await InstanceWithOwner.SignInAsync(page, $"/w/{Workspace}/workflows");
            foreach (var (path, heading) in pages)
            {
                await page.GotoAsync(path);
                await WaitForPageAsync(page, heading);
                violations.AddRange(await AxeAsync(page, path, theme));
            }

            // A dialog open over a page: the start-run dialog.
            await page.GotoAsync($"/w/{Workspace}/workflows/audited");
            await page.GetByRole(AriaRole.Button, new() { Name = "Start run" }).ClickAsync();
            await Expect(page.GetByRole(AriaRole.Dialog)).ToBeVisibleAsync();
            violations.AddRange(await AxeAsync(page, "start-run dialog", theme));

            // The configuration's folded-away section: the annotations form and its preview.
            await page.Keyboard.PressAsync("Escape");
            await page.GetByRole(AriaRole.Form, new() { Name = "Configuration" }).GetByText("Advanced").ClickAsync();
            await Expect(page.GetByRole(AriaRole.Group, new() { Name = "Annotation 1" })).ToBeVisibleAsync();
            violations.AddRange(await AxeAsync(page, "configuration: annotations", theme));

            // The export dialog, and the import dialog with a report of every kind (update with its diff, create, error).
            await page.GetByRole(AriaRole.Button, new() { Name = "Export", Exact = true }).ClickAsync();
            await Expect(page.GetByRole(AriaRole.Dialog, new() { Name = "Export audited" })).ToBeVisibleAsync();
            violations.AddRange(await AxeAsync(page, "export dialog", theme));
            await page.GotoAsync($"/w/{Workspace}/workflows");
            await page.GetByRole(AriaRole.Button, new() { Name = "Import", Exact = true }).ClickAsync();
            var dialog = page.GetByRole(AriaRole.Dialog, new() { Name = "Import workflows" });
            await dialog.GetByLabel("Document", new() { Exact = true }).FillAsync(import);
            await dialog.GetByRole(AriaRole.Button, new() { Name = "Add persona" }).ClickAsync();
            await dialog.GetByLabel("When a workflow of the same name exists").SelectOptionAsync("upsert");
            await dialog.GetByRole(AriaRole.Button, new() { Name = "Check" }).ClickAsync();
            await Expect(dialog.GetByRole(AriaRole.Region, new() { Name = "Import report" })).ToContainTextAsync("Would create 1, update 1, 0 unchanged, 1 error");
            violations.AddRange(await AxeAsync(page, "import dialog with a report", theme));
        }

        violations.ShouldBeEmpty($"axe-core found WCAG 2 A/AA violations:\n{string.Join("\n", violations)}\n");
    });

    [BrowserFact]
    public Task Keyboard_FromTheWorkflowsList_ReachesTheBuildersAddStepAndTheStartRunDialog() => cadre.InPageAsync(async page =>
    {
        await ArrangeAsync();
        await InstanceWithOwner.SignInAsync(page, $"/w/{Workspace}/workflows");
        var link = page.GetByRole(AriaRole.Link, new() { Name = "audited", Exact = true });
        await Expect(link).ToBeVisibleAsync();

        // Tab from the top of the page to the workflow's link, and open it with Enter.
        await TabUntilAsync(page, link);
        await page.Keyboard.PressAsync("Enter");
        await Expect(page).ToHaveURLAsync(new Regex($"/w/{Workspace}/workflows/audited$"));

        // The start-run dialog: it takes the focus, keeps it inside, and Escape gives it back to its button.
        var startRun = page.GetByRole(AriaRole.Button, new() { Name = "Start run" });
        await TabUntilAsync(page, startRun);
        await page.Keyboard.PressAsync("Enter");
        var dialog = page.GetByRole(AriaRole.Dialog);
        await Expect(dialog).ToBeVisibleAsync();
        await Expect(dialog.Locator(":focus")).ToHaveCountAsync(1);
        // A native modal dialog makes the page behind it inert: Tab cycles through the dialog's controls and, past
        // the last one, through the browser's own UI (document.body here), never to a control of the page behind.
        var inside = 0;
        for (var i = 0; i < 12; i++)
        {
            await page.Keyboard.PressAsync("Tab");
            var where = await dialog.EvaluateAsync<string>("d => d.contains(document.activeElement) ? 'dialog' : document.activeElement === document.body || document.activeElement === null ? 'browser' : document.activeElement.outerHTML.slice(0, 120)");
            where.ShouldBeOneOf(["dialog", "browser"], "Tab reached a control behind the open dialog.");
            inside += where == "dialog" ? 1 : 0;
        }

        inside.ShouldBeGreaterThan(6);

        await page.Keyboard.PressAsync("Escape");
        await Expect(dialog).ToBeHiddenAsync();
        await Expect(startRun).ToBeFocusedAsync();

        // The builder tab, then its Add step, opened with Space.
        var builder = page.GetByRole(AriaRole.Link, new() { Name = "Builder" });
        await TabUntilAsync(page, builder);
        await page.Keyboard.PressAsync("Enter");
        await Expect(page).ToHaveURLAsync(new Regex("/builder$"));
        var addStep = page.GetByRole(AriaRole.Button, new() { Name = "Add step" });
        await Expect(addStep).ToBeVisibleAsync();
        await TabUntilAsync(page, addStep);
        await page.Keyboard.PressAsync(" ");
        var addDialog = page.GetByRole(AriaRole.Dialog);
        await Expect(addDialog).ToBeVisibleAsync();
        await Expect(addDialog.Locator(":focus")).ToHaveCountAsync(1);
        await page.Keyboard.PressAsync("Escape");
        await Expect(addDialog).ToBeHiddenAsync();
        await Expect(addStep).ToBeFocusedAsync();
    });

    /// <summary>An import document for the workspace: <c>audited</c> as exported with a new description, a new workflow, and one the API refuses.</summary>
    private async Task<string> ImportDocumentAsync()
    {
        using var admin = cadre.Admin();
        var document = (await admin.GetFromJsonAsync<JsonObject>($"/api/v1/workspaces/{Workspace}/workflows/audited/export"))!;
        document["workflows"]![0]!["description"] = "Checks a change, then asks";
        JsonNode Step() => new JsonObject { ["id"] = "only", ["activity"] = new JsonObject { ["uniqueIdentifier"] = "transform" } };
        document["workflows"]!.AsArray().Add(new JsonObject { ["name"] = "fresh", ["steps"] = new JsonArray(Step()) });
        document["workflows"]!.AsArray().Add(new JsonObject { ["name"] = "Bad Name", ["steps"] = new JsonArray(Step()) });
        return document.ToJsonString();
    }

    /// <summary>Presses Tab until <paramref name="target"/> has the focus (at most 80 times: a page's controls, not a loop forever).</summary>
    private static async Task TabUntilAsync(IPage page, ILocator target)
    {
        for (var i = 0; i < 80; i++)
        {
            await page.Keyboard.PressAsync("Tab");
            if (await target.EvaluateAsync<bool>("e => e === document.activeElement"))
            {
                return;
            }
        }

        throw new InvalidOperationException($"Tab never reached {target}.");
    }

    private static async Task UseThemeAsync(IPage page, string theme)
    {
        if (page.Url.StartsWith("http", StringComparison.Ordinal) is false)
        {
            await page.GotoAsync("/login");
        }

        await page.EvaluateAsync("t => localStorage.setItem('cadre.theme', t)", theme);
    }

    /// <summary>Waits for the page's heading (when known) and for nothing to be loading.</summary>
    private static async Task WaitForPageAsync(IPage page, string? heading)
    {
        if (heading is not null)
        {
            await Expect(page.GetByRole(AriaRole.Heading, new() { Name = heading, Level = 1 }).First).ToBeVisibleAsync();
        }
        else
        {
            await Expect(page.Locator("h1").First).ToBeVisibleAsync();
        }

        await Expect(page.Locator(".loading, .spinner")).ToHaveCountAsync(0);
    }

    private static async Task<IEnumerable<string>> AxeAsync(IPage page, string where, string theme)
    {
        if (!await page.EvaluateAsync<bool>("() => typeof window.axe !== 'undefined'"))
        {
            await page.AddScriptTagAsync(new() { Path = AxePath() });
        }

        var result = await page.EvaluateAsync<JsonElement>("""
            async () => {
              const r = await axe.run(document, { runOnly: ['wcag2a', 'wcag2aa'], resultTypes: ['violations'] });
              return r.violations.map(v => ({ id: v.id, impact: v.impact, help: v.help, targets: v.nodes.map(n => n.target.join(' ') + (n.failureSummary ? ' — ' + n.failureSummary.replace(/\s+/g, ' ') : '')) }));
            }
            """);
        var found = new List<string>();
        foreach (var violation in result.EnumerateArray())
        {
            var text = new StringBuilder($"[{theme}] {where}: {violation.GetProperty("id").GetString()} ({violation.GetProperty("impact").GetString()}) {violation.GetProperty("help").GetString()}");
            foreach (var target in violation.GetProperty("targets").EnumerateArray().Take(8))
            {
                text.Append("\n    ").Append(target.GetString());
            }

            found.Add(text.ToString());
        }

        return found;
    }

    private static string AxePath()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Cadre.slnx")))
        {
            directory = directory.Parent;
        }

        var path = Path.Combine(directory?.FullName ?? throw new InvalidOperationException("No Cadre.slnx above the test output."), "web", "node_modules", "axe-core", "axe.min.js");
        return File.Exists(path) ? path : throw new InvalidOperationException($"No {path}: run npm ci in web/.");
    }

    private static readonly SemaphoreSlim Arranging = new(1, 1);
    private static (string RunId, string Persona)? _arranged;

    /// <summary>
    /// One workspace with something on every page: a workflow that has run (and a run waiting for an approval),
    /// a persona with a memory note, an event type and an event (delivered to a webhook subscription), a secret, a skill and a guardrail,
    /// a file and a pending upload.
    /// </summary>
    private async Task<(string RunId, string Persona)> ArrangeAsync()
    {
        await Arranging.WaitAsync();
        try
        {
            if (_arranged is { } done)
            {
                return done;
            }

            await cadre.CreateWorkspaceAsync(Workspace, "Accessibility");
            using var admin = cadre.Admin();
            var users = await admin.GetFromJsonAsync<JsonObject>("/api/v1/users");
            var owner = (string)users!["results"]!.AsArray().Single(u => (string?)u!["email"] == InstanceWithOwner.OwnerEmail)!["id"]!;
            await ApiCalls.SendAsync(admin, HttpMethod.Post, $"/api/v1/workspaces/{Workspace}/personas", new
            {
                name = "reviewer", displayName = "Reviewer", description = "Reviews what the workflow did.", instructions = "You review changes carefully.",
            });
            await ApiCalls.SendAsync(admin, HttpMethod.Post, $"/api/v1/workspaces/{Workspace}/event-types", new
            {
                name = "change.proposed", description = "A change was proposed.", schema = new { type = "object" },
            });
            await ApiCalls.SendAsync(admin, HttpMethod.Post, $"/api/v1/workspaces/{Workspace}/workflows", new
            {
                name = "audited", description = "Checks a change and waits for an approval",
                annotations = new[] { new { id = "reviewer", annotator = "persona", input = new { name = "reviewer" }, required = new[] { "name" }, relations = new[] { "workflows" } } },
                steps = new object[]
                {
                    new { id = "check", activity = new { uniqueIdentifier = "transform" }, input = new JsonObject { ["change"] = "{{ context.body.change }}" } },
                    new
                    {
                        id = "approve", activity = new { uniqueIdentifier = "approval" }, dependsOn = new[] { "check" },
                        input = new JsonObject { ["message"] = "Apply change {{ steps.check.output.change }}?" },
                        approval = new { approvers = new[] { owner }, quorum = 1, timeout = "1h" },
                    },
                },
            });
            await ApiCalls.SendAsync(admin, HttpMethod.Post, $"/api/v1/workspaces/{Workspace}/workflows", new
            {
                name = "on-change", type = "event", trigger = new { eventType = "change.proposed" },
                steps = new[] { new { id = "note", activity = new { uniqueIdentifier = "transform" }, input = new { id = "{{ context.event.payload.id }}" } } },
            });
            await ApiCalls.SendAsync(admin, HttpMethod.Post, $"/api/v1/workspaces/{Workspace}/workflows/on-change/activate", null);
            await ApiCalls.SendAsync(admin, HttpMethod.Post, $"/api/v1/workspaces/{Workspace}/personas/reviewer/memory", new { content = "The team prefers small changes." });
            await ApiCalls.SendAsync(admin, HttpMethod.Post, $"/api/v1/workspaces/{Workspace}/webhook-subscriptions", new
            {
                url = "https://hooks.example.com/cadre", eventTypes = new[] { "change.*" }, description = "Changes to the tracker",
            });
            await ApiCalls.SendAsync(admin, HttpMethod.Post, $"/api/v1/workspaces/{Workspace}/events", new
            {
                type = "change.proposed", source = "git", id = "CHG-1", payload = new { id = 1 },
            });
            var run = await ApiCalls.SendAsync(admin, HttpMethod.Post, $"/api/v1/workspaces/{Workspace}/workflows/audited/runs", new { input = new { change = "42" } });
            await ApiCalls.SendAsync(admin, HttpMethod.Post, $"/api/v1/workspaces/{Workspace}/secrets", new { name = "DEPLOY_TOKEN", value = "not-a-real-token", description = "Deploys" });
            await ApiFiles.UploadAsync(admin, Workspace, "change.md", "text/markdown", Encoding.UTF8.GetBytes("# Change 42\n"));
            await ApiFiles.DeclareAsync(admin, Workspace, "diff.txt", "text/plain", Encoding.UTF8.GetBytes("+ one line\n"));
            _arranged = ((string)run["id"]!, "reviewer");
            return _arranged.Value;
        }
        finally
        {
            Arranging.Release();
        }
    }
}
