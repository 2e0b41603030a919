using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using Cadre.Server.Tests.Runs;
using Cadre.Server.Tests.Workflows;

namespace Cadre.Server.Tests.Triggers;

/// <summary>A run a schedule started, as its output tells it (the schedule tests' workflows echo their trigger).</summary>
internal sealed record ScheduledRun(string Id, DateTime ScheduledAt, bool Misfired, string StartedBy);

/// <summary>Helpers for the schedule tests.</summary>
internal static class ScheduleApi
{
    public const string EverySecond = "* * * * * ?";

    /// <summary>Creates an active schedule workflow whose one pure step echoes the tick; answers its name.</summary>
    public static Task<string> CreateScheduleAsync(this TestWorkspace workspace, string cron = EverySecond, object? trigger = null, bool active = true)
    {
        var triggerBody = JsonNode.Parse(Api.Serialize(trigger ?? new { }))!.AsObject();
        triggerBody["cron"] = cron;
        return workspace.CreateFlowAsync(
            [new { id = "tick", activity = new { uniqueIdentifier = "transform" }, input = new { at = "{{ context.trigger.scheduledAt }}", misfired = "{{ context.trigger.misfired ?? false }}", by = "{{ context.trigger.startedBy }}" } }],
            new { type = "schedule", trigger = triggerBody, isActive = active });
    }

    public static string Schedule(this TestWorkspace workspace, string workflow) => workspace.Workflows($"/{workflow}/schedule");

    /// <summary>The workflow's runs, oldest tick first.</summary>
    public static async Task<List<ScheduledRun>> ScheduledRunsAsync(this TestWorkspace workspace, string workflow)
    {
        var runs = await workspace.ListAllAsync(workspace.Runs($"?workflow={workflow}"));
        return [.. runs.Select(run =>
        {
            ((string)run["trigger"]!["type"]!).ShouldBe("schedule");
            var output = run["output"]!.AsObject();
            return new ScheduledRun(
                (string)run["id"]!,
                DateTime.Parse((string)output["at"]!, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal),
                (bool)output["misfired"]!,
                (string)output["by"]!);
        }).OrderBy(r => r.ScheduledAt)];
    }

    /// <summary>Polls the workflow's runs until <paramref name="done"/> holds, failing after a deadline.</summary>
    public static async Task<List<ScheduledRun>> WaitForRunsAsync(this TestWorkspace workspace, string workflow, Func<List<ScheduledRun>, bool> done, string what, int seconds = 30)
    {
        List<ScheduledRun> runs = [];
        try
        {
            await Eventually.HoldsAsync(async () => done(runs = await workspace.ScheduledRunsAsync(workflow)), what, seconds);
        }
        catch (TimeoutException ex)
        {
            throw new TimeoutException($"{ex.Message} Runs: {string.Join(", ", runs.Select(r => r.ScheduledAt.ToString("HH:mm:ss", CultureInfo.InvariantCulture)))}", ex);
        }

        return runs;
    }

    /// <summary>Waits (polling the clock) until <paramref name="instant"/> has passed: ticks that must not fire get their chance to.</summary>
    public static Task PassesAsync(DateTime instant) =>
        Eventually.HoldsAsync(() => DateTime.UtcNow > instant, $"the clock passes {instant:HH:mm:ss.fff}", seconds: (int)Math.Max(5, (instant - DateTime.UtcNow).TotalSeconds + 5));

    public static async Task SetActiveAsync(this HttpClient client, TestWorkspace workspace, string workflow, bool active) =>
        await (await client.PostAsync(workspace.Workflows($"/{workflow}/{(active ? "activate" : "deactivate")}"), null)).ShouldBeAsync(HttpStatusCode.OK);

    /// <summary>Asserts every tick from the first to the last run has exactly one run, one second apart.</summary>
    public static void ShouldBeOnePerSecond(this List<ScheduledRun> runs)
    {
        runs.GroupBy(r => r.ScheduledAt).Where(g => g.Count() > 1).Select(g => g.Key).ShouldBeEmpty("ticks with more than one run");
        for (var i = 1; i < runs.Count; i++)
        {
            (runs[i].ScheduledAt - runs[i - 1].ScheduledAt).ShouldBe(TimeSpan.FromSeconds(1), $"the gap after {runs[i - 1].ScheduledAt:HH:mm:ss}");
        }
    }
}
