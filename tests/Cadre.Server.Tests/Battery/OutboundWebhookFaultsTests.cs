using System.Collections.Concurrent;
using System.Net;
using System.Text.Json.Nodes;
using Cadre.Server.Tests.Runs;
using Microsoft.AspNetCore.Http;
using Xunit.Abstractions;

namespace Cadre.Server.Tests.Battery;

/// <summary>
/// Battery item 5: run notifications to a receiver that fails attempts (500, no answer within the
/// timeout, a reset connection), with the server killed mid-attempt and restarted, and to a receiver that
/// never accepts. Each notification is delivered with one stable <c>webhook-id</c>, or dead-lettered;
/// none is lost.
/// </summary>
[Trait("Battery", "5")]
public sealed class OutboundWebhookFaultsTests(ITestOutputHelper output)
{
    private static readonly object[] Steps = [new { id = "shape", activity = new { uniqueIdentifier = "transform" }, input = new { done = true } }];

    [Fact]
    public async Task FlakyReceiverAndAKill_DeliverEachOnceWithOneId_AndANeverAcceptingReceiverDeadLetters()
    {
        var notifications = BatteryScale.Pick(20, 100);
        var refused = BatteryScale.Pick(2, 5);
        var flaky = new FlakyReceiver();
        await using var receiver = await FakeHttpServer.StartAsync(flaky.HandleAsync);
        await using var refuser = await FakeHttpServer.StartAsync(context =>
        {
            context.Response.StatusCode = 503;
            return Task.CompletedTask;
        });
        var directory = TestDirectories.Create("webhook-faults");
        var adminKey = "cadre_test_admin_" + Guid.NewGuid().ToString("N");
        var environment = new Dictionary<string, string>
        {
            ["CADRE_ADMIN_KEY"] = adminKey,
            ["CADRE_OUTBOUND_ALLOW_PRIVATE_NETWORKS"] = "true",
            ["CADRE_RATE_LIMIT_PERMITS_PER_SECOND"] = "0",
            ["CADRE_WEBHOOKS_TIMEOUT"] = "00:00:05",
            ["CADRE_WEBHOOKS_FIRST_RETRY_DELAY"] = "00:00:00.100",
            ["CADRE_WEBHOOKS_MAX_RETRY_DELAY"] = "00:00:00.500",
            ["CADRE_WEBHOOKS_LEASE_DURATION"] = "00:00:06",
            ["CADRE_WEBHOOKS_POLL_INTERVAL"] = "00:00:00.100",
            // Long enough for the flaky receiver's deliveries to get through a kill and a restart; short
            // enough that the refusing receiver's end up dead within the test.
            ["CADRE_WEBHOOKS_GIVE_UP_AFTER"] = BatteryScale.IsFull ? "00:01:30" : "00:00:30",
        };
        var server = ServerProcess.Start(directory, environment);
        try
        {
            await server.WaitUntilListeningAsync();
            var admin = server.Client(adminKey);
            var name = Api.UniqueName("hooks");
            await (await admin.PostJsonAsync("/api/v1/workspaces", new { name })).ShouldBeAsync(HttpStatusCode.Created);
            var ownerKey = await admin.CreateKeyAsync(name, "owner");
            var workspace = new TestWorkspace(name, "", ownerKey, server.Client(ownerKey));
            var notified = await workspace.CreateFlowAsync(Steps, new { notifications = new { webhookUrl = receiver.Address.ToString() } });
            var deadEnd = await workspace.CreateFlowAsync(Steps, new { notifications = new { webhookUrl = refuser.Address.ToString() } });
            var runs = new List<string>();
            var refusedRuns = new List<string>();
            for (var i = 0; i < refused; i++)
            {
                refusedRuns.Add((string)(await workspace.StartAsync(deadEnd, wait: null))["id"]!);
            }

            for (var i = 0; i < notifications; i++)
            {
                // The last run's notification, or a retry that comes first, is held open for the kill.
                if (i == notifications - 1)
                {
                    flaky.HoldNext();
                }

                runs.Add((string)(await workspace.StartAsync(notified, wait: null))["id"]!);
            }

            var held = await flaky.Held.WaitAsync(TimeSpan.FromSeconds(60));
            flaky.Killing();
            await server.KillAsync();
            await server.DisposeAsync();
            var inFlightAtKill = await flaky.HeldAborted.WaitAsync(TimeSpan.FromSeconds(10));
            server = ServerProcess.Start(directory, environment);
            await server.WaitUntilListeningAsync();
            workspace = workspace with { Owner = server.Client(ownerKey) };

            var deliveries = await Eventually.HoldsAsync(
                () => workspace.ListAllAsync($"/api/v1/workspaces/{name}/deliveries"),
                all => all.Count >= notifications + refused && all.All(d => (string)d["status"]! is "delivered" or "dead"),
                "every delivery settled", seconds: BatteryScale.Pick(120, 300));
            var byRun = deliveries.GroupBy(d => (string)d["runId"]!).ToDictionary(g => g.Key, g => g.ToList());
            var requests = flaky.Requests();
            List<(string WebhookId, string RunId)> seen;
            lock (receiver.Requests)
            {
                seen = [.. receiver.Requests.Select(r => (r.Headers["webhook-id"], (string)JsonNode.Parse(r.Body)!["data"]!["runId"]!))];
            }

            // A run whose notification reached the receiver under more than one webhook-id.
            var idsChanged = seen.GroupBy(r => r.RunId).Count(g => g.Select(r => r.WebhookId).Distinct().Count() > 1);
            var accepted = requests.Where(r => r.Accepted).Select(r => r.WebhookId).ToHashSet();
            var delivered = runs.Count(r => byRun.TryGetValue(r, out var d) && d.Any(x => (string)x["status"]! == "delivered" && accepted.Contains((string)x["id"]!)));
            var dead = deliveries.Count(d => (string)d["status"]! == "dead");
            var lost = runs.Concat(refusedRuns).Count(r => !byRun.TryGetValue(r, out var d) || !d.Any(x => (string)x["status"]! == "dead" || accepted.Contains((string)x["id"]!)));
            var duplicated = byRun.Values.Sum(d => d.Count - 1);
            var heldDelivery = await (await workspace.Owner.GetAsync($"/api/v1/workspaces/{name}/deliveries/{held}")).ReadObjectAsync();
            BatteryReport.Reliability(output, 5, "outbound webhooks, SQLite", notifications + refused, delivered + dead, lost, duplicated, 0,
                ("delivered", delivered), ("dead-lettered", dead), ("receiver requests", requests.Count), ("failed attempts", requests.Count(r => !r.Accepted)),
                ("kill mid-attempt", inFlightAtKill ? "yes" : "no"), ("ids changed", idsChanged));

            inFlightAtKill.ShouldBeTrue("the kill landed while an attempt was in flight");
            ((string)heldDelivery["status"]!).ShouldBe("delivered");
            requests.Count(r => r.WebhookId == held).ShouldBeGreaterThan(1, "the attempt cut off by the kill was sent again");
            requests.Count(r => !r.Accepted).ShouldBeGreaterThan(notifications / 2, "the receiver failed attempts of every kind");
            idsChanged.ShouldBe(0);
            lost.ShouldBe(0);
            duplicated.ShouldBe(0);
            delivered.ShouldBe(notifications);
            dead.ShouldBe(refused);
            var deadLetters = await workspace.ListAllAsync($"/api/v1/workspaces/{name}/deliveries?status=dead");
            deadLetters.Select(d => (string)d["runId"]!).ShouldBe(refusedRuns, ignoreOrder: true);
            deadLetters.ShouldAllBe(d => (int)d["attempts"]! > 1 && (int)d["lastStatusCode"]! == 503);
        }
        finally
        {
            await server.DisposeAsync();
        }
    }

    /// <summary>
    /// Fails the first attempts of each notification it sees (0 to 3 of them, by order of arrival), in
    /// turn with a 500, no answer until the sender gives up, and a reset connection; then accepts. Can
    /// hold one attempt open for a kill.
    /// </summary>
    private sealed class FlakyReceiver
    {
        private readonly ConcurrentDictionary<string, int> _attempts = new();
        private readonly ConcurrentDictionary<string, int> _order = new();
        private readonly ConcurrentQueue<(string WebhookId, bool Accepted)> _requests = new();
        private readonly TaskCompletionSource<string> _held = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource<bool> _heldAborted = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _hold;
        private int _killing;

        /// <summary>The webhook-id of the attempt held open.</summary>
        public Task<string> Held => _held.Task;

        /// <summary>Whether the held attempt was still open when the kill began (not ended by the sender's timeout).</summary>
        public Task<bool> HeldAborted => _heldAborted.Task;

        public void HoldNext() => Volatile.Write(ref _hold, 1);

        public void Killing() => Volatile.Write(ref _killing, 1);

        public List<(string WebhookId, bool Accepted)> Requests() => [.. _requests];

        public async Task HandleAsync(HttpContext context)
        {
            var id = context.Request.Headers["webhook-id"].ToString();
            if (Interlocked.Exchange(ref _hold, 0) == 1)
            {
                _requests.Enqueue((id, false));
                _held.TrySetResult(id);
                await context.RequestAborted.WhenCanceledAsync();
                _heldAborted.TrySetResult(Volatile.Read(ref _killing) == 1);
                return;
            }

            var order = _order.GetOrAdd(id, _ => _order.Count);
            var attempt = _attempts.AddOrUpdate(id, 1, (_, n) => n + 1);
            var failures = order % 4;
            if (attempt > failures)
            {
                _requests.Enqueue((id, true));
                context.Response.StatusCode = 204;
                return;
            }

            _requests.Enqueue((id, false));
            switch ((order + attempt) % 3)
            {
                case 0:
                    context.Response.StatusCode = 500;
                    break;
                case 1:
                    // No answer: the sender's timeout ends the attempt.
                    await context.RequestAborted.WhenCanceledAsync();
                    break;
                default:
                    context.Abort();
                    break;
            }
        }
    }
}

internal static class CancellationTokenWaits
{
    /// <summary>Completes when the token is cancelled, without throwing.</summary>
    public static Task WhenCanceledAsync(this CancellationToken token)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        token.Register(() => done.TrySetResult());
        return done.Task;
    }
}
