using System.Net;
using System.Text.Json.Nodes;
using Cadre.Server.Tests.Runs;
using Cadre.Server.Tests.Workflows;
using Cadre.Storage;
using Cadre.Triggers;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Cadre.Server.Tests.Triggers;

/// <summary>Schedule triggers in one server: ticks fire once each, pause and the bin silence them, the schedule endpoint.</summary>
public sealed class ScheduleTests
{
    [Theory, AllDatabases]
    public async Task Schedule_EverySecond_StartsOneRunPerTickAsTheScheduler(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        var created = DateTime.UtcNow;

        var workflow = await workspace.CreateScheduleAsync();
        var runs = await workspace.WaitForRunsAsync(workflow, r => r.Count >= 3, "three ticks fired");
        await workspace.Owner.SetActiveAsync(workspace, workflow, active: false);

        runs = await workspace.ScheduledRunsAsync(workflow);
        runs.ShouldBeOnePerSecond();
        runs[0].ScheduledAt.ShouldBeGreaterThan(created.AddSeconds(-1));
        runs.ShouldAllBe(r => r.StartedBy == ScheduleWorker.ActorId && !r.Misfired);
        var run = await workspace.GetRunAsync(runs[0].Id);
        ((string)run["trigger"]!["startedBy"]!).ShouldBe(ScheduleWorker.ActorId);
        var trigger = run["context"]!["trigger"]!.AsObject();
        ((string)trigger["scheduledAt"]!).ShouldEndWith("Z");
        ((string)trigger["timeZone"]!).ShouldBe("UTC");
        trigger.ContainsKey("firedAt").ShouldBeTrue();
        var schedule = await (await workspace.Owner.GetAsync(workspace.Schedule(workflow))).ReadObjectAsync();
        ((DateTime)schedule["lastFiredAt"]!).ShouldBe(runs[^1].ScheduledAt);
        ((string)schedule["lastRunId"]!).ShouldBe(runs[^1].Id);
    }

    [Theory, AllDatabases]
    public async Task Deactivate_StopsFiring_ActivateResumesWithoutThePausedTicks(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        var workflow = await workspace.CreateScheduleAsync();
        await workspace.WaitForRunsAsync(workflow, r => r.Count >= 1, "a tick fired");

        await workspace.Owner.SetActiveAsync(workspace, workflow, active: false);
        var paused = DateTime.UtcNow;
        var schedule = await (await workspace.Owner.GetAsync(workspace.Schedule(workflow))).ReadObjectAsync();
        ((bool)schedule["paused"]!).ShouldBeTrue();
        schedule["nextFireAt"].ShouldBeNull();
        await ScheduleApi.PassesAsync(paused.AddSeconds(2.5));
        (await workspace.ScheduledRunsAsync(workflow)).ShouldAllBe(r => r.ScheduledAt <= paused);

        var resumed = DateTime.UtcNow;
        await workspace.Owner.SetActiveAsync(workspace, workflow, active: true);
        var runs = await workspace.WaitForRunsAsync(workflow, r => r.Any(run => run.ScheduledAt > paused), "a tick after resuming");
        await workspace.Owner.SetActiveAsync(workspace, workflow, active: false);

        // The ticks that passed while paused are not misfires: they never fire.
        runs.Where(r => r.ScheduledAt > paused).ShouldAllBe(r => r.ScheduledAt > resumed && !r.Misfired);
    }

    [Theory, AllDatabases]
    public async Task Delete_StopsFiring_RestoreResumes(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        var workflow = await workspace.CreateScheduleAsync();
        var id = (string)(await workspace.GetWorkflowAsync(workflow))["id"]!;
        await workspace.WaitForRunsAsync(workflow, r => r.Count >= 1, "a tick fired");

        await (await workspace.Owner.DeleteAsync(workspace.Workflows($"/{workflow}"))).ShouldBeAsync(HttpStatusCode.OK);
        var deleted = DateTime.UtcNow;
        ((bool)(await (await workspace.Owner.GetAsync(workspace.Schedule(id))).ReadObjectAsync())["paused"]!).ShouldBeTrue();
        await ScheduleApi.PassesAsync(deleted.AddSeconds(2.5));
        (await workspace.ScheduledRunsAsync(id)).ShouldAllBe(r => r.ScheduledAt <= deleted);

        await (await workspace.Owner.PostAsync(workspace.Workflows($"/{id}/restore"), null)).ShouldBeAsync(HttpStatusCode.OK);
        await workspace.WaitForRunsAsync(workflow, r => r.Any(run => run.ScheduledAt > deleted), "a tick after the restore");
        await (await workspace.Owner.DeleteAsync(workspace.Workflows($"/{workflow}?permanent=true"))).ShouldBeAsync(HttpStatusCode.NoContent);
    }

    [Theory, AllDatabases]
    public async Task Update_OfTheStepsOnly_KeepsTheNextTick_ChangingTheCronMovesIt(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        var workflow = await workspace.CreateScheduleAsync("0 0 12 1 1 ? 2099");
        var before = await (await workspace.Owner.GetAsync(workspace.Schedule(workflow))).ReadObjectAsync();
        ((DateTime)before["nextFireAt"]!).ShouldBe(new DateTime(2099, 1, 1, 12, 0, 0, DateTimeKind.Utc));

        await (await workspace.Owner.PatchJsonAsync(workspace.Workflows($"/{workflow}"), new { description = "Still yearly." })).ShouldBeAsync(HttpStatusCode.OK);
        var kept = await (await workspace.Owner.GetAsync(workspace.Schedule(workflow))).ReadObjectAsync();
        ((DateTime)kept["nextFireAt"]!).ShouldBe(new DateTime(2099, 1, 1, 12, 0, 0, DateTimeKind.Utc));

        await (await workspace.Owner.PatchJsonAsync(workspace.Workflows($"/{workflow}"), new { trigger = new { cron = "0 0 12 1 6 ? 2098", timeZone = "Europe/Paris" } })).ShouldBeAsync(HttpStatusCode.OK);
        var moved = await (await workspace.Owner.GetAsync(workspace.Schedule(workflow))).ReadObjectAsync();
        ((DateTime)moved["nextFireAt"]!).ShouldBe(new DateTime(2098, 6, 1, 10, 0, 0, DateTimeKind.Utc));
    }

    [Theory, AllDatabases]
    public async Task GetSchedule_AWeekdayScheduleInParis_ListsTheNextFiveTicksWithTheirLocalOffsetAndJitter(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        var workflow = await workspace.CreateScheduleAsync("0 9 * * 1-5", new
        {
            timeZone = "Europe/Paris", jitter = "10m", startAt = "2090-03-22T00:00", endAt = "2090-12-31T00:00:00Z", misfirePolicy = "run-once",
        }, active: false);

        var response = await workspace.Owner.GetAsync(workspace.Schedule(workflow));

        await response.ShouldBeAsync(HttpStatusCode.OK);
        var schedule = await response.ReadObjectAsync();
        ((string)schedule["cron"]!).ShouldBe("0 9 * * 1-5");
        ((string)schedule["quartzCron"]!).ShouldBe("0 0 9 ? * MON-FRI");
        ((string)schedule["timeZone"]!).ShouldBe("Europe/Paris");
        ((bool)schedule["paused"]!).ShouldBeTrue();
        ((string)schedule["misfirePolicy"]!).ShouldBe("run-once");
        ((string)schedule["jitter"]!).ShouldBe("10m");
        ((DateTime)schedule["startAt"]!).ShouldBe(new DateTime(2090, 3, 21, 23, 0, 0, DateTimeKind.Utc));
        schedule["nextFireAt"].ShouldBeNull();
        schedule["lastFiredAt"].ShouldBeNull();
        var next = schedule["next"]!.AsArray().Select(t => t!.AsObject()).ToList();
        // Wednesday 22 March 2090 onwards (far enough ahead to stay in the future); the clocks go forward on Sunday the 26th.
        next.Select(t => (string)t["at"]!).ShouldBe(["2090-03-22T08:00:00Z", "2090-03-23T08:00:00Z", "2090-03-24T08:00:00Z", "2090-03-27T07:00:00Z", "2090-03-28T07:00:00Z"]);
        next.Select(t => (string)t["local"]!).ShouldBe(["2090-03-22T09:00:00+01:00", "2090-03-23T09:00:00+01:00", "2090-03-24T09:00:00+01:00", "2090-03-27T09:00:00+02:00", "2090-03-28T09:00:00+02:00"]);
        next.ShouldAllBe(t => (DateTime)t["startsAt"]! >= (DateTime)t["at"]! && (DateTime)t["startsAt"]! < ((DateTime)t["at"]!).AddMinutes(10));

        await workspace.Owner.SetActiveAsync(workspace, workflow, active: true);
        var active = await (await workspace.Owner.GetAsync(workspace.Schedule(workflow))).ReadObjectAsync();
        ((bool)active["paused"]!).ShouldBeFalse();
        ((string)active["nextFireAt"]!).ShouldBe("2090-03-22T08:00:00Z");
    }

    [Theory, AllDatabases]
    public async Task GetSchedule_UnhappyPaths_AnswerProblems_AndViewersMayRead(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        var other = await app.CreateWorkspaceAsync();
        var workflow = await workspace.CreateScheduleAsync("0 9 * * *", active: false);
        var manual = await workspace.CreateFlowAsync([new { id = "noop", activity = new { uniqueIdentifier = "transform" }, input = new { } }]);
        using var viewer = app.Client(await workspace.Owner.CreateKeyAsync(workspace.Name, "viewer"));
        using var anonymous = app.Client();

        (await (await workspace.Owner.GetAsync(workspace.Schedule("no-such-flow"))).ShouldBeProblemAsync(HttpStatusCode.NotFound)).Detail!.ShouldContain("not found");
        (await (await workspace.Owner.GetAsync(workspace.Schedule(manual))).ShouldBeProblemAsync(HttpStatusCode.NotFound)).Detail!.ShouldContain("only schedule workflows");
        await (await other.Owner.GetAsync($"/api/v1/workspaces/{other.Name}/workflows/{workflow}/schedule")).ShouldBeProblemAsync(HttpStatusCode.NotFound);
        await (await other.Owner.GetAsync(workspace.Schedule(workflow))).ShouldBeProblemAsync(HttpStatusCode.NotFound);
        await (await anonymous.GetAsync(workspace.Schedule(workflow))).ShouldBeProblemAsync(HttpStatusCode.Unauthorized);
        await (await viewer.GetAsync(workspace.Schedule(workflow))).ShouldBeAsync(HttpStatusCode.OK);
        // Pausing and resuming is the workflow's toggle, which takes an editor.
        await (await viewer.PostAsync(workspace.Workflows($"/{workflow}/activate"), null)).ShouldBeProblemAsync(HttpStatusCode.Forbidden);
    }

    [Theory, AllDatabases]
    public async Task Create_InvalidScheduleSettings_Answer422NamingEachField(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        var body = WorkflowApi.Body("bad-schedule", new
        {
            type = "schedule",
            trigger = new { cron = "0 9 * * *", jitter = "3h", startAt = "soon", endAt = "2026-01-01T00:00:00Z", misfirePolicy = "always" },
        });

        var response = await workspace.Owner.PostAsync(workspace.Workflows(), Api.JsonContent(body));

        var problem = await response.ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity);
        problem.Errors!.Keys.ShouldBe(["trigger.jitter", "trigger.startAt", "trigger.misfirePolicy"], ignoreOrder: true);
    }

    [Theory, AllDatabases]
    public async Task Repair_ARowLostBehindItsWorkflow_IsMadeAgainAndFires(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        var workflow = await workspace.CreateScheduleAsync(active: false);
        var id = (string)(await workspace.GetWorkflowAsync(workflow))["id"]!;
        var contexts = app.Services.GetRequiredService<IDbContextFactory<CadreDbContext>>();
        await using (var context = await contexts.CreateDbContextAsync())
        {
            // As if the row had never been written: a crash, or a database from before schedules fired.
            await context.WorkflowSchedules.Where(s => s.WorkflowId == id).ExecuteDeleteAsync();
            await context.Workflows.Where(w => w.Id == id).ExecuteUpdateAsync(set => set.SetProperty(w => w.IsActive, true));
        }

        await app.Services.GetRequiredService<ScheduleWorker>().RepairAsync(CancellationToken.None);

        await workspace.WaitForRunsAsync(workflow, r => r.Count >= 1, "a tick of the repaired schedule");
        await (await workspace.Owner.DeleteAsync(workspace.Workflows($"/{workflow}?permanent=true"))).ShouldBeAsync(HttpStatusCode.NoContent);
    }
}
