using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Cadre.E2E.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Cadre.E2E;

/// <summary>Event types on the events page: defined, edited and deleted by an editor, with the API's errors at their fields.</summary>
public sealed class EventTypeTests(InstanceWithOwner cadre) : IClassFixture<InstanceWithOwner>
{
    [BrowserFact]
    public Task NewEventType_ABadSchemaIsExplainedAtItsField_TheFixedOneIsListed_AndATestEventOfItIsSent() => cadre.InPageAsync(async page =>
    {
        var workspace = await cadre.CreateWorkspaceAsync("event-types", "Event types");
        await InstanceWithOwner.SignInAsync(page, $"/w/{workspace}/events");
        await page.Locator("summary").Filter(new() { HasText = "Event types" }).ClickAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "New event type" }).ClickAsync();

        var dialog = page.GetByRole(AriaRole.Dialog, new() { Name = "New event type" });
        await dialog.GetByLabel("Name").FillAsync("order.shipped");
        await dialog.GetByLabel("Description").FillAsync("An order left the warehouse.");
        var schema = dialog.GetByLabel("Payload schema");
        await schema.FillAsync("""{"type": "object", "properties": {"orderId": {"type": "banana"}}, "required": ["orderId"]}""");
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Create" }).ClickAsync();
        // The API's 422 names `schema`: its message is tied to the field, and nothing was made.
        await Expect(schema).ToHaveAttributeAsync("aria-invalid", "true");
        await Expect(dialog.Locator(".field-errors")).ToContainTextAsync("'type' must be one of");
        using var admin = cadre.Admin();
        var none = await admin.GetFromJsonAsync<JsonObject>($"/api/v1/workspaces/{workspace}/event-types?builtIn=false");
        none!["results"]!.AsArray().ShouldBeEmpty();

        await schema.FillAsync("""{"type": "object", "properties": {"orderId": {"type": "string"}}, "required": ["orderId"]}""");
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Create" }).ClickAsync();
        await Expect(dialog).ToBeHiddenAsync();
        var types = page.GetByRole(AriaRole.Table, new() { Name = "Event types" });
        var row = types.Locator("tbody tr").Filter(new() { HasText = "order.shipped" });
        await Expect(row).ToContainTextAsync("An order left the warehouse.");
        await Expect(row).ToContainTextAsync("custom");
        var created = await admin.GetFromJsonAsync<JsonObject>($"/api/v1/workspaces/{workspace}/event-types/order.shipped");
        ((string)created!["schema"]!["properties"]!["orderId"]!["type"]!).ShouldBe("string");

        // An edit changes the description (the name stays).
        await row.GetByRole(AriaRole.Button, new() { Name = "Edit order.shipped" }).ClickAsync();
        var edit = page.GetByRole(AriaRole.Dialog, new() { Name = "Edit event type order.shipped" });
        await Expect(edit.GetByLabel("Name")).ToBeDisabledAsync();
        await edit.GetByLabel("Description").FillAsync("An order left the warehouse for the customer.");
        await edit.GetByRole(AriaRole.Button, new() { Name = "Save" }).ClickAsync();
        await Expect(row).ToContainTextAsync("for the customer");

        // A payload the schema refuses is answered at the payload; a good one is sent.
        await page.GetByRole(AriaRole.Button, new() { Name = "Send a test event" }).First.ClickAsync();
        var send = page.GetByRole(AriaRole.Dialog, new() { Name = "Send a test event" });
        await Expect(send.GetByLabel("Type")).ToHaveValueAsync("order.shipped");
        await send.GetByLabel("Payload").FillAsync("{}");
        await send.GetByRole(AriaRole.Button, new() { Name = "Send" }).ClickAsync();
        await Expect(send.GetByLabel("Payload")).ToHaveAttributeAsync("aria-invalid", "true");
        await send.GetByLabel("Payload").FillAsync("""{"orderId": "A-17"}""");
        await send.GetByRole(AriaRole.Button, new() { Name = "Send" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status).Filter(new() { HasText = "Event order.shipped sent; 0 runs started." })).ToBeVisibleAsync();
        var events = await admin.GetFromJsonAsync<JsonObject>($"/api/v1/workspaces/{workspace}/events?type=order.shipped");
        ((string)events!["results"]!.AsArray().Single()!["payload"]!["orderId"]!).ShouldBe("A-17");

        // Deleted after a confirmation: gone from the list and the API.
        await page.GetByRole(AriaRole.Button, new() { Name = "Delete order.shipped" }).ClickAsync();
        await page.GetByRole(AriaRole.Dialog, new() { Name = "Delete event type order.shipped?" }).GetByRole(AriaRole.Button, new() { Name = "Delete" }).ClickAsync();
        await Expect(row).ToHaveCountAsync(0);
        using var gone = await admin.GetAsync($"/api/v1/workspaces/{workspace}/event-types/order.shipped");
        ((int)gone.StatusCode).ShouldBe(404);
    });
}
