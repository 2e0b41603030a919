using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using Cadre.Analytics;
using Cadre.Server.Tests.Personas;
using Cadre.Server.Tests.Runs;
using Cadre.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Cadre.Server.Tests.Analytics;

/// <summary>
/// Analytics against a direct computation: runs driven through the real engine on a test clock across
/// month ends and a clock change, approved, rejected, halted, resumed and retried at chosen moments,
/// with a price change and a persona edit half-way; the answers for each granularity and several time
/// zones (whole-hour, half-hour and quarter-hour offsets, with and without daylight saving) must equal
/// what the test works out from its own ledger.
/// </summary>
public sealed class AnalyticsTests
{
    private static readonly DateTime Begin = new(2026, 1, 24, 18, 0, 0, DateTimeKind.Utc);

    // Per million tokens: gpt-4o's list price, then the workspace's own.
    private const decimal OldCost = (1000 * 2.50m + 200 * 10m) / 1_000_000m;
    private const decimal NewCost = (1000 * 5m + 200 * 20m) / 1_000_000m;

    private sealed class Ledger
    {
        public required string Id { get; init; }

        public DateTime Started { get; set; }

        public string Status { get; set; } = "waiting";

        public DateTime? Rested { get; set; }

        public List<decimal> Costs { get; } = [];

        public List<DateTime> CallTimes { get; } = [];

        public List<int> PersonaVersions { get; } = [];
    }

    [Theory, AllDatabases]
    public async Task Figures_EqualADirectComputation_ForEachGranularityAndTimeZone(DatabaseKind db)
    {
        var clock = new FakeTimeProvider(Begin);
        var settings = new Dictionary<string, string?>(EngineApps.Settings) { ["Cadre:Retention:Runs"] = "forever", ["Cadre:Retention:Events"] = "forever", 
            // Fewer heartbeats for a clock that jumps days at a time.
            ["Cadre:Node:HeartbeatInterval"] = "00:01:00",
        };
        await using var app = await CadreApp.StartAsync(db, settings, services: s => s.AddSingleton<TimeProvider>(clock));
        await using var model = await FakeModelServer.StartAsync();
        var workspace = await app.CreateWorkspaceAsync();
        var (approver, approverKey) = await workspace.Owner.CreateServiceAccountAsync(workspace.Name, "operator");
        using var approverClient = app.Client(approverKey);
        await (await workspace.Owner.PostJsonAsync($"/api/v1/workspaces/{workspace.Name}/providers", new
        {
            name = "fake", kind = "openai", baseUrl = model.OpenAIEndpoint.ToString(), apiKey = "sk-analytics-0123456789",
        })).ShouldBeAsync(HttpStatusCode.Created);
        var persona = await workspace.CreatePersonaAsync("analyst", new { instructions = "You analyse.", model = new { provider = "fake", model = "gpt-4o" } });
        var flow = await workspace.CreateFlowAsync(
        [
            new { id = "gate", activity = new { uniqueIdentifier = "approval" }, input = new { message = "Go?" }, approval = new { approvers = new[] { approver } } },
            new { id = "ask", activity = new { uniqueIdentifier = "llm" }, dependsOn = new[] { "gate" }, input = new { persona = "analyst", prompt = "Sum it up" } },
        ]);

        // The plan: 26 runs, each started at its moment and settled hours (sometimes a day) later.
        var random = new Random(7);
        var plan = new List<(DateTime At, int Run, string Action)>();
        for (var i = 0; i < 26; i++)
        {
            var start = Begin.AddHours(2 + (i * 40) + random.Next(0, 30)).AddMinutes(random.Next(0, 60));
            var settle = start.AddMinutes(random.Next(5, 30 * 60));
            var action = (i % 6) switch { 3 => "reject", 5 => "halt", _ => "approve" };
            plan.Add((start, i, "start"));
            plan.Add((settle, i, action));
        }

        // Run 5 is halted, then resumed and approved; run 3 is rejected, then retried and approved: each counts once, at its last rest.
        plan.Add((plan.Single(p => p.Run == 5 && p.Action == "halt").At.AddHours(20), 5, "resume"));
        plan.Add((plan.Single(p => p.Run == 5 && p.Action == "halt").At.AddHours(21), 5, "approve"));
        plan.Add((plan.Single(p => p.Run == 3 && p.Action == "reject").At.AddHours(3), 3, "retry"));
        plan.Add((plan.Single(p => p.Run == 3 && p.Action == "reject").At.AddHours(30), 3, "approve"));
        var halfway = Begin.AddDays(22);
        plan.Add((halfway, -1, "reprice"));
        plan.Sort((a, b) => a.At.CompareTo(b.At));

        var runs = new Dictionary<int, Ledger>();
        var approvals = new List<(DateTime At, TimeSpan Waited)>();
        var waitingSince = new Dictionary<int, DateTime>();
        var priced = false;
        var drained = false;
        foreach (var (at, index, action) in plan)
        {
            clock.SetUtcNow(at);
            if (!drained && at > halfway)
            {
                // Half the facts folded into rollups, half left for the query to add.
                await app.Services.GetRequiredService<RollupDrain>().DrainAsync(CancellationToken.None);
                drained = true;
            }

            switch (action)
            {
                case "reprice":
                    await (await workspace.Owner.PutAsync($"/api/v1/workspaces/{workspace.Name}/prices/gpt-4o", Api.JsonContent(new { input = 5m, output = 20m })))
                        .ShouldBeAsync(HttpStatusCode.OK);
                    await (await workspace.Owner.PatchJsonAsync(workspace.Path("/analyst"), new { instructions = "You analyse, briefly." })).ShouldBeAsync(HttpStatusCode.OK);
                    priced = true;
                    break;
                case "start":
                    var started = await workspace.StartAsync(flow, wait: null);
                    runs[index] = new Ledger { Id = (string)started["id"]!, Started = at };
                    await workspace.WaitForRunAsync(runs[index].Id, r => (string)r["status"]! == "waiting");
                    waitingSince[index] = at;
                    break;
                case "approve" or "reject":
                    if (action == "approve")
                    {
                        model.Enqueue(new FakeReply { Text = "Summed up.", InputTokens = 1000, OutputTokens = 200 });
                    }

                    var approval = (await workspace.ListAllAsync($"/api/v1/workspaces/{workspace.Name}/approvals?run={runs[index].Id}&status=pending")).Single();
                    await (await approverClient.PostJsonAsync($"/api/v1/workspaces/{workspace.Name}/approvals/{approval["id"]}/decisions", new { decision = action }))
                        .ShouldBeAsync(HttpStatusCode.OK);
                    approvals.Add((at, at - waitingSince[index]));
                    var settled = await workspace.WaitForRunAsync(runs[index].Id, r => (string)r["status"]! is "succeeded" or "failed");
                    runs[index].Status = (string)settled["status"]!;
                    runs[index].Rested = at;
                    if (action == "approve")
                    {
                        runs[index].Costs.Add(priced ? NewCost : OldCost);
                        runs[index].CallTimes.Add(at);
                        runs[index].PersonaVersions.Add(priced ? 2 : 1);
                    }

                    break;
                case "halt":
                    await (await workspace.Owner.PostAsync(workspace.Runs($"/{runs[index].Id}/halt"), null)).ShouldBeAsync(HttpStatusCode.OK);
                    await workspace.WaitForRunAsync(runs[index].Id, r => (string)r["status"]! == "halted");
                    runs[index].Status = "halted";
                    runs[index].Rested = at;
                    break;
                case "resume":
                    await (await workspace.Owner.PostAsync(workspace.Runs($"/{runs[index].Id}/resume"), null)).ShouldBeAsync(HttpStatusCode.OK);
                    await workspace.WaitForRunAsync(runs[index].Id, r => (string)r["status"]! == "waiting");
                    runs[index].Status = "waiting";
                    runs[index].Rested = null;
                    break;
                case "retry":
                    await (await workspace.Owner.PostAsync(workspace.Runs($"/{runs[index].Id}/retry"), null)).ShouldBeAsync(HttpStatusCode.OK);
                    await workspace.WaitForRunAsync(runs[index].Id, r => (string)r["status"]! == "waiting");
                    runs[index].Status = "waiting";
                    runs[index].Rested = null;
                    waitingSince[index] = at;
                    break;
            }
        }

        // The engine's own accounts agree with the ledger: each call billed at the price in force when it was made.
        foreach (var run in runs.Values)
        {
            ((decimal)(await workspace.GetRunAsync(run.Id))["usage"]!["costUsd"]!).ShouldBe(run.Costs.Sum(), run.Id);
        }

        var now = clock.GetUtcNow().UtcDateTime;
        foreach (var zoneId in new[] { "UTC", "America/New_York", "Asia/Kolkata", "Asia/Kathmandu", "Australia/Lord_Howe" })
        {
            foreach (var granularity in new[] { "daily", "weekly", "monthly" })
            {
                var answer = await workspace.GetAnalyticsAsync($"/workflows/{flow}/analytics?days=60&granularity={granularity}&timeZone={Uri.EscapeDataString(zoneId)}");
                Check(answer, runs.Values, approvals, TimeZoneInfo.FindSystemTimeZoneById(zoneId), granularity, now, $"{zoneId} {granularity}");
            }
        }

        // Everything folded now: the same answers from rollups alone.
        await app.Services.GetRequiredService<RollupDrain>().DrainAsync(CancellationToken.None);
        var folded = await workspace.GetAnalyticsAsync($"/workflows/{flow}/analytics?days=60&granularity=weekly&timeZone=Asia%2FKathmandu");
        Check(folded, runs.Values, approvals, TimeZoneInfo.FindSystemTimeZoneById("Asia/Kathmandu"), "weekly", now, "folded");

        var breakdown = (await workspace.GetAnalyticsAsync($"/workflows/{flow}/analytics?days=60"))["breakdown"]!;
        var calls = runs.Values.SelectMany(r => r.Costs).ToList();
        var byModel = breakdown["byModel"]!.AsArray().ShouldHaveSingleItem()!;
        ((string)byModel["key"]!).ShouldBe("gpt-4o");
        ((decimal)byModel["costUsd"]!).ShouldBe(calls.Sum());
        ((long)byModel["modelCalls"]!).ShouldBe(calls.Count);
        var byPersona = breakdown["byPersona"]!.AsArray().ShouldHaveSingleItem()!;
        ((string)byPersona["key"]!).ShouldBe((string)persona["id"]!);
        ((string)byPersona["name"]!).ShouldBe("analyst");
        ((long)byPersona["runs"]!).ShouldBe(runs.Values.Count(r => r.Rested is not null && r.CallTimes.Count > 0));
        ((decimal)breakdown["byStep"]!.AsArray().ShouldHaveSingleItem()!["costUsd"]!).ShouldBe(calls.Sum());
        var byVersion = breakdown["byVersion"]!.AsArray().Select(v => ((string)v!["key"]!, (decimal)v["costUsd"]!)).OrderBy(v => v.Item1, StringComparer.Ordinal).ToList();
        byVersion.ShouldBe([($"{persona["id"]}@1", calls.Count(c => c == OldCost) * OldCost), ($"{persona["id"]}@2", calls.Count(c => c == NewCost) * NewCost)]);

        // The persona's and the workspace's views hold the same money.
        var personaView = await workspace.GetAnalyticsAsync("/personas/analyst/analytics?days=60");
        ((decimal)personaView["kpis"]!["costUsd"]!).ShouldBe(calls.Sum());
        personaView["breakdown"]!["byVersion"]!.AsArray().Select(v => (string)v!["key"]!).Order(StringComparer.Ordinal).ShouldBe(["1", "2"]);
        var workspaceView = await workspace.GetAnalyticsAsync("/analytics?days=60");
        ((decimal)workspaceView["kpis"]!["costUsd"]!).ShouldBe(calls.Sum());
        ((string)workspaceView["top"]!["byCost"]![0]!["key"]!).ShouldBe(flow.StartsWith("wf_", StringComparison.Ordinal) ? flow : (string)workspaceView["top"]!["byCost"]![0]!["key"]!);
        ((string)workspaceView["top"]!["byCost"]![0]!["name"]!).ShouldNotBeNull();

        // The edit that reached the workflow's runs, with how each version did.
        var related = await workspace.GetAnalyticsAsync($"/workflows/{flow}/related");
        var change = related["versionChanges"]!.AsArray().ShouldHaveSingleItem()!;
        ((int)change["fromVersion"]!).ShouldBe(1);
        ((int)change["toVersion"]!).ShouldBe(2);
        ((decimal)change["after"]!["costUsd"]!).ShouldBe(calls.Count(c => c == NewCost) * NewCost);
        var relatedPersona = related["personas"]!.AsArray().ShouldHaveSingleItem()!;
        ((bool)relatedPersona["named"]!).ShouldBeTrue();
        ((int)relatedPersona["currentVersion"]!).ShouldBe(2);
        relatedPersona["versions"]!.AsArray().Select(v => (int)v!["version"]!).ShouldBe([1, 2]);
    }

    private static void Check(JsonObject answer, IEnumerable<Ledger> runs, List<(DateTime At, TimeSpan Waited)> approvals, TimeZoneInfo zone, string granularity, DateTime now, string what)
    {
        var today = DateOnly.FromDateTime(TimeZoneInfo.ConvertTimeFromUtc(now, zone));
        var first = today.AddDays(-59);
        DateOnly? Label(DateTime utc)
        {
            var day = DateOnly.FromDateTime(TimeZoneInfo.ConvertTimeFromUtc(utc, zone));
            if (day < first || day > today)
            {
                return null;
            }

            var start = granularity switch
            {
                "daily" => day,
                "weekly" => day.AddDays(-(((int)day.DayOfWeek + 6) % 7)),
                _ => new DateOnly(day.Year, day.Month, 1),
            };
            return start < first ? first : start;
        }

        var rested = runs.Where(r => r.Rested is not null && Label(r.Rested.Value) is not null).ToList();
        var series = answer["series"]!.AsArray();
        var labels = series.Select(p => DateOnly.ParseExact((string)p!["date"]!, "yyyy-MM-dd", CultureInfo.InvariantCulture)).ToList();
        labels[0].ShouldBe(first, what);
        labels.ShouldBeInOrder(SortDirection.Ascending, what);
        var expectedLabels = Enumerable.Range(0, 60).Select(d => Label(TimeZoneInfo.ConvertTimeToUtc(first.AddDays(d).ToDateTime(new TimeOnly(12, 0)), zone))!.Value).Distinct().ToList();
        labels.ShouldBe(expectedLabels, what);
        foreach (var point in series)
        {
            var label = DateOnly.ParseExact((string)point!["date"]!, "yyyy-MM-dd", CultureInfo.InvariantCulture);
            var inPeriod = rested.Where(r => Label(r.Rested!.Value) == label).ToList();
            var period = $"{what} {label}";
            ((long)point["runs"]!).ShouldBe(inPeriod.Count, period);
            ((long)point["succeeded"]!).ShouldBe(inPeriod.Count(r => r.Status == "succeeded"), period);
            ((long)point["failed"]!).ShouldBe(inPeriod.Count(r => r.Status == "failed"), period);
            ((long)point["halted"]!).ShouldBe(inPeriod.Count(r => r.Status == "halted"), period);
            var ended = inPeriod.Count(r => r.Status != "halted");
            ((double?)point["successRate"]).ShouldBe(ended == 0 ? null : (double)inPeriod.Count(r => r.Status == "succeeded") / ended, period);
            var cost = runs.SelectMany(r => r.CallTimes.Zip(r.Costs)).Where(c => Label(c.First) == label).Sum(c => c.Second);
            ((decimal)point["costUsd"]!).ShouldBe(cost, period);
            ((long)point["inputTokens"]!).ShouldBe(runs.SelectMany(r => r.CallTimes).Count(t => Label(t) == label) * 1000L, period);
            ((long)point["approvals"]!).ShouldBe(approvals.Count(a => Label(a.At) == label), period);
        }

        var kpis = answer["kpis"]!;
        ((long)kpis["runs"]!).ShouldBe(rested.Count, what);
        ((long)kpis["succeeded"]!).ShouldBe(rested.Count(r => r.Status == "succeeded"), what);
        ((decimal)kpis["costUsd"]!).ShouldBe(runs.SelectMany(r => r.Costs).Sum(), what);
        ((long)kpis["outputTokens"]!).ShouldBe(runs.Sum(r => r.CallTimes.Count) * 200L, what);
        ((long)kpis["approvals"]!).ShouldBe(approvals.Count, what);
        ((double)kpis["approvalWaitSeconds"]!).ShouldBe(approvals.Sum(a => a.Waited.TotalSeconds), 0.001, what);
        var durations = rested.Select(r => (long)(r.Rested!.Value - r.Started).TotalMilliseconds).Order().ToList();
        foreach (var (quantile, field) in new[] { (0.5, "p50DurationSeconds"), (0.95, "p95DurationSeconds") })
        {
            var exact = durations[(int)Math.Floor(quantile * (durations.Count - 1))] / 1000.0;
            ((double)kpis[field]!).ShouldBe(exact, exact * 0.0101, $"{what} {field}");
        }

        ((decimal)kpis["averageCostUsd"]!).ShouldBe(decimal.Round(runs.SelectMany(r => r.Costs).Sum() / rested.Count, 9), what);
    }
}
