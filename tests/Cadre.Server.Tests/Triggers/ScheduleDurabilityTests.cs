using System.Net;
using Cadre.Storage;

namespace Cadre.Server.Tests.Triggers;

/// <summary>
/// Once per tick across restarts, crashes and nodes: schedules fired by real server processes, two of
/// them on one PostgreSQL database, killed and restarted, and stopped across ticks for the misfire policies.
/// </summary>
public sealed class ScheduleDurabilityTests
{
    [Theory, AllDatabases("skip"), AllDatabases("run-once")]
    public async Task Restart_AfterTicksWereMissedByMoreThanTheThreshold_FollowsTheMisfirePolicy(DatabaseKind db, string policy)
    {
        var settings = new Dictionary<string, string?> { ["Cadre:Schedules:MisfireThreshold"] = "00:00:02", ["Cadre:Engine:LeaseDuration"] = "00:00:02" };
        var first = await CadreApp.StartAsync(db, settings);
        var workspace = await first.CreateWorkspaceAsync();
        var workflow = await workspace.CreateScheduleAsync(trigger: new { misfirePolicy = policy });
        await workspace.WaitForRunsAsync(workflow, r => r.Count >= 2, "two ticks before the stop");

        await first.DisposeAsync();
        var stopped = DateTime.UtcNow;
        // Several ticks pass while nothing runs, the oldest more than the threshold ago by the restart.
        await ScheduleApi.PassesAsync(stopped.AddSeconds(5));
        var restarted = DateTime.UtcNow;
        await using var second = await CadreApp.StartAsync(db, settings, databaseSetting: first.DatabaseSetting, dataDir: first.DataDir, adminKey: first.AdminKey);
        var again = workspace with { Owner = second.Client(workspace.OwnerKey) };
        await again.WaitForRunsAsync(workflow, r => r.Any(run => run.ScheduledAt > restarted.AddSeconds(1) && !run.Misfired), "a tick on time after the restart");
        await again.Owner.SetActiveAsync(again, workflow, active: false);

        var runs = await again.ScheduledRunsAsync(workflow);
        var lastBeforeStop = runs.Where(r => r.ScheduledAt <= stopped).Max(r => r.ScheduledAt);
        var afterStop = runs.Where(r => r.ScheduledAt > lastBeforeStop).ToList();
        // No run for the ticks of the downtime themselves: at most the one of the second the restart began in.
        var restartSecond = restarted.AddTicks(-(restarted.Ticks % TimeSpan.TicksPerSecond));
        afterStop.ShouldAllBe(r => r.ScheduledAt >= restartSecond);
        if (policy == "skip")
        {
            afterStop.ShouldAllBe(r => !r.Misfired);
        }
        else
        {
            // One run for the latest missed tick (the last before the restarted scheduler looked), then the schedule goes on.
            afterStop.Count(r => r.Misfired).ShouldBe(1);
            afterStop[0].Misfired.ShouldBeTrue();
        }

        afterStop.ShouldBeOnePerSecond();
    }

    [Theory, AllDatabases]
    public async Task KilledAndRestarted_FiresEachTickOnce_AndCatchesUpTheTicksMissedMeanwhile(DatabaseKind db)
    {
        var (environment, adminKey) = await EnvironmentAsync(db);
        var directory = TestDirectories.Create("schedule");
        var first = ServerProcess.Start(directory, environment);
        TestWorkspace workspace;
        string workflow;
        DateTime killed;
        try
        {
            await first.WaitUntilListeningAsync();
            workspace = await CreateWorkspaceAsync(first, adminKey);
            workflow = await workspace.CreateScheduleAsync();
            await workspace.WaitForRunsAsync(workflow, r => r.Count >= 3, "three ticks before the kill");
            await first.KillAsync();
            killed = DateTime.UtcNow;
        }
        finally
        {
            await first.DisposeAsync();
        }

        // Ticks pass while no server runs: fewer than the misfire threshold (1 minute), so they are caught up.
        await ScheduleApi.PassesAsync(killed.AddSeconds(3));
        await using var second = ServerProcess.Start(directory, environment);
        await second.WaitUntilListeningAsync();
        var again = workspace with { Owner = second.Client(workspace.OwnerKey) };
        await again.WaitForRunsAsync(workflow, r => r.Any(run => run.ScheduledAt > killed.AddSeconds(4)), "ticks after the restart", seconds: 60);
        await again.Owner.SetActiveAsync(again, workflow, active: false);

        var runs = await again.ScheduledRunsAsync(workflow);
        runs.ShouldBeOnePerSecond();
        runs.ShouldAllBe(r => !r.Misfired);
        runs.ShouldContain(r => r.ScheduledAt > killed && r.ScheduledAt < killed.AddSeconds(3));
    }

    [PostgresFact]
    public async Task TwoServers_OnOnePostgres_EverySecondForTenSeconds_FireEachTickOnce()
    {
        var (environment, adminKey) = await EnvironmentAsync(DatabaseKind.Postgres);
        await using var first = ServerProcess.Start(TestDirectories.Create("node-a"), environment);
        await using var second = ServerProcess.Start(TestDirectories.Create("node-b"), environment);
        await Task.WhenAll(first.WaitUntilListeningAsync(), second.WaitUntilListeningAsync());
        var workspace = await CreateWorkspaceAsync(first, adminKey);
        var onSecond = workspace with { Owner = second.Client(workspace.OwnerKey) };

        var workflow = await workspace.CreateScheduleAsync();
        await onSecond.WaitForRunsAsync(workflow, r => r.Count >= 11 && r[^1].ScheduledAt - r[0].ScheduledAt >= TimeSpan.FromSeconds(10), "ten seconds of ticks", seconds: 60);
        await onSecond.Owner.SetActiveAsync(onSecond, workflow, active: false);

        var runs = await workspace.ScheduledRunsAsync(workflow);
        runs.Count.ShouldBeGreaterThanOrEqualTo(11);
        runs.ShouldBeOnePerSecond();
        runs.ShouldAllBe(r => !r.Misfired);
        first.HasExited.ShouldBeFalse(first.Output);
        second.HasExited.ShouldBeFalse(second.Output);
    }

    private static async Task<(Dictionary<string, string> Environment, string AdminKey)> EnvironmentAsync(DatabaseKind db)
    {
        var adminKey = "cadre_test_admin_" + Guid.NewGuid().ToString("N");
        var environment = new Dictionary<string, string>
        {
            ["CADRE_ADMIN_KEY"] = adminKey,
            ["CADRE_RATE_LIMIT_PERMITS_PER_SECOND"] = "0",
            // PostgreSQL is multi-node, so a dead process's schedule lease is only taken back when it lapses.
            ["CADRE_ENGINE_LEASE_DURATION"] = "00:00:02",
        };
        if (db == DatabaseKind.Postgres)
        {
            environment["CADRE_DATABASE"] = await TestPostgres.CreateDatabaseAsync();
        }

        return (environment, adminKey);
    }

    private static async Task<TestWorkspace> CreateWorkspaceAsync(ServerProcess server, string adminKey)
    {
        using var admin = server.Client(adminKey);
        var name = Api.UniqueName("sched");
        var created = await admin.PostJsonAsync("/api/v1/workspaces", new { name });
        await created.ShouldBeAsync(HttpStatusCode.Created);
        var ownerKey = await admin.CreateKeyAsync(name, "owner");
        return new TestWorkspace(name, (string)(await created.ReadObjectAsync())["id"]!, ownerKey, server.Client(ownerKey));
    }
}
