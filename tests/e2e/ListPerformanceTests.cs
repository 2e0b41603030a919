using System.Globalization;
using System.Text.Json;
using Cadre.E2E.Infrastructure;
using Microsoft.Playwright;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace Cadre.E2E;

/// <summary>
/// Measures, with the browser's Performance API, how long the workflows list takes to show 100 rows once their
/// data has arrived (the UI's <c>cadre:workflows:render</c> measure). It reports the figures (test output and
/// tests/e2e/TestResults/list-render.json, copied into docs/benchmarks.md) and asserts only that they exist:
/// timings belong to the benchmark report, not to pass or fail.
/// </summary>
public sealed class ListPerformanceTests(InstanceWithOwner cadre, ITestOutputHelper output) : IClassFixture<InstanceWithOwner>
{
    private const int Loads = 7;

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    [BrowserFact]
    public Task WorkflowsList_HundredRows_RenderTimeIsMeasured() => cadre.InPageAsync(async page =>
    {
        var workspace = await cadre.CreateWorkspaceAsync("hundred", "Hundred");
        for (var i = 1; i <= 100; i++)
        {
            await cadre.CreateWorkflowAsync(workspace, $"flow-{i:000}", $"Workflow number {i}, with a description as long as real ones tend to be");
        }

        await InstanceWithOwner.SignInAsync(page, "/w/hundred/workflows?size=100");
        var rows = page.GetByRole(AriaRole.Table).Locator("tbody tr");
        var durations = new List<double>();
        for (var load = 0; load < Loads; load++)
        {
            if (load > 0)
            {
                await page.ReloadAsync();
            }

            await Expect(rows).ToHaveCountAsync(100);
            var measured = await page.WaitForFunctionAsync("() => performance.getEntriesByName('cadre:workflows:render', 'measure').at(-1)?.duration ?? null");
            durations.Add(await measured.JsonValueAsync<double>());
        }

        durations.Count.ShouldBe(Loads);
        durations.ShouldAllBe(d => d > 0);
        var sorted = durations.Order().ToList();
        var report = new
        {
            rows = 100,
            loads = Loads,
            medianMs = Math.Round(sorted[Loads / 2], 1),
            maxMs = Math.Round(sorted[^1], 1),
            allMs = durations.Select(d => Math.Round(d, 1)),
            browser = cadre.Browser.Version,
        };
        var json = JsonSerializer.Serialize(report, Indented);
        output.WriteLine(json);
        var directory = Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "TestResults");
        Directory.CreateDirectory(directory);
        await File.WriteAllTextAsync(Path.Combine(directory, "list-render.json"), json);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Workflows list, 100 rows: median {report.medianMs} ms, max {report.maxMs} ms after the data arrived."));
    });
}
