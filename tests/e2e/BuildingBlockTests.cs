using System.Net.Http.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Cadre.E2E.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Cadre.E2E;

/// <summary>The skills and providers pages: kind-specific forms, the API's errors beside their fields, write-only keys.</summary>
public sealed class BuildingBlockTests(InstanceWithOwner cadre) : IClassFixture<InstanceWithOwner>
{
    [BrowserFact]
    public Task HttpSkill_ErrorsShowBesideTheirFields_AndTheAuthValueIsNeverShown() => cadre.InPageAsync(async page =>
    {
        const string authValue = "shop-secret-9876-never-shown";
        await cadre.CreateWorkspaceAsync("shop", "Shop");
        await InstanceWithOwner.SignInAsync(page, "/w/shop/skills");

        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "No skills yet" })).ToBeVisibleAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "New skill" }).First.ClickAsync();
        var dialog = page.GetByRole(AriaRole.Dialog);
        await dialog.GetByLabel("Name", new() { Exact = true }).FillAsync("lookup_order");
        await dialog.GetByLabel("Description").FillAsync("Finds an order by its number");

        // Headers that are not JSON are caught before anything is sent.
        await dialog.GetByLabel("Headers").FillAsync("{ not json");
        await Expect(dialog.GetByLabel("Headers")).ToHaveAccessibleDescriptionAsync(new Regex("Not JSON"));
        await dialog.GetByLabel("Headers").FillAsync("""{"Accept": "application/json"}""");

        // No URL: the API's 422 names config.url, shown under the URL field.
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Create skill" }).ClickAsync();
        var url = dialog.GetByLabel("URL", new() { Exact = true });
        await Expect(url).ToHaveAttributeAsync("aria-invalid", "true");
        await Expect(url).ToHaveAccessibleDescriptionAsync(new Regex("Is required: an http\\(s\\) URL"));

        await url.FillAsync("https://shop.example.com/orders/{{ args.city }}");
        await dialog.GetByLabel("Auth header").FillAsync("X-Api-Key");
        await dialog.GetByLabel("Auth value").FillAsync(authValue);
        await dialog.GetByLabel("Tags").FillAsync("orders, support");
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Create skill" }).ClickAsync();

        var row = page.GetByRole(AriaRole.Table).Locator("tbody tr").Filter(new() { HasText = "lookup_order" });
        await Expect(row).ToContainTextAsync("GET https://shop.example.com/orders/{{ args.city }}");
        await Expect(row).ToContainTextAsync("X-Api-Key: ••••");
        await Expect(row).ToContainTextAsync("support");
        Assert.DoesNotContain(authValue, await page.ContentAsync());

        // Editing leaves the stored auth value alone unless a new one is typed.
        await row.GetByRole(AriaRole.Button, new() { Name = "Edit lookup_order" }).ClickAsync();
        await Expect(dialog.GetByLabel("Name", new() { Exact = true })).ToBeDisabledAsync();
        await Expect(dialog.GetByLabel("Auth value")).ToHaveValueAsync("");
        await dialog.GetByLabel("Description").FillAsync("Finds an order by its number, with its lines");
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Save" }).ClickAsync();
        await Expect(row).ToContainTextAsync("with its lines");

        using var admin = cadre.Admin();
        var text = await admin.GetStringAsync("/api/v1/workspaces/shop/skills/lookup_order");
        Assert.DoesNotContain(authValue, text);
        var skill = JsonNode.Parse(text)!;
        Assert.Equal("X-Api-Key", (string?)skill["authHeader"]);
        Assert.Equal("application/json", (string?)skill["config"]!["headers"]!["Accept"]);
        Assert.Equal(2, (int)skill["version"]!);
    });

    [BrowserFact]
    public Task Providers_TheKeyShowsOnlyAsAHint_InstanceOnesAreReadOnly_AndATestAnswers() => cadre.InPageAsync(async page =>
    {
        const string apiKey = "sk-test-0123456789abcdef";
        await cadre.CreateWorkspaceAsync("models", "Models");
        await InstanceWithOwner.SignInAsync(page, "/w/models/providers");

        var rows = page.GetByRole(AriaRole.Table).Locator("tbody tr");
        var mock = rows.Filter(new() { HasText = "Mock" });
        await Expect(mock).ToContainTextAsync("Instance");
        await Expect(mock.GetByRole(AriaRole.Button, new() { Name = "Edit mock" })).ToHaveCountAsync(0);

        await mock.GetByRole(AriaRole.Button, new() { Name = "Test mock" }).ClickAsync();
        var dialog = page.GetByRole(AriaRole.Dialog);
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Run test" }).ClickAsync();
        await Expect(dialog).ToContainTextAsync("answered");
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Close" }).First.ClickAsync();

        await page.GetByRole(AriaRole.Button, new() { Name = "Connect a provider" }).ClickAsync();
        await dialog.GetByLabel("Name", new() { Exact = true }).FillAsync("gateway");
        await dialog.GetByLabel("Kind").SelectOptionAsync("openai");
        await dialog.GetByLabel("Base URL").FillAsync("https://llm.example.com/v1");
        await dialog.GetByLabel("API key").FillAsync(apiKey);
        await dialog.GetByLabel("Default model").FillAsync("gpt-4o-mini");
        await dialog.GetByLabel("Timeout").FillAsync("forever-ish");
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Connect" }).ClickAsync();
        await Expect(dialog.GetByLabel("Timeout")).ToHaveAttributeAsync("aria-invalid", "true");
        await dialog.GetByLabel("Timeout").FillAsync("30s");
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Connect" }).ClickAsync();

        var gateway = rows.Filter(new() { HasText = "gateway" });
        await Expect(gateway).ToContainTextAsync("Workspace");
        await Expect(gateway).ToContainTextAsync("••••cdef");
        await Expect(gateway).ToContainTextAsync("30s");
        Assert.DoesNotContain(apiKey, await page.ContentAsync());

        using var admin = cadre.Admin();
        var text = await admin.GetStringAsync("/api/v1/workspaces/models/providers/gateway");
        Assert.DoesNotContain(apiKey, text);
        var provider = JsonNode.Parse(text)!;
        Assert.True((bool)provider["apiKeySet"]!);
        Assert.Equal("https://llm.example.com/v1", (string?)provider["baseUrl"]);

        // The workspace's own price for a model, over the list prices; a bad figure is shown under its field.
        await page.GetByRole(AriaRole.Button, new() { Name = "Price a model" }).ClickAsync();
        await dialog.GetByLabel("Model", new() { Exact = true }).FillAsync("acme/llama-70b");
        await dialog.GetByLabel("Input", new() { Exact = true }).FillAsync("-1");
        await dialog.GetByLabel("Output", new() { Exact = true }).FillAsync("3");
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Save price" }).ClickAsync();
        await Expect(dialog.GetByLabel("Input", new() { Exact = true })).ToHaveAttributeAsync("aria-invalid", "true");
        await dialog.GetByLabel("Input", new() { Exact = true }).FillAsync("1.25");
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Save price" }).ClickAsync();
        var price = page.GetByRole(AriaRole.Table, new() { Name = "Model prices" }).Locator("tbody tr").Filter(new() { HasText = "acme/llama-70b" });
        await Expect(price).ToContainTextAsync("This workspace");
        await Expect(price).ToContainTextAsync("1.25");
        var prices = await admin.GetFromJsonAsync<JsonArray>("/api/v1/workspaces/models/prices");
        var own = prices!.Single(p => (string?)p!["model"] == "acme/llama-70b")!;
        Assert.Equal(1.25m, (decimal)own["input"]!);
        Assert.Equal("workspace", (string?)own["source"]);
    });
}
