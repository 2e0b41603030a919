using System.Globalization;
using System.Text.Json;
using Cadre.E2E.Infrastructure;
using Microsoft.Playwright;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace Cadre.E2E;

/// <summary>
/// Measures, with the browser's Performance API, how long the workflows list takes to show 100 rows once their
/// data has arrived (the UI's <c>cadre:workflows:render</c> measure), against a baseline measured in the same page:
/// the same rows' text as a bare DOM table, timed the same way (to the next animation frame). It reports the figures
/// (test output and tests/e2e/TestResults/list-render.json, copied into docs/benchmarks.md) and asserts only that
/// they exist: timings belong to the benchmark report, not to pass or fail.
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

        // The baseline: the rows' text as a plain table built with DOM calls, no React, no styles of its own.
        var baseline = await page.EvaluateAsync<double[]>($$"""
            async () => {
              const rows = [...document.querySelectorAll('table tbody tr')].map(tr => [...tr.cells].map(td => td.textContent));
              const host = document.createElement('div');
              document.body.appendChild(host);
              const times = [];
              for (let load = 0; load < {{Loads}}; load++) {
                host.textContent = '';
                const start = performance.now();
                const body = document.createElement('table').createTBody();
                for (const row of rows) { const tr = body.insertRow(); for (const text of row) tr.insertCell().textContent = text; }
                host.appendChild(body.parentElement);
                await new Promise(resolve => requestAnimationFrame(resolve));
                times.push(performance.now() - start);
              }
              host.remove();
              return times;
            }
            """);

        durations.Count.ShouldBe(Loads);
        baseline.Length.ShouldBe(Loads);
        durations.ShouldAllBe(d => d > 0);
        var sorted = durations.Order().ToList();
        var baselineMedian = baseline.Order().ElementAt(Loads / 2);
        var report = new
        {
            rows = 100,
            loads = Loads,
            medianMs = Math.Round(sorted[Loads / 2], 1),
            maxMs = Math.Round(sorted[^1], 1),
            allMs = durations.Select(d => Math.Round(d, 1)),
            baselineMedianMs = Math.Round(baselineMedian, 1),
            ratio = Math.Round(sorted[Loads / 2] / Math.Max(baselineMedian, 0.1), 1),
            browser = cadre.Browser.Version,
        };
        var json = JsonSerializer.Serialize(report, Indented);
        output.WriteLine(json);
        var directory = Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "TestResults");
        Directory.CreateDirectory(directory);
        await File.WriteAllTextAsync(Path.Combine(directory, "list-render.json"), json);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Workflows list, 100 rows: median {report.medianMs} ms, max {report.maxMs} ms after the data arrived; a bare DOM table {report.baselineMedianMs} ms (×{report.ratio})."));
    });
}
