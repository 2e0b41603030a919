using System.Net;
using Cadre.Runs;
using Cadre.Storage;
using Cadre.Storage.Postgres;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Cadre.Server.Tests.Runs;

/// <summary>
/// Two nodes on one PostgreSQL database: an intake node that runs no engine, and a worker node whose
/// own polling is slowed to a minute, so anything that reaches it well within a minute came by the
/// other node's signal (NOTIFY), not by polling.
/// </summary>
public sealed class ClusterSignalTests
{
    private static readonly TimeSpan WellWithinAPoll = TimeSpan.FromSeconds(20);

    [PostgresFact]
    public async Task AnIdleWorkerOnAnotherNode_WakesForWorkStartedHere_AndAgainAfterItsListeningConnectionWasCut()
    {
        await using var cluster = await TwoNodesAsync();
        var calls = 0;
        await using var sink = await FakeHttpServer.StartAsync(_ =>
        {
            Interlocked.Increment(ref calls);
            return Task.CompletedTask;
        });
        var workspace = await cluster.Intake.CreateWorkspaceAsync();
        var flow = await workspace.CreateFlowAsync([new { id = "call", activity = new { uniqueIdentifier = "http" }, input = new { url = sink.Address + "hit" } }]);

        var first = (string)(await workspace.StartAsync(flow, wait: null))["id"]!;

        ((string)(await workspace.WaitForRunAsync(first, seconds: (int)WellWithinAPoll.TotalSeconds))["status"]!).ShouldBe("succeeded");

        // Cut both nodes' listening connections: each opens a new one by itself and signals flow again.
        await using (var admin = new NpgsqlConnection(cluster.Database))
        {
            await admin.OpenAsync();
            await using var cut = new NpgsqlCommand("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'cadre-signals' AND query ILIKE 'LISTEN%'", admin);
            ((long)(await cut.ExecuteScalarAsync())!).ShouldBeGreaterThanOrEqualTo(2);
        }

        await Eventually.HoldsAsync(async () => cluster.Signals.All(s => s.Listening) && await ListenersAsync(cluster.Database) >= 2, "both nodes listen again", 20);
        var second = (string)(await workspace.StartAsync(flow, wait: null))["id"]!;

        ((string)(await workspace.WaitForRunAsync(second, seconds: (int)WellWithinAPoll.TotalSeconds))["status"]!).ShouldBe("succeeded");
        calls.ShouldBe(2);
    }

    [PostgresFact]
    public async Task AHaltOnOneNode_StopsTheAttemptRunningOnAnother_WithoutWaitingForTheLeaseHeartbeat()
    {
        await using var cluster = await TwoNodesAsync();
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var aborted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var sink = await FakeHttpServer.StartAsync(async context =>
        {
            entered.TrySetResult();
            await Task.Delay(Timeout.Infinite, context.RequestAborted).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            aborted.TrySetResult();
        });
        var workspace = await cluster.Intake.CreateWorkspaceAsync();
        var flow = await workspace.CreateFlowAsync([new { id = "slow", activity = new { uniqueIdentifier = "http" }, input = new { url = sink.Address + "slow" } }]);
        var id = (string)(await workspace.StartAsync(flow, wait: null))["id"]!;
        await entered.Task.WaitAsync(WellWithinAPoll);

        var halted = await workspace.Owner.PostAsync(workspace.Runs($"/{id}/halt"), null);

        await halted.ShouldBeAsync(HttpStatusCode.OK);
        // The worker's heartbeat, which would also see the halt, comes only every minute here.
        await aborted.Task.WaitAsync(WellWithinAPoll);
        var settled = await workspace.WaitForRunAsync(id, r => RunApi.StepStatus(r, "slow") == "pending", seconds: (int)WellWithinAPoll.TotalSeconds);
        ((string)settled["status"]!).ShouldBe("halted");
        ((string)(await workspace.ListAllAsync(workspace.Runs($"/{id}/tasks"))).Single()["status"]!).ShouldBe("cancelled");
    }

    [PostgresFact]
    public async Task AStreamOnOneNode_SeesEveryEventOfARunOnAnother_InOrder_AndResumesOnTheOther()
    {
        await using var cluster = await TwoNodesAsync();
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var sink = await FakeHttpServer.StartAsync(async _ => await release.Task);
        var workspace = await cluster.Intake.CreateWorkspaceAsync();
        var flow = await workspace.CreateFlowAsync(
        [
            new { id = "a", activity = new { uniqueIdentifier = "http" }, input = new { url = sink.Address + "a" } },
            new { id = "b", activity = new { uniqueIdentifier = "http" }, dependsOn = new[] { "a" }, input = new { url = sink.Address + "b" } },
            new { id = "c", activity = new { uniqueIdentifier = "transform" }, dependsOn = new[] { "b" }, input = new { done = true } },
        ]);
        var id = (string)(await workspace.StartAsync(flow, wait: null))["id"]!;

        var streamed = RunStreamTests.ReadStreamAsync(workspace.Owner, workspace.Runs($"/{id}/stream"));
        release.TrySetResult();
        var seen = await streamed;

        var log = await workspace.ListAllAsync(workspace.Runs($"/{id}/events"));
        seen.Select(e => e.Id).ShouldBe(log.Select(e => (long)e["id"]!));
        seen.Last().Type.ShouldBe("status");
        ((string)seen.Last().Data["status"]!).ShouldBe("succeeded");
        // The worker node serves the same stream from any point.
        using var onWorker = cluster.Worker.Client(workspace.OwnerKey);
        var resumed = await RunStreamTests.ReadStreamAsync(onWorker, workspace.Runs($"/{id}/stream"), lastEventId: seen[2].Id);
        resumed.Select(e => e.Id).ShouldBe(seen.Skip(3).Select(e => e.Id));
    }

    [Fact]
    public void Signals_SurviveTheirWireFormat_AndUnknownKindsAreSkipped()
    {
        ClusterSignal[] signals =
        [
            new(ClusterSignalKind.RunEvents, "ws_1", "run_1"),
            new(ClusterSignalKind.Work, Count: 5),
            new(ClusterSignalKind.Finished, RunId: "run_2"),
            new(ClusterSignalKind.Halted, RunId: "run_3"),
            new(ClusterSignalKind.Interrupted, RunId: "run_4"),
        ];

        var (origin, read) = ClusterSignals.Deserialize(ClusterSignals.Serialize("node-a", signals));

        origin.ShouldBe("node-a");
        read.ShouldBe(signals);
        ClusterSignals.Deserialize("""{"from":"node-b","signals":[["z","later"],["w",3]]}""").Signals
            .ShouldBe([new ClusterSignal(ClusterSignalKind.Work, Count: 3)]);
    }

    private static async Task<long> ListenersAsync(string database)
    {
        await using var connection = new NpgsqlConnection(database);
        await connection.OpenAsync();
        await using var count = new NpgsqlCommand("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'cadre-signals' AND query ILIKE 'LISTEN%'", connection);
        return (long)(await count.ExecuteScalarAsync())!;
    }

    private static async Task<Cluster> TwoNodesAsync()
    {
        var database = await TestPostgres.CreateDatabaseAsync();
        var intake = await CadreApp.StartAsync(DatabaseKind.Postgres, new Dictionary<string, string?>
        {
            ["Cadre:Engine:Enabled"] = "false",
        }, databaseSetting: database);
        var worker = await CadreApp.StartAsync(DatabaseKind.Postgres, new Dictionary<string, string?>
        {
            ["Cadre:Outbound:AllowPrivateNetworks"] = "true",
            // Neither polling nor the lease heartbeat (a third of the lease) comes within the tests' waits.
            ["Cadre:Engine:PollInterval"] = "00:01:00",
            ["Cadre:Engine:LeaseDuration"] = "00:03:00",
        }, databaseSetting: database, adminKey: intake.AdminKey);
        var cluster = new Cluster(database, intake, worker);
        await Eventually.HoldsAsync(() => cluster.Signals.All(s => s.Listening), "both nodes listen for signals", 20);
        return cluster;
    }

    private sealed record Cluster(string Database, CadreApp Intake, CadreApp Worker) : IAsyncDisposable
    {
        public IEnumerable<ClusterSignals> Signals => [Intake.Services.GetRequiredService<ClusterSignals>(), Worker.Services.GetRequiredService<ClusterSignals>()];

        public async ValueTask DisposeAsync()
        {
            await Worker.DisposeAsync();
            await Intake.DisposeAsync();
        }
    }
}
