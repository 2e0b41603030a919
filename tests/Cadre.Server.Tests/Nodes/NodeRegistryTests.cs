using System.Net;
using Cadre.Nodes;
using Cadre.Runs;
using Cadre.Server.Tests.Runs;
using Cadre.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace Cadre.Server.Tests.Nodes;

/// <summary>The registry of nodes: each node's row and heartbeat, what the admin API lists, dead nodes' tasks, pruning.</summary>
public sealed class NodeRegistryTests
{
    [Theory, AllDatabases]
    public async Task ListNodes_ShowsTheNodeLive_UnderItsLeaseOwnerId_WithRoleVersionAndAMovingHeartbeat(DatabaseKind db)
    {
        // Empty settings count as unset, as compose files pass variables nobody set.
        await using var app = await CadreApp.StartAsync(db, new Dictionary<string, string?>(NodeApi.FastHeartbeats) { ["Cadre:Node:Role"] = "", ["Cadre:Node:Name"] = "" });
        using var admin = app.AdminClient();

        var first = (await admin.NodesAsync()).ShouldHaveSingleItem();

        var owner = app.Services.GetRequiredService<RunWorker>().Owner;
        ((string)first["id"]!).ShouldBe(owner);
        owner.ShouldStartWith("node_");
        ((string)first["name"]!).ShouldBe($"{Environment.MachineName}/{Environment.ProcessId}");
        ((string)first["role"]!).ShouldBe("all");
        ((string)first["version"]!).ShouldStartWith("0.1.0");
        ((string)first["status"]!).ShouldBe("live");
        ((int)first["tasksInFlight"]!).ShouldBe(0);
        first["stoppedAt"].ShouldBeNull();
        ((DateTime)first["lastHeartbeatAt"]!).ShouldBeGreaterThanOrEqualTo((DateTime)first["startedAt"]!);
        await Eventually.HoldsAsync(
            async () => (DateTime)(await admin.NodesAsync()).Single()["lastHeartbeatAt"]! > (DateTime)first["lastHeartbeatAt"]!,
            "the heartbeat moves on");
    }

    [Theory, AllDatabases]
    public async Task TasksInFlight_CountsTheAttemptsTheNodeRuns(DatabaseKind db)
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var sink = await FakeHttpServer.StartAsync(async _ => await release.Task);
        await using var app = await CadreApp.StartAsync(db, new Dictionary<string, string?>(EngineApps.Settings) { ["Cadre:Node:HeartbeatInterval"] = "00:00:00.200" });
        using var admin = app.AdminClient();
        var workspace = await app.CreateWorkspaceAsync();
        var flow = await workspace.CreateFlowAsync([new { id = "call", activity = new { uniqueIdentifier = "http" }, input = new { url = sink.Address + "wait" } }]);
        var run = (string)(await workspace.StartAsync(flow, wait: null))["id"]!;
        await Eventually.HoldsAsync(() => sink.Requests.Count == 1, "the step calls the sink");

        await Eventually.HoldsAsync(async () => (int)(await admin.NodesAsync()).Single()["tasksInFlight"]! == 1, "the heartbeat reports the attempt");
        release.SetResult();
        await workspace.WaitForRunAsync(run);
        await Eventually.HoldsAsync(async () => (int)(await admin.NodesAsync()).Single()["tasksInFlight"]! == 0, "and its end");
    }

    [Theory, AllDatabases]
    public async Task DeadNodesLeasedTask_ReturnsToTheQueueAtOnce_AndTheLateResultOfItsAttemptIsRefused(DatabaseKind db)
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var sink = await FakeHttpServer.StartAsync(async _ => await release.Task);
        var settings = new Dictionary<string, string?>(EngineApps.Settings)
        {
            // Far beyond the test: only the dead node can make the task return.
            ["Cadre:Engine:LeaseDuration"] = "00:10:00",
        };
        foreach (var (key, value) in NodeApi.FastHeartbeats)
        {
            settings[key] = value;
        }

        await using var app = await CadreApp.StartAsync(db, settings);
        var workspace = await app.CreateWorkspaceAsync();
        var flow = await workspace.CreateFlowAsync(
        [
            new { id = "call", activity = new { uniqueIdentifier = "http" }, input = new { method = "POST", url = sink.Address + "effect" }, retryPolicy = new { maximumAttempts = 3 } },
        ]);
        var run = (string)(await workspace.StartAsync(flow, wait: null))["id"]!;
        await Eventually.HoldsAsync(() => sink.Requests.Count == 1, "the first attempt calls the sink");

        // The attempt in progress here now belongs, as far as the database knows, to a node that stopped heartbeating a minute ago:
        // this node's attempt plays that node, merely slow.
        await app.AddNodeAsync("node_gone", silentFor: TimeSpan.FromMinutes(1));
        (await app.LeaseToAsync(run, "node_gone")).ShouldBe(1);

        await Eventually.HoldsAsync(() => sink.Requests.Count == 2, "the returned task is run again");
        release.SetResult();
        var done = await workspace.WaitForRunAsync(run);
        await Eventually.HoldsAsync(() => app.Services.GetRequiredService<RunWorker>().InFlight == 0, "the slow attempt has ended too, its result offered late");

        ((string)done["status"]!).ShouldBe("succeeded");
        var tasks = await workspace.ListAllAsync(workspace.Runs($"/{run}/tasks"));
        tasks.Select(t => (string)t["status"]!).ShouldBe(["abandoned", "succeeded"], ignoreOrder: true);
        var abandoned = tasks.Single(t => (string)t["status"]! == "abandoned");
        ((string)abandoned["worker"]!).ShouldBe("node_gone");
        ((string)abandoned["error"]!["type"]!).ShouldBe("lease_expired");
        // The same attempt again, under the same key, so the receiver can tell it is one effect.
        tasks.Select(t => (string)t["idempotencyKey"]!).Distinct().ShouldHaveSingleItem();
        sink.Requests.Select(r => r.Headers["Idempotency-Key"]).Distinct().ShouldHaveSingleItem();
        app.Logs.Messages.ShouldContain(m => m.Contains("Node node_gone (elsewhere/node_gone) is dead", StringComparison.Ordinal));
    }

    [Theory, AllDatabases]
    public async Task Statuses_LiveDeadStopped_FilterAndPruning(DatabaseKind db)
    {
        var settings = new Dictionary<string, string?>(NodeApi.FastHeartbeats) { ["Logging:LogLevel:Cadre.Storage.HousekeepingService"] = "Debug" };
        await using var app = await CadreApp.StartAsync(db, settings);
        using var admin = app.AdminClient();
        var self = app.Services.GetRequiredService<ThisNode>().Id;
        // The housekeeping duty's first pass (on PostgreSQL, whenever its lock is taken) would prune the long-gone
        // nodes below before the test looks: it is over first, and the next comes ten minutes later.
        await Eventually.HoldsAsync(() => app.Logs.Messages.Any(m => m.Contains("Housekeeping deleted", StringComparison.Ordinal)), "housekeeping's first pass");
        await app.AddNodeAsync("node_dead", silentFor: TimeSpan.FromMinutes(5));
        await app.AddNodeAsync("node_stopped", silentFor: TimeSpan.FromMinutes(5), stoppedAgo: TimeSpan.FromMinutes(5), role: "api");
        await app.AddNodeAsync("node_long_dead", silentFor: TimeSpan.FromDays(2));
        await app.AddNodeAsync("node_long_stopped", silentFor: TimeSpan.FromDays(2), stoppedAgo: TimeSpan.FromDays(2));

        var nodes = await admin.NodesAsync();

        nodes.Count.ShouldBe(5);
        ((string)nodes.Node(self)["status"]!).ShouldBe("live");
        ((string)nodes.Node("node_dead")["status"]!).ShouldBe("dead");
        ((string)nodes.Node("node_stopped")["status"]!).ShouldBe("stopped");
        ((string)nodes.Node("node_stopped")["role"]!).ShouldBe("api");
        nodes.Node("node_stopped")["stoppedAt"].ShouldNotBeNull();
        (await admin.NodesAsync("?status=live")).Select(n => (string)n["id"]!).ShouldBe([self]);
        (await admin.NodesAsync("?status=dead")).Select(n => (string)n["id"]!).ShouldBe(["node_dead", "node_long_dead"], ignoreOrder: true);
        (await admin.NodesAsync("?status=stopped")).Select(n => (string)n["id"]!).ShouldBe(["node_stopped", "node_long_stopped"], ignoreOrder: true);
        (await (await admin.GetAsync(NodeApi.Path + "?status=asleep")).ShouldBeProblemAsync(HttpStatusCode.BadRequest)).Errors!.ShouldContainKey("status");
        var page = await (await admin.GetAsync(NodeApi.Path + "?limit=2")).ReadObjectAsync();
        ((int)page["count"]!).ShouldBe(5);
        page["next"].ShouldNotBeNull();

        await using (var scope = app.Services.CreateAsyncScope())
        {
            (await scope.ServiceProvider.GetRequiredService<NodeService>().PruneAsync(CancellationToken.None)).ShouldBe(2);
        }

        (await admin.NodesAsync()).Select(n => (string)n["id"]!).ShouldBe([self, "node_dead", "node_stopped"], ignoreOrder: true);
    }

    [PostgresFact]
    public async Task NodeShutDownCleanly_IsListedStopped_ByTheOthers()
    {
        await using var first = await CadreApp.StartAsync(DatabaseKind.Postgres, NodeApi.FastHeartbeats);
        var second = await CadreApp.StartAsync(DatabaseKind.Postgres, NodeApi.FastHeartbeats, databaseSetting: first.DatabaseSetting, adminKey: first.AdminKey);
        var secondId = second.Services.GetRequiredService<ThisNode>().Id;
        using var admin = first.AdminClient();
        ((string)(await admin.NodesAsync()).Node(secondId)["status"]!).ShouldBe("live");

        await second.DisposeAsync();

        var stopped = (await admin.NodesAsync()).Node(secondId);
        ((string)stopped["status"]!).ShouldBe("stopped");
        ((int)stopped["tasksInFlight"]!).ShouldBe(0);
        // Newest first: the second node started last.
        ((string)(await admin.NodesAsync())[0]["id"]!).ShouldBe(secondId);
    }

    [Theory, AllDatabases]
    public async Task ListNodes_IsForInstanceAdminsOnly(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        using var anonymous = app.Client();
        var person = await app.CreateUserAsync();
        await workspace.AddMemberAsync(person, "owner");
        using var browser = await app.SignInAsync(person);
        var admin = await app.CreateUserAsync(instanceRole: "admin");
        using var adminBrowser = await app.SignInAsync(admin);

        await (await anonymous.GetAsync(NodeApi.Path)).ShouldBeProblemAsync(HttpStatusCode.Unauthorized);
        await (await workspace.Owner.GetAsync(NodeApi.Path)).ShouldBeProblemAsync(HttpStatusCode.Forbidden);
        await (await browser.Client.GetAsync(NodeApi.Path)).ShouldBeProblemAsync(HttpStatusCode.Forbidden);
        await (await adminBrowser.Client.GetAsync(NodeApi.Path)).ShouldBeAsync(HttpStatusCode.OK);
    }
}
