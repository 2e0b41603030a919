using System.Net.Http.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Cadre.E2E.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Cadre.E2E;

/// <summary>A model step's answer in the run view, word by word as the provider streams it (a fake OpenAI-compatible server).</summary>
public sealed class RunStreamingTests(InstanceWithFakeModel cadre) : IClassFixture<InstanceWithFakeModel>
{
    private const string Story = "Once upon a time a durable engine streamed every word to the people watching it";

    [BrowserFact]
    public Task ModelStep_StreamsItsAnswerIntoTheRunView_AsTheTokensArrive() => cadre.InPageAsync(async page =>
    {
        var workspace = await cadre.CreateWorkspaceAsync("runs-stream", "Streaming");
        using var admin = cadre.Admin();
        using var created = await admin.PostAsJsonAsync($"/api/v1/workspaces/{workspace}/workflows", new
        {
            name = "storyteller",
            steps = new object[]
            {
                new
                {
                    id = "write", activity = new { uniqueIdentifier = "llm" },
                    input = new JsonObject
                    {
                        ["model"] = new JsonObject { ["provider"] = InstanceWithFakeModel.Provider, ["model"] = "gpt-4o" },
                        ["prompt"] = "{{ context.prompt }}",
                    },
                },
            },
        });
        created.EnsureSuccessStatusCode();
        // Fifteen words, two a second: the answer takes about seven seconds to arrive in full.
        cadre.Model.Enqueue(new FakeReply { Text = Story, TokensPerSecond = 2, InputTokens = 12 });

        await InstanceWithFakeModel.SignInAsync(page, "/w/runs-stream/workflows/storyteller");
        await page.GetByRole(AriaRole.Button, new() { Name = "Start run" }).ClickAsync();
        var dialog = page.GetByRole(AriaRole.Dialog);
        await dialog.GetByLabel("Prompt", new() { Exact = true }).FillAsync("Tell me a short story");
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Start run" }).ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex("/w/runs-stream/runs/run_"));

        // The first words show while the model is still answering and the run is still running...
        var live = page.GetByTestId("live-text");
        await Expect(live).ToContainTextAsync("Once upon");
        await Expect(page.GetByRole(AriaRole.Status, new() { Name = "Run status: running" })).ToBeVisibleAsync();
        await Expect(live).Not.ToContainTextAsync("watching it");
        await Expect(page.Locator(".run-graph [data-step='write']")).ToHaveAttributeAsync("data-status", new Regex("^(started|running)$"));

        // ...then the whole answer, the run's end, and what it cost in tokens.
        var conversation = page.GetByRole(AriaRole.List, new() { Name = "Conversation" });
        await Expect(conversation).ToContainTextAsync(Story);
        await Expect(page.GetByRole(AriaRole.Status, new() { Name = "Run status: succeeded" })).ToBeVisibleAsync();
        await Expect(live).ToHaveCountAsync(0);
        await Expect(page.Locator(".run-graph [data-step='write']")).ToHaveAttributeAsync("data-status", "succeeded");
        await Expect(page.GetByRole(AriaRole.Complementary)).ToContainTextAsync("Output tokens15");
        await Expect(page.GetByLabel("Run output")).ToContainTextAsync(Story);
        await CadreBrowserServer.DocScreenshotAsync(page, "run-view");

        var runs = await admin.GetFromJsonAsync<JsonObject>($"/api/v1/workspaces/{workspace}/runs");
        var run = await admin.GetFromJsonAsync<JsonObject>($"/api/v1/workspaces/{workspace}/runs/{runs!["results"]![0]!["id"]}");
        ((string)run!["status"]!).ShouldBe("succeeded");
        ((string)run["steps"]![0]!["output"]!["text"]!).ShouldBe(Story);
        cadre.Model.Requests.ShouldContain(r => r.LastUserText == "Tell me a short story");
    });

    [BrowserFact]
    public Task SessionRun_TakesAFollowUpPromptFromTheRunView_AndEndsWhenAsked() => cadre.InPageAsync(async page =>
    {
        var workspace = await cadre.CreateWorkspaceAsync("runs-session", "Sessions");
        using var admin = cadre.Admin();
        using var created = await admin.PostAsJsonAsync($"/api/v1/workspaces/{workspace}/workflows", new
        {
            name = "chat",
            steps = new object[]
            {
                new
                {
                    id = "talk", activity = new { uniqueIdentifier = "agent" },
                    input = new JsonObject
                    {
                        ["prompt"] = "{{ context.prompt }}",
                        ["session"] = true,
                        ["model"] = new JsonObject { ["provider"] = InstanceWithFakeModel.Provider, ["model"] = "gpt-4o" },
                    },
                },
            },
        });
        created.EnsureSuccessStatusCode();
        cadre.Model.Enqueue(new FakeReply { Text = "Hello Ada." });
        cadre.Model.Enqueue(new FakeReply { Text = "You are Ada, who wrote the first program.", TokensPerSecond = 4 });
        using var started = await admin.PostAsJsonAsync($"/api/v1/workspaces/{workspace}/workflows/chat/runs", new { prompt = "Hi, I am Ada." });
        started.EnsureSuccessStatusCode();
        var runId = (string)(await started.Content.ReadFromJsonAsync<JsonObject>())!["id"]!;

        await InstanceWithFakeModel.SignInAsync(page, $"/w/runs-session/runs/{runId}");
        var conversation = page.GetByRole(AriaRole.List, new() { Name = "Conversation" });
        await Expect(conversation).ToContainTextAsync("Hi, I am Ada.");
        await Expect(conversation).ToContainTextAsync("Hello Ada.");
        await Expect(page.GetByRole(AriaRole.Status, new() { Name = "Run status: waiting" })).ToBeVisibleAsync();

        await page.GetByLabel("Follow-up prompt").FillAsync("Who am I?");
        await page.GetByRole(AriaRole.Button, new() { Name = "Send", Exact = true }).ClickAsync();
        await Expect(page.GetByLabel("Follow-up prompt")).ToHaveValueAsync("");
        await Expect(conversation).ToContainTextAsync("Who am I?");
        await Expect(conversation).ToContainTextAsync("You are Ada, who wrote the first program.");
        // Each message once, in order: the stream and the record agree without doubling anything.
        await Expect(conversation.Locator("li")).ToHaveCountAsync(4);

        await page.GetByRole(AriaRole.Button, new() { Name = "End session" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status, new() { Name = "Run status: succeeded" })).ToBeVisibleAsync();
        await Expect(page.GetByLabel("Follow-up prompt")).ToHaveCountAsync(0);

        var run = await admin.GetFromJsonAsync<JsonObject>($"/api/v1/workspaces/{workspace}/runs/{runId}");
        ((string)run!["status"]!).ShouldBe("succeeded");
        run["messages"]!.AsArray().Where(m => !(bool)m!["end"]!).Select(m => (string)m!["text"]!)
            .ShouldBe(["Hi, I am Ada.", "Hello Ada.", "Who am I?", "You are Ada, who wrote the first program."]);
    });
}
