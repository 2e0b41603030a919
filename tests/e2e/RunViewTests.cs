using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Cadre.E2E.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Cadre.E2E;

/// <summary>What the run view shows and does beyond following a run: attachments, a retry of a failed run, an agent's tool calls.</summary>
public sealed class RunViewTests(InstanceWithOwner cadre) : IClassFixture<InstanceWithOwner>
{
    [BrowserFact]
    public Task StartRunDialog_AttachesAFile_AndTheRunViewAndTheApiListIt() => cadre.InPageAsync(async page =>
    {
        var workspace = await cadre.CreateWorkspaceAsync("runs-files", "Files");
        await CreateWorkflowAsync(workspace, new
        {
            name = "reader",
            steps = new object[] { new { id = "read", activity = new { uniqueIdentifier = "transform" }, input = new JsonObject { ["file"] = "{{ context.attachments[0].name }}" } } },
        });

        await InstanceWithOwner.SignInAsync(page, "/w/runs-files/workflows/reader");
        await page.GetByRole(AriaRole.Button, new() { Name = "Start run" }).ClickAsync();
        var dialog = page.GetByRole(AriaRole.Dialog);
        await dialog.GetByLabel("Attachments").SetInputFilesAsync(new FilePayload
        {
            Name = "notes.txt", MimeType = "text/plain", Buffer = Encoding.UTF8.GetBytes("Remember the milk.\n"),
        });
        // The file is uploaded the moment it is chosen (declared, then its bytes put to the signed URL).
        var attached = dialog.GetByRole(AriaRole.List, new() { Name = "Attached files" }).Locator("li");
        await Expect(attached).ToHaveCountAsync(1);
        await Expect(attached.First).ToContainTextAsync("notes.txt");
        await Expect(attached.First.GetByRole(AriaRole.Status)).ToHaveTextAsync("ready");
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Start run" }).ClickAsync();

        await Expect(page).ToHaveURLAsync(new Regex("/w/runs-files/runs/run_"));
        await Expect(page.GetByRole(AriaRole.Status, new() { Name = "Run status: succeeded" })).ToBeVisibleAsync();
        await Expect(page.Locator(".run-attachments li")).ToHaveTextAsync("notes.txt (text/plain)");
        await Expect(page.GetByLabel("Run output")).ToContainTextAsync("notes.txt");

        using var admin = cadre.Admin();
        var runId = page.Url[(page.Url.LastIndexOf('/') + 1)..];

        // The run's ID goes to the clipboard, and its output downloads as a JSON file.
        await page.Context.GrantPermissionsAsync(["clipboard-read", "clipboard-write"]);
        await page.GetByRole(AriaRole.Button, new() { Name = "Copy run ID" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status).Filter(new() { HasText = "to the clipboard" })).ToHaveTextAsync($"Copied {runId} to the clipboard.");
        (await page.EvaluateAsync<string>("() => navigator.clipboard.readText()")).ShouldBe(runId);
        var download = await page.RunAndWaitForDownloadAsync(() => page.GetByRole(AriaRole.Link, new() { Name = "Download output JSON" }).ClickAsync());
        download.SuggestedFilename.ShouldBe("READER-1-output.json");
        var downloaded = JsonNode.Parse(await File.ReadAllTextAsync((await download.PathAsync())!))!;
        ((string)downloaded["file"]!).ShouldBe("notes.txt");
        var run = await admin.GetFromJsonAsync<JsonObject>($"/api/v1/workspaces/runs-files/runs/{runId}");
        var attachment = run!["context"]!["attachments"]!.AsArray().Single()!;
        ((string)attachment["name"]!).ShouldBe("notes.txt");
        ((string)attachment["contentType"]!).ShouldStartWith("text/plain");
        var file = await admin.GetFromJsonAsync<JsonObject>($"/api/v1/workspaces/runs-files/files/{(string)attachment["storageId"]!}");
        ((string)file!["name"]!).ShouldBe("notes.txt");
        ((long)file["size"]!).ShouldBe(19);
    });

    [BrowserFact]
    public Task RetryFromTheRunView_RunsTheFailedStepAgain_AndTheRunSucceeds() => cadre.InPageAsync(async page =>
    {
        var workspace = await cadre.CreateWorkspaceAsync("runs-retry", "Retries");
        // The second step reads a secret the workspace does not have yet: it fails before it runs (secret_not_found,
        // not retried), so the run fails; once the secret exists, a retry of the failed step succeeds.
        await CreateWorkflowAsync(workspace, new
        {
            name = "deliver",
            steps = new object[]
            {
                new { id = "prepare", activity = new { uniqueIdentifier = "transform" }, input = new JsonObject { ["ready"] = true } },
                new { id = "send", activity = new { uniqueIdentifier = "transform" }, dependsOn = new[] { "prepare" }, input = new JsonObject { ["token"] = "{{ secrets.deliveryToken }}" } },
            },
        });
        using var admin = cadre.Admin();
        using var started = await admin.PostAsJsonAsync("/api/v1/workspaces/runs-retry/workflows/deliver/runs?wait=30s", new { });
        started.EnsureSuccessStatusCode();
        var failed = (await started.Content.ReadFromJsonAsync<JsonObject>())!;
        ((string)failed["status"]!).ShouldBe("failed", failed.ToJsonString());
        var runId = (string)failed["id"]!;

        await InstanceWithOwner.SignInAsync(page, $"/w/runs-retry/runs/{runId}");
        await Expect(page.GetByRole(AriaRole.Status, new() { Name = "Run status: failed" })).ToBeVisibleAsync();
        await Expect(page.GetByRole(AriaRole.Alert).Filter(new() { HasText = "The run failed" })).ToContainTextAsync("deliveryToken");
        await Expect(page.Locator(".run-graph [data-step='send']")).ToHaveAttributeAsync("data-status", "failed");

        using (var secret = await admin.PostAsJsonAsync("/api/v1/workspaces/runs-retry/secrets", new { name = "deliveryToken", value = "tok-123456" }))
        {
            secret.EnsureSuccessStatusCode();
        }

        await page.GetByRole(AriaRole.Button, new() { Name = "Retry failed steps" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status, new() { Name = "Run status: succeeded" })).ToBeVisibleAsync();
        await Expect(page.Locator(".run-graph [data-step='send']")).ToHaveAttributeAsync("data-status", "succeeded");
        // The step ran a second time.
        await page.GetByRole(AriaRole.Button, new() { Name = "send: succeeded" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Complementary)).ToContainTextAsync(new Regex(@"Attempts\s*2"));
        await Expect(page.GetByLabel("Run output")).ToContainTextAsync("[secret:deliveryToken]");

        var run = await admin.GetFromJsonAsync<JsonObject>($"/api/v1/workspaces/runs-retry/runs/{runId}");
        ((string)run!["status"]!).ShouldBe("succeeded");
        var tasks = await admin.GetFromJsonAsync<JsonObject>($"/api/v1/workspaces/runs-retry/runs/{runId}/tasks");
        var attempts = tasks!["results"]!.AsArray();
        // The retry is a new attempt of the failed step (a new number, so a new key); the succeeded step is not repeated.
        var send = attempts.Single(t => (string?)t!["stepId"] == "send")!;
        ((int)send["attempt"]!).ShouldBe(2, tasks.ToJsonString());
        ((string)send["status"]!).ShouldBe("succeeded");
        attempts.Count(t => (string?)t!["stepId"] == "prepare").ShouldBe(1);
    });

    [BrowserFact]
    public Task AgentStep_ToolCall_IsShownWithItsArgumentsAndResult() => cadre.InPageAsync(async page =>
    {
        var workspace = await cadre.CreateWorkspaceAsync("runs-tools", "Tools");
        using var admin = cadre.Admin();
        // The mock's `tool:` script first calls the tool, then answers with what it returned.
        using (var persona = await admin.PostAsJsonAsync($"/api/v1/workspaces/{workspace}/personas", new
        {
            name = "clock", instructions = "You tell the time.", model = new { provider = "mock", model = "tool:current_time:{}" },
        }))
        {
            persona.EnsureSuccessStatusCode();
        }

        await CreateWorkflowAsync(workspace, new
        {
            name = "what-time",
            steps = new object[] { new { id = "ask", activity = new { uniqueIdentifier = "agent" }, input = new JsonObject { ["persona"] = "clock", ["prompt"] = "What time is it?", ["skills"] = new JsonArray("current_time") } } },
        });
        using var started = await admin.PostAsJsonAsync($"/api/v1/workspaces/{workspace}/workflows/what-time/runs?wait=30s", new { });
        started.EnsureSuccessStatusCode();
        var run = (await started.Content.ReadFromJsonAsync<JsonObject>())!;
        ((string)run["status"]!).ShouldBe("succeeded", run.ToJsonString());

        await InstanceWithOwner.SignInAsync(page, $"/w/{workspace}/runs/{(string)run["id"]!}");
        await page.GetByRole(AriaRole.Button, new() { Name = "ask: succeeded" }).ClickAsync();
        var detail = page.GetByRole(AriaRole.Complementary);
        var calls = detail.GetByRole(AriaRole.List, new() { Name = "Tool calls" }).Locator("> li");
        await Expect(calls).ToHaveCountAsync(1);
        await Expect(calls.First.Locator("code").First).ToHaveTextAsync("current_time");
        await Expect(calls.First.GetByLabel("Arguments of current_time")).ToHaveTextAsync("{}");
        await calls.First.GetByText("Result").ClickAsync();
        // current_time answers the instant (ISO 8601, UTC).
        await Expect(calls.First.GetByLabel("Result of current_time")).ToContainTextAsync(new Regex(@"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}"));
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
