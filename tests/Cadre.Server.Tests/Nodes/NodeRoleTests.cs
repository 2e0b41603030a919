using System.Net;
using Cadre.Nodes;
using Cadre.Server.Tests.Runs;
using Cadre.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace Cadre.Server.Tests.Nodes;

/// <summary>Node roles: api nodes take work in, worker nodes run it, and a role that cannot work refuses the start.</summary>
public sealed class NodeRoleTests
{
    [PostgresFact]
    public async Task ApiNode_StartsRuns_WhichOnlyAWorkerNodeRuns_AndTheWorkerNodeRefusesTheApi()
    {
        var settings = new Dictionary<string, string?>(EngineApps.Settings) { ["Cadre:Node:HeartbeatInterval"] = "00:00:00.200" };
        await using var api = await CadreApp.StartAsync(DatabaseKind.Postgres, new Dictionary<string, string?>(settings) { ["Cadre:Node:Role"] = "api" });
        using var admin = api.AdminClient();
        var workspace = await api.CreateWorkspaceAsync();
        var flow = await workspace.CreateFlowAsync(
        [
            new { id = "first", activity = new { uniqueIdentifier = "transform" }, input = new { ready = true } },
            new { id = "nap", activity = new { uniqueIdentifier = "sleep" }, dependsOn = new[] { "first" }, input = new { duration = "10ms" } },
            new { id = "after", activity = new { uniqueIdentifier = "transform" }, dependsOn = new[] { "nap" }, input = new { done = true } },
        ]);

        var run = await workspace.StartAsync(flow, wait: null);

        // The pure step ran inline in the start's own commit; the sleep waits for a worker.
        var id = (string)run["id"]!;
        RunApi.StepStatus(run, "first").ShouldBe("succeeded");
        RunApi.StepStatus(run, "nap").ShouldBe("queued");
        // Two heartbeats later (a node's background loops have had their turns), still nobody has taken it.
        var heartbeat = (DateTime)(await admin.NodesAsync()).Single()["lastHeartbeatAt"]!;
        await Eventually.HoldsAsync(async () => (DateTime)(await admin.NodesAsync()).Single()["lastHeartbeatAt"]! > heartbeat.AddMilliseconds(200), "the api node heartbeats twice");
        RunApi.StepStatus(await workspace.GetRunAsync(id), "nap").ShouldBe("queued");
        (await workspace.ListAllAsync(workspace.Runs($"/{id}/tasks"))).Where(t => (string)t["stepId"]! == "nap").ShouldAllBe(t => (string)t["status"]! == "queued");

        await using var worker = await CadreApp.StartAsync(DatabaseKind.Postgres, new Dictionary<string, string?>(settings) { ["Cadre:Node:Role"] = "worker" },
            databaseSetting: api.DatabaseSetting, adminKey: api.AdminKey);
        var done = await workspace.WaitForRunAsync(id);

        ((string)done["status"]!).ShouldBe("succeeded");
        var workerId = worker.Services.GetRequiredService<ThisNode>().Id;
        // The sleep's attempt and its timer, both leased by the worker node.
        var nap = (await workspace.ListAllAsync(workspace.Runs($"/{id}/tasks"))).Where(t => (string)t["stepId"]! == "nap").ToList();
        nap.Select(t => (string)t["kind"]!).ShouldBe(["step", "timer"]);
        nap.ShouldAllBe(t => (string)t["status"]! == "succeeded" && (string)t["worker"]! == workerId);
        // Both live. Asked until it holds: at a 200 ms heartbeat, a busy machine can hold a node's beat past the
        // liveness limit for a moment, and the next beat makes it live again (what the operator's list shows, too).
        await Eventually.HoldsAsync(
            async () => (await admin.NodesAsync()).Select(n => ((string)n["role"]!, (string)n["status"]!)).SequenceEqual([("worker", "live"), ("api", "live")]),
            "both nodes are live");

        using var toWorker = worker.Client(worker.AdminKey);
        foreach (var path in new[] { "/api/v1/workspaces", NodeApi.Path, $"/api/v1/workspaces/{workspace.Name}/runs/{id}", "/openapi/v1.json", "/" })
        {
            var refused = await (await toWorker.GetAsync(path)).ShouldBeProblemAsync(HttpStatusCode.MisdirectedRequest);
            refused.Detail!.ShouldContain("role 'worker'");
        }

        await (await toWorker.PostJsonAsync($"/api/v1/workspaces/{workspace.Name}/workflows/{flow}/runs", new { })).ShouldBeProblemAsync(HttpStatusCode.MisdirectedRequest);
        await (await toWorker.GetAsync("/healthz")).ShouldBeAsync(HttpStatusCode.OK);
        await (await toWorker.GetAsync("/readyz")).ShouldBeAsync(HttpStatusCode.OK);
        (await (await toWorker.GetAsync("/metrics")).Content.ReadAsStringAsync()).ShouldContain("cadre_runs_finished_total");
    }

    [Theory]
    [InlineData("sqlite", "boss", "Cadre:Node:Role (CADRE_NODE_ROLE) must be all, api or worker, not 'boss'")]
    [InlineData("sqlite", "api", "Cadre:Node:Role (CADRE_NODE_ROLE) 'api' needs PostgreSQL")]
    [InlineData("sqlite", "worker", "Cadre:Node:Role (CADRE_NODE_ROLE) 'worker' needs PostgreSQL")]
    // No database is reached: settings are checked first.
    [InlineData("postgres://cadre@127.0.0.1:1/cadre", "worker", "'worker' runs the engine, which Cadre:Engine:Enabled (CADRE_ENGINE_ENABLED) turns off", "CADRE_ENGINE_ENABLED", "false")]
    [InlineData("sqlite", "all", "Cadre:Node:DeadAfter (CADRE_NODE_DEAD_AFTER) must be at least twice", "CADRE_NODE_DEAD_AFTER", "00:00:06")]
    [InlineData("sqlite", "all", "Cadre:Node:HeartbeatInterval (CADRE_NODE_HEARTBEAT_INTERVAL) must be between", "CADRE_NODE_HEARTBEAT_INTERVAL", "00:00:00.010")]
    public async Task NodeSettingThatCannotWork_RefusesToStartSayingWhy(string database, string role, string reason, string? variable = null, string? value = null)
    {
        var directory = TestDirectories.Create("process");
        var environment = new Dictionary<string, string> { ["CADRE_DATABASE"] = database, ["CADRE_NODE_ROLE"] = role };
        if (variable is not null)
        {
            environment[variable] = value!;
        }

        await using var server = ServerProcess.Start(directory, environment);
        var exitCode = await server.WaitForExitAsync();

        exitCode.ShouldBe(1);
        server.Output.ShouldContain("Cadre cannot start: ");
        server.Output.ShouldContain(reason);
        File.Exists(Path.Combine(directory, "data", DatabaseTarget.SqliteFileName)).ShouldBeFalse();
    }
}
