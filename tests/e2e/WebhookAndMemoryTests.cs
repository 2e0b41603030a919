using System.Net.Http.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Cadre.E2E.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Cadre.E2E;

/// <summary>
/// Outbound webhooks and persona memory in the browser: a subscription refused at its fields then made, with its
/// secret shown once; the delivery an event makes, with the outbound guard's refusal as its last answer; and a
/// persona's notes listed, one added and one forgotten.
/// </summary>
public sealed class WebhookAndMemoryTests(InstanceWithOwner cadre) : IClassFixture<InstanceWithOwner>
{
    [BrowserFact]
    public Task Subscription_InvalidThenFixed_IsCreatedAndItsDeliveryShowsTheRefusal() => cadre.InPageAsync(async page =>
    {
        var workspace = await cadre.CreateWorkspaceAsync("hooks", "Hooks");
        await InstanceWithOwner.SignInAsync(page, "/w/hooks/webhooks");

        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "No subscriptions yet" })).ToBeVisibleAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Nothing delivered yet" })).ToBeVisibleAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "New subscription" }).First.ClickAsync();
        var dialog = page.GetByRole(AriaRole.Dialog, new() { Name = "New subscription" });
        var url = dialog.GetByLabel("URL", new() { Exact = true });
        var types = dialog.GetByLabel("Event types");
        await url.FillAsync("ftp://example.com/drop");
        await types.FillAsync("order.*\nbad type!");
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Create subscription" }).ClickAsync();

        // The API's 422 messages stand beside the fields they are about.
        await Expect(url).ToHaveAccessibleDescriptionAsync(new Regex("Must be an http\\(s\\) URL"));
        await Expect(types).ToHaveAccessibleDescriptionAsync(new Regex("“bad type!”: Must be an event type or pattern"));

        // Loopback: the outbound guard refuses it when the delivery is sent, not when it is subscribed.
        await url.FillAsync("http://127.0.0.1:9/hook");
        await types.FillAsync("order.*");
        await dialog.GetByLabel("Description").FillAsync("Orders to the ledger");
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Create subscription" }).ClickAsync();

        var secretDialog = page.GetByRole(AriaRole.Dialog, new() { Name = "The signing secret" });
        await Expect(secretDialog.GetByLabel("Signing secret of http://127.0.0.1:9/hook")).ToHaveValueAsync(new Regex("^whsec_"));
        await secretDialog.GetByRole(AriaRole.Button, new() { Name = "Done" }).ClickAsync();
        var row = page.GetByRole(AriaRole.Table, new() { Name = "Webhook subscriptions" }).Locator("tbody tr").Filter(new() { HasText = "127.0.0.1:9" });
        await Expect(row).ToContainTextAsync("order.*");
        await Expect(row).ToContainTextAsync("Active");

        using var admin = cadre.Admin();
        var list = await admin.GetFromJsonAsync<JsonObject>($"/api/v1/workspaces/{workspace}/webhook-subscriptions");
        var subscription = Assert.Single(list!["results"]!.AsArray())!;
        Assert.Equal("http://127.0.0.1:9/hook", (string?)subscription["url"]);
        Assert.Equal("order.*", (string?)subscription["eventTypes"]![0]);
        Assert.Equal("Orders to the ledger", (string?)subscription["description"]);
        Assert.Null(subscription["secret"]);

        // An event of a subscribed type becomes a delivery; the page picks it up on its own.
        using (var type = await admin.PostAsJsonAsync($"/api/v1/workspaces/{workspace}/event-types", new { name = "order.created", description = "An order was placed." }))
        {
            type.EnsureSuccessStatusCode();
        }

        using var sent = await admin.PostAsJsonAsync($"/api/v1/workspaces/{workspace}/events", new { type = "order.created", source = "shop", payload = new { order = 7 } });
        sent.EnsureSuccessStatusCode();
        var delivery = page.GetByRole(AriaRole.Table, new() { Name = "Webhook deliveries" }).Locator("tbody tr").Filter(new() { HasText = "order.created" });
        await Expect(delivery).ToContainTextAsync("pending");
        await Expect(delivery).ToContainTextAsync("Cadre:Outbound");

        await delivery.GetByRole(AriaRole.Button).ClickAsync();
        var detail = page.GetByRole(AriaRole.Dialog, new() { Name = "Delivery" });
        await Expect(detail.GetByLabel("Payload")).ToContainTextAsync("\"order\": 7");
        await Expect(detail.GetByRole(AriaRole.Listitem).First).ToContainTextAsync("loopback");
        await detail.GetByRole(AriaRole.Button, new() { Name = "Done" }).ClickAsync();

        var deliveries = await admin.GetFromJsonAsync<JsonObject>($"/api/v1/workspaces/{workspace}/deliveries?subscription={(string?)subscription["id"]}");
        var listed = Assert.Single(deliveries!["results"]!.AsArray())!;
        Assert.Equal("order.created", (string?)listed["eventType"]);
        Assert.Contains("Cadre:Outbound", (string?)listed["lastError"], StringComparison.Ordinal);
    });

    [BrowserFact]
    public Task PersonaMemory_NotesListed_OneAddedAndOneForgottenInTheBrowser() => cadre.InPageAsync(async page =>
    {
        var workspace = await cadre.CreateWorkspaceAsync("recall", "Recall");
        using var admin = cadre.Admin();
        using (var created = await admin.PostAsJsonAsync($"/api/v1/workspaces/{workspace}/personas", new
        {
            name = "concierge", displayName = "Concierge", instructions = "You help guests.", memory = new { mode = "persistent" },
        }))
        {
            created.EnsureSuccessStatusCode();
        }

        foreach (var content in new[] { "Guest in room 12 is allergic to nuts.", "The spa closes at 9 pm." })
        {
            using var note = await admin.PostAsJsonAsync($"/api/v1/workspaces/{workspace}/personas/concierge/memory", new { content });
            note.EnsureSuccessStatusCode();
        }

        await InstanceWithOwner.SignInAsync(page, "/w/recall/personas/concierge?tab=memory");
        var table = page.GetByRole(AriaRole.Table, new() { Name = "Memory notes" });
        await Expect(table.Locator("tbody tr")).ToHaveCountAsync(2);
        await Expect(table).ToContainTextAsync("allergic to nuts");
        await Expect(page.GetByText("2 notes")).ToBeVisibleAsync();

        // An empty note is refused at the field, then a real one is added.
        await page.GetByRole(AriaRole.Button, new() { Name = "Add a note" }).ClickAsync();
        var dialog = page.GetByRole(AriaRole.Dialog, new() { Name = "Add a note" });
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Add note" }).ClickAsync();
        await Expect(dialog.GetByLabel("Note")).ToHaveAccessibleDescriptionAsync(new Regex("Is required"));
        await dialog.GetByLabel("Note").FillAsync("Late checkout is free for members.");
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Add note" }).ClickAsync();
        await Expect(table.Locator("tbody tr")).ToHaveCountAsync(3);
        await Expect(table).ToContainTextAsync("Late checkout");

        var spa = table.Locator("tbody tr").Filter(new() { HasText = "spa closes" });
        await spa.GetByRole(AriaRole.Button, new() { NameRegex = new Regex("^Forget note") }).ClickAsync();
        await page.GetByRole(AriaRole.Dialog, new() { Name = "Forget the note?" }).GetByRole(AriaRole.Button, new() { Name = "Forget note" }).ClickAsync();
        await Expect(table.Locator("tbody tr")).ToHaveCountAsync(2);
        await Expect(table).Not.ToContainTextAsync("spa closes");

        var memory = await admin.GetFromJsonAsync<JsonObject>($"/api/v1/workspaces/{workspace}/personas/concierge/memory");
        var notes = memory!["results"]!.AsArray().Select(n => (string?)n!["content"]).ToList();
        Assert.Equal(["Guest in room 12 is allergic to nuts.", "Late checkout is free for members."], notes);
        var added = memory["results"]!.AsArray().Single(n => (string?)n!["content"] == "Late checkout is free for members.")!;
        Assert.Equal("person", (string?)added["source"]);
    });
}
