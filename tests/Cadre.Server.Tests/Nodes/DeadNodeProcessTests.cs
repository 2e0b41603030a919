using System.Net;
using Cadre.Server.Tests.Runs;
using Npgsql;

namespace Cadre.Server.Tests.Nodes;

/// <summary>Two server processes on one PostgreSQL database; one is killed while it runs a step.</summary>
public sealed class DeadNodeProcessTests
{
    [PostgresFact]
    public async Task NodeKilledMidStep_AnotherNodeFindsItDead_AndRunsTheStepLongBeforeTheLeaseWouldLapse_OnceToTheEnd()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var sink = await FakeHttpServer.StartAsync(async _ => await release.Task);
        var database = await TestPostgres.CreateDatabaseAsync();
        var adminKey = "cadre_test_admin_" + Guid.NewGuid().ToString("N");
        var environment = new Dictionary<string, string>
        {
            ["CADRE_DATABASE"] = database,
            ["CADRE_ADMIN_KEY"] = adminKey,
            ["CADRE_RATE_LIMIT_PERMITS_PER_SECOND"] = "0",
            ["CADRE_OUTBOUND_ALLOW_PRIVATE_NETWORKS"] = "true",
            ["CADRE_ENGINE_POLL_INTERVAL"] = "00:00:00.100",
            // The lease would keep the step from the other node for ten minutes: only the dead node's detection can free it.
            ["CADRE_ENGINE_LEASE_DURATION"] = "00:10:00",
            ["CADRE_NODE_HEARTBEAT_INTERVAL"] = "00:00:00.250",
            ["CADRE_NODE_DEAD_AFTER"] = "00:00:01",
        };
        await using var first = ServerProcess.Start(TestDirectories.Create("node-a"), new Dictionary<string, string>(environment) { ["CADRE_NODE_NAME"] = "node-a" });
        await first.WaitUntilListeningAsync();
        using var firstAdmin = first.Client(adminKey);
        var name = Api.UniqueName("dead");
        await (await firstAdmin.PostJsonAsync("/api/v1/workspaces", new { name })).ShouldBeAsync(HttpStatusCode.Created);
        var ownerKey = await firstAdmin.CreateKeyAsync(name, "owner");
        var workspace = new TestWorkspace(name, "", ownerKey, first.Client(ownerKey));
        var flow = await workspace.CreateFlowAsync(
        [
            new { id = "call", activity = new { uniqueIdentifier = "http" }, input = new { method = "POST", url = sink.Address + "effect" }, retryPolicy = new { maximumAttempts = 3 } },
            new { id = "after", activity = new { uniqueIdentifier = "transform" }, dependsOn = new[] { "call" }, input = new { done = true } },
        ]);
        var run = (string)(await workspace.StartAsync(flow, wait: null))["id"]!;
        await Eventually.HoldsAsync(() => sink.Requests.Count == 1, "the first node runs the step");
        await using var second = ServerProcess.Start(TestDirectories.Create("node-b"), new Dictionary<string, string>(environment) { ["CADRE_NODE_NAME"] = "node-b" });
        await second.WaitUntilListeningAsync();

        await first.KillAsync();

        await Eventually.HoldsAsync(() => sink.Requests.Count == 2, "the second node runs the step again");
        release.SetResult();
        var owner = second.Client(ownerKey);
        workspace = workspace with { Owner = owner };
        var done = await workspace.WaitForRunAsync(run);
        ((string)done["status"]!).ShouldBe("succeeded");
        RunApi.StepStatus(done, "after").ShouldBe("succeeded");

        using var admin = second.Client(adminKey);
        var nodes = await admin.NodesAsync();
        nodes.Select(n => ((string)n["name"]!, (string)n["status"]!)).ShouldBe([("node-b", "live"), ("node-a", "dead")]);
        var (firstId, secondId) = ((string)nodes[1]["id"]!, (string)nodes[0]["id"]!);
        var tasks = (await workspace.ListAllAsync(workspace.Runs($"/{run}/tasks"))).Where(t => (string)t["stepId"]! == "call").ToList();
        tasks.Select(t => ((string)t["status"]!, (string)t["worker"]!)).ShouldBe([("abandoned", firstId), ("succeeded", secondId)]);
        ((string)tasks[0]["error"]!["type"]!).ShouldBe("lease_expired");
        // One effect, sent twice under one key; one result recorded.
        sink.Requests.Select(r => r.Headers["Idempotency-Key"]).Distinct().ShouldHaveSingleItem();
        second.Output.ShouldContain($"Node {firstId} (node-a) is dead");
        // Returned while its lease still had most of its ten minutes to run.
        await using var connection = new NpgsqlConnection(database);
        await connection.OpenAsync();
        await using var returned = new NpgsqlCommand("SELECT lease_expires_at - finished_at > interval '5 minutes' FROM tasks WHERE run_id = $1 AND status = 'abandoned'", connection)
        {
            Parameters = { new NpgsqlParameter { Value = run } },
        };
        ((bool)(await returned.ExecuteScalarAsync())!).ShouldBeTrue();
    }
}
