using System.Net;
using System.Text.Json.Nodes;
using Cadre.Analytics;
using Cadre.Server.Tests.Personas;
using Cadre.Server.Tests.Retention;
using Cadre.Server.Tests.Runs;
using Cadre.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Cadre.Server.Tests.Analytics;

/// <summary>The analytics endpoints' edges: bad queries, roles, other workspaces, the workspace's time zone, retention, purges and two drains at once.</summary>
public sealed class AnalyticsEndpointTests
{
    private static object Transform(string id = "only") => new { id, activity = new { uniqueIdentifier = "transform" }, input = new { ok = true } };

    private static async Task<int> RollupRowsAsync(CadreApp app, string scopeId)
    {
        await using var scope = app.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<CadreDbContext>().AnalyticsRollups.CountAsync(r => r.ScopeId == scopeId);
    }

    [Theory, AllDatabases]
    public async Task Related_CountsARunThatJustEnded_BeforeAndAfterItsFactsAreFolded(DatabaseKind db)
    {
        var app = await EngineApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        await workspace.CreatePersonaAsync("summariser", new { instructions = "You sum up.", model = new { provider = "mock", model = "reply:done" } });
        var flow = await workspace.CreateFlowAsync([new { id = "ask", activity = new { uniqueIdentifier = "llm" }, input = new { persona = "summariser", prompt = "Sum it up" } }]);

        // Asked at once, the run's facts are almost always still waiting for the drain's next pass (every 2 s).
        ((string)(await workspace.StartAsync(flow))["status"]!).ShouldBe("succeeded");
        var unfolded = await workspace.GetAnalyticsAsync($"/workflows/{flow}/related");
        await app.Services.GetRequiredService<RollupDrain>().DrainAsync(CancellationToken.None);
        var folded = await workspace.GetAnalyticsAsync($"/workflows/{flow}/related");

        foreach (var answer in new[] { unfolded, folded })
        {
            var version = answer["personas"]!.AsArray().ShouldHaveSingleItem()!["versions"]!.AsArray().ShouldHaveSingleItem()!;
            ((int)version["version"]!).ShouldBe(1);
            ((long)version["runs"]!).ShouldBe(1);
            ((long)version["succeeded"]!).ShouldBe(1);
            ((long)version["modelCalls"]!).ShouldBe(1);
            version["firstSeen"].ShouldNotBeNull();
        }

        unfolded["personas"]!.ToJsonString().ShouldBe(folded["personas"]!.ToJsonString());
    }

    [Theory, AllDatabases]
    public async Task BadQueries_Answer400NamingEachParameter_AndUnknownResources404(DatabaseKind db)
    {
        var app = await EngineApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        var flow = await workspace.CreateFlowAsync([Transform()]);

        var bad = await workspace.Owner.GetAsync(workspace.Analytics($"/workflows/{flow}/analytics?days=0&granularity=hourly&timeZone=Mars%2FOlympus"));
        (await bad.ShouldBeProblemAsync(HttpStatusCode.BadRequest)).Errors!.Keys.ShouldBe(["days", "granularity", "timeZone"], ignoreOrder: true);
        (await (await workspace.Owner.GetAsync(workspace.Analytics("/analytics?days=367"))).ShouldBeProblemAsync(HttpStatusCode.BadRequest)).Errors!.Keys.ShouldBe(["days"]);
        (await workspace.Owner.GetAsync(workspace.Analytics("/analytics?days=many"))).StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        await (await workspace.Owner.GetAsync(workspace.Analytics("/workflows/nope/analytics"))).ShouldBeProblemAsync(HttpStatusCode.NotFound);
        await (await workspace.Owner.GetAsync(workspace.Analytics("/personas/nope/analytics"))).ShouldBeProblemAsync(HttpStatusCode.NotFound);
        await (await workspace.Owner.GetAsync(workspace.Analytics("/workflows/nope/related"))).ShouldBeProblemAsync(HttpStatusCode.NotFound);
    }

    [Theory, AllDatabases]
    public async Task Viewers_Read_OthersGet401Or404(DatabaseKind db)
    {
        var app = await EngineApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        var other = await app.CreateWorkspaceAsync();
        var flow = await workspace.CreateFlowAsync([Transform()]);
        await workspace.StartAsync(flow);
        using var viewer = app.Client(await workspace.Owner.CreateKeyAsync(workspace.Name, "viewer"));
        using var anonymous = app.Client();

        var answer = await (await viewer.GetAsync(workspace.Analytics($"/workflows/{flow}/analytics?days=1"))).ReadObjectAsync();
        ((long)answer["kpis"]!["runs"]!).ShouldBe(1);
        ((long)answer["kpis"]!["succeeded"]!).ShouldBe(1);
        ((double)answer["kpis"]!["successRate"]!).ShouldBe(1);
        answer["series"]!.AsArray().Count.ShouldBe(1);
        await (await viewer.GetAsync(workspace.Analytics($"/workflows/{flow}/related"))).ShouldBeAsync(HttpStatusCode.OK);
        (await anonymous.GetAsync(workspace.Analytics("/analytics"))).StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        await (await other.Owner.GetAsync(other.Analytics($"/workflows/{flow}/analytics"))).ShouldBeProblemAsync(HttpStatusCode.NotFound);
        await (await other.Owner.GetAsync(other.Analytics($"/workflows/{flow}/related"))).ShouldBeProblemAsync(HttpStatusCode.NotFound);
        await (await other.Owner.GetAsync(workspace.Analytics("/analytics"))).ShouldBeProblemAsync(HttpStatusCode.NotFound);
    }

    [Theory, AllDatabases]
    public async Task WorkspaceTimeZone_IsTheDefault_AndABadOneIsRefused(DatabaseKind db)
    {
        var app = await EngineApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        var path = $"/api/v1/workspaces/{workspace.Name}";

        var refused = await workspace.Owner.PatchJsonAsync(path, new { settings = new { timeZone = "Europe/Atlantis" } });
        (await refused.ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity)).Errors!.Keys.ShouldBe(["settings.timeZone"]);
        await (await workspace.Owner.PatchJsonAsync(path, new { settings = new { timeZone = "Asia/Kathmandu" } })).ShouldBeAsync(HttpStatusCode.OK);

        var answer = await workspace.GetAnalyticsAsync("/analytics?days=3");
        ((string)answer["window"]!["timeZone"]!).ShouldBe("Asia/Kathmandu");
        // Kathmandu is 5:45 ahead of UTC: its days start at 18:15 UTC.
        ((DateTime)answer["window"]!["from"]!).ToUniversalTime().TimeOfDay.ShouldBe(new TimeSpan(18, 15, 0));
        ((string)(await workspace.GetAnalyticsAsync("/analytics?days=3&timeZone=UTC"))["window"]!["timeZone"]!).ShouldBe("UTC");
    }

    [Theory, AllDatabases]
    public async Task RunsRetentionDeleted_StillCount_AndAPurgedWorkflowLeavesTheWorkspacesFigures(DatabaseKind db)
    {
        var app = await EngineApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        await (await workspace.Owner.PatchJsonAsync($"/api/v1/workspaces/{workspace.Name}", new { settings = new { retention = new { runs = "1h" } } })).ShouldBeAsync(HttpStatusCode.OK);
        var flow = await workspace.CreateFlowAsync([Transform()]);
        var runs = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            runs.Add((string)(await workspace.StartAsync(flow))["id"]!);
        }

        await app.EndedAgoAsync(TimeSpan.FromDays(2), [.. runs]);
        await app.SweepAsync();
        foreach (var run in runs)
        {
            (await workspace.RunStatusCodeAsync(run)).ShouldBe(HttpStatusCode.NotFound);
        }

        ((long)(await workspace.GetAnalyticsAsync($"/workflows/{flow}/analytics?days=1"))["kpis"]!["runs"]!).ShouldBe(3);
        await app.Services.GetRequiredService<RollupDrain>().DrainAsync(CancellationToken.None);
        ((long)(await workspace.GetAnalyticsAsync($"/workflows/{flow}/analytics?days=1"))["kpis"]!["runs"]!).ShouldBe(3);
        var workflowId = (string)(await workspace.GetAnalyticsAsync($"/workflows/{flow}/analytics"))["id"]!;
        (await RollupRowsAsync(app, workflowId)).ShouldBeGreaterThan(0);

        await (await workspace.Owner.DeleteAsync($"/api/v1/workspaces/{workspace.Name}/workflows/{flow}?permanent=true")).ShouldBeAsync(HttpStatusCode.NoContent);

        (await RollupRowsAsync(app, workflowId)).ShouldBe(0);
        var remaining = await workspace.GetAnalyticsAsync("/analytics?days=1");
        ((long)remaining["kpis"]!["runs"]!).ShouldBe(3);
        var slice = remaining["breakdown"]!["byWorkflow"]!.AsArray().ShouldHaveSingleItem()!;
        ((string)slice["key"]!).ShouldBe(workflowId);
        slice["name"].ShouldBeNull();
    }

    [PostgresFact]
    public async Task TwoDrainsAtOnce_FoldEachFactOnce()
    {
        await using var first = await CadreApp.StartAsync(DatabaseKind.Postgres, EngineApps.Settings);
        await using var second = await CadreApp.StartAsync(DatabaseKind.Postgres, EngineApps.Settings, databaseSetting: first.DatabaseSetting);
        var workspace = await first.CreateWorkspaceAsync();
        var flow = await workspace.CreateFlowAsync([Transform()]);
        var run = await workspace.StartAsync(flow);
        var workflowId = (string)(await workspace.GetAnalyticsAsync($"/workflows/{flow}/analytics"))["id"]!;
        await using (var scope = first.Services.CreateAsyncScope())
        {
            // Five thousand more outcomes of that run in the last quarter hour, as if five thousand runs had ended.
            var db = scope.ServiceProvider.GetRequiredService<CadreDbContext>();
            await db.Database.ExecuteSqlAsync($"""
                INSERT INTO analytics_facts (workspace_id, workflow_id, run_id, kind, at, sign, status, duration_ms, input_tokens, output_tokens, cached_input_tokens, cost_nanos)
                SELECT {workspace.Id}, {workflowId}, {(string)run["id"]!}, 'run', now() - (n % 60) * interval '1 second', 1, CASE WHEN n % 4 = 0 THEN 'failed' ELSE 'succeeded' END, n, 0, 0, 0, 0
                FROM generate_series(1, 5000) AS n
                """);
        }

        await Task.WhenAll(
            first.Services.GetRequiredService<RollupDrain>().DrainAsync(CancellationToken.None),
            second.Services.GetRequiredService<RollupDrain>().DrainAsync(CancellationToken.None),
            first.Services.GetRequiredService<RollupDrain>().DrainAsync(CancellationToken.None));
        // A drain that finds every fact left locked by another (SKIP LOCKED) stops, so a batch rolled back on a lost
        // race may wait for the next pass, as it would in production: that pass, then the sums.
        await second.Services.GetRequiredService<RollupDrain>().DrainAsync(CancellationToken.None);

        await using (var scope = first.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<CadreDbContext>();
            (await db.AnalyticsFacts.CountAsync()).ShouldBe(0);
            var totals = await db.AnalyticsRollups.Where(r => r.ScopeId == workflowId && r.Dim == "total").ToListAsync();
            totals.Sum(r => r.Succeeded).ShouldBe(3751);
            totals.Sum(r => r.Failed).ShouldBe(1250);
            totals.Sum(r => DurationSketch.Parse(r.Durations).Count).ShouldBe(5001);
        }

        var kpis = (await workspace.GetAnalyticsAsync($"/workflows/{flow}/analytics?days=1"))["kpis"]!;
        ((long)kpis["runs"]!).ShouldBe(5001);
    }
}
