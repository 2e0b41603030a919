using System.Text.RegularExpressions;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Cadre.E2E.Infrastructure;

/// <summary>What several browser tests do the same way on the same pages.</summary>
internal static partial class PageActions
{
    /// <summary>Adds a step in the builder through its "Add step" dialog and waits for the step's panel.</summary>
    public static async Task AddStepAsync(IPage page, string activity, string id)
    {
        await page.GetByRole(AriaRole.Button, new() { Name = "Add step" }).ClickAsync();
        var dialog = page.GetByRole(AriaRole.Dialog, new() { Name = "Add a step" });
        await dialog.GetByLabel("Activity").SelectOptionAsync(activity);
        await dialog.GetByLabel("Step ID").FillAsync(id);
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Add", Exact = true }).ClickAsync();
        await Expect(dialog).ToBeHiddenAsync();
        await Expect(page.GetByRole(AriaRole.Complementary, new() { Name = $"Step {id}" })).ToBeVisibleAsync();
    }

    /// <summary>
    /// Reads a new API key from the dialog that shows it once, after checking that it says so and offers a copy;
    /// answers the key.
    /// </summary>
    public static async Task<string> ReadKeyShownOnceAsync(ILocator dialog, string keyName)
    {
        await Expect(dialog.GetByRole(AriaRole.Heading, new() { Name = "Your new API key" })).ToBeVisibleAsync();
        await Expect(dialog).ToContainTextAsync("This is the only time Cadre shows this key");
        var secret = dialog.GetByLabel($"API key {keyName}");
        await Expect(secret).ToHaveValueAsync(KeyShape());
        await Expect(dialog.GetByRole(AriaRole.Button, new() { Name = "Copy" })).ToBeVisibleAsync();
        return await secret.InputValueAsync();
    }

    [GeneratedRegex("^cadre_")]
    private static partial Regex KeyShape();
}
