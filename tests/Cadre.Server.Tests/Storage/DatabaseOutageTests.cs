using System.Net;
using Cadre.Server.Tests.Runs;
using Cadre.Storage;
using Npgsql;

namespace Cadre.Server.Tests.Storage;

/// <summary>The database goes away under a running server: clear 503s, no lost acknowledged work, recovery when it returns.</summary>
public sealed class DatabaseOutageTests
{
    [PostgresFact]
    public async Task PostgresStops_ApiAnswers503AndReadinessFails_ThenRecovers()
    {
        await using var cluster = await PostgresCluster.StartAsync();
        await using var app = await CadreApp.StartAsync(DatabaseKind.Postgres, databaseSetting: await cluster.CreateDatabaseAsync());
        var workspace = await app.CreateWorkspaceAsync();
        using var anonymous = app.Client();

        await cluster.StopServerAsync();

        var during = await workspace.Owner.GetAsync($"/api/v1/workspaces/{workspace.Name}");
        (await during.ShouldBeProblemAsync(HttpStatusCode.ServiceUnavailable)).Detail!.ShouldContain("database");
        during.Headers.RetryAfter.ShouldNotBeNull();
        var write = await workspace.Owner.PatchJsonAsync($"/api/v1/workspaces/{workspace.Name}", new { displayName = "during outage" });
        await write.ShouldBeProblemAsync(HttpStatusCode.ServiceUnavailable);
        await (await anonymous.GetAsync("/readyz")).ShouldBeAsync(HttpStatusCode.ServiceUnavailable);
        await (await anonymous.GetAsync("/healthz")).ShouldBeAsync(HttpStatusCode.OK);

        await cluster.StartServerAsync();

        var after = await RetryUntilOkAsync(() => workspace.Owner.GetAsync($"/api/v1/workspaces/{workspace.Name}"));
        ((string)(await after.ReadObjectAsync())["displayName"]!).ShouldBe(workspace.Name);
        await RetryUntilOkAsync(() => anonymous.GetAsync("/readyz"));
    }

    [PostgresFact]
    public async Task PostgresGoesAwayDuringAnAttempt_TheWorkerKeepsItsLease_AndCommitsTheResultOnce()
    {
        await using var cluster = await PostgresCluster.StartAsync();
        var settings = new Dictionary<string, string?>(EngineApps.Settings) { ["Cadre:Engine:LeaseDuration"] = "00:00:06" };
        await using var app = await CadreApp.StartAsync(DatabaseKind.Postgres, settings, databaseSetting: await cluster.CreateDatabaseAsync());
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var sink = await FakeHttpServer.StartAsync(_ => release.Task);
        var workspace = await app.CreateWorkspaceAsync();
        var flow = await workspace.CreateFlowAsync([new { id = "call", activity = new { uniqueIdentifier = "http" }, input = new { url = sink.Address + "call" } }]);
        var run = await workspace.StartAsync(flow, wait: null);
        var runId = (string)run["id"]!;
        await Eventually.HoldsAsync(() => sink.Requests.Count == 1, "the step is calling the sink");

        // Down while the step runs: a renewal fails, and the heartbeat renews again once PostgreSQL is back.
        await cluster.StopServerAsync();
        await Eventually.HoldsAsync(() => app.Logs.Messages.Any(m => m.Contains("Could not renew the lease", StringComparison.Ordinal)), "a renewal failed");
        var restartedAt = DateTime.UtcNow;
        await cluster.StartServerAsync();
        await using var connection = new NpgsqlConnection(app.DatabaseSetting);
        await connection.OpenAsync();
        await Eventually.HoldsAsync(async () =>
        {
            await using var lease = new NpgsqlCommand("SELECT lease_expires_at FROM tasks WHERE run_id = $1 AND status = 'leased'", connection) { Parameters = { new() { Value = runId } } };
            return await lease.ExecuteScalarAsync() is DateTime until && until > restartedAt.AddSeconds(6);
        }, "the lease was renewed after PostgreSQL came back");

        // Down as the step ends: the result's commit fails, and lands once PostgreSQL is back.
        await cluster.StopServerAsync();
        release.SetResult();
        await Eventually.HoldsAsync(() => app.Logs.Messages.Any(m => m.Contains("Could not commit on task", StringComparison.Ordinal) || m.Contains("could not be run", StringComparison.Ordinal)), "the result's commit failed");
        await cluster.StartServerAsync();

        // One attempt, one call: the worker did not let its lease lapse and the step run again.
        var done = await workspace.WaitForRunAsync(runId);
        ((string)done["status"]!).ShouldBe("succeeded", done.ToJsonString());
        var tasks = await workspace.ListAllAsync(workspace.Runs($"/{runId}/tasks"));
        tasks.Select(t => (string)t["status"]!).ShouldBe(["succeeded"]);
        sink.Requests.Count.ShouldBe(1);
    }

    /// <summary>Npgsql drops broken pooled connections as it meets them; allow a few attempts, bounded by a deadline.</summary>
    private static async Task<HttpResponseMessage> RetryUntilOkAsync(Func<Task<HttpResponseMessage>> send)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            var response = await send();
            if (response.StatusCode == HttpStatusCode.OK || DateTime.UtcNow > deadline)
            {
                await response.ShouldBeAsync(HttpStatusCode.OK);
                return response;
            }

            response.StatusCode.ShouldBe(HttpStatusCode.ServiceUnavailable);
        }
    }
}
