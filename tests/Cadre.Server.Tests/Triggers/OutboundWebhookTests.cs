using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Cadre.Server.Tests.Runs;
using Cadre.Server.Tests.Workflows;
using Cadre.Storage;
using Cadre.Triggers;
using Microsoft.AspNetCore.Http;

namespace Cadre.Server.Tests.Triggers;

/// <summary>Outbound webhooks: workflow notifications and event subscriptions, signed, retried with the same webhook-id until delivered.</summary>
public sealed class OutboundWebhookTests
{
    /// <summary>Fast retries, a short timeout and lease, and internal addresses allowed (the receivers are local).</summary>
    private static readonly Dictionary<string, string?> FastRetries = new(EngineApps.Settings)
    {
        ["Cadre:Webhooks:FirstRetryDelay"] = "00:00:00.050",
        ["Cadre:Webhooks:MaxRetryDelay"] = "00:00:00.200",
        ["Cadre:Webhooks:Timeout"] = "00:00:01",
        ["Cadre:Webhooks:LeaseDuration"] = "00:00:03",
        ["Cadre:Webhooks:PollInterval"] = "00:00:00.050",
    };

    private static readonly Dictionary<DatabaseKind, Lazy<Task<CadreApp>>> Apps = new()
    {
        [DatabaseKind.Sqlite] = new(() => CadreApp.StartAsync(DatabaseKind.Sqlite, FastRetries)),
        [DatabaseKind.Postgres] = new(() => CadreApp.StartAsync(DatabaseKind.Postgres, FastRetries)),
    };

    private static string Path(TestWorkspace workspace, string rest) => $"/api/v1/workspaces/{workspace.Name}/{rest}";

    private static async Task<JsonObject> DeliveredAsync(TestWorkspace workspace, string filter)
    {
        JsonObject? found = null;
        await Eventually.HoldsAsync(async () =>
        {
            found = (await workspace.ListAllAsync(Path(workspace, "deliveries?" + filter))).FirstOrDefault(d => (string)d["status"]! is "delivered" or "dead");
            return found is not null;
        }, $"a finished delivery ({filter})");
        return await (await workspace.Owner.GetAsync(Path(workspace, $"deliveries/{found!["id"]}"))).ReadObjectAsync();
    }

    [Theory, AllDatabases]
    public async Task Notification_SurvivesFailuresAndATimeout_SameWebhookIdOnEveryAttempt(DatabaseKind db)
    {
        var calls = 0;
        await using var receiver = await FakeHttpServer.StartAsync(async context =>
        {
            var call = Interlocked.Increment(ref calls);
            if (call <= 3)
            {
                context.Response.StatusCode = 500;
            }
            else if (call == 4)
            {
                // No answer until the sender gives up after its 1 s timeout: the attempt fails and is tried again.
                await NeverAnswerAsync(context);
            }
            else
            {
                context.Response.StatusCode = 204;
            }
        });
        var workspace = await (await Apps[db].Value).CreateWorkspaceAsync();
        var flow = await workspace.CreateFlowAsync(
            [new { id = "shape", activity = new { uniqueIdentifier = "transform" }, input = new { done = true } }],
            new { notifications = new { webhookUrl = new Uri(receiver.Address, "/notify").ToString() } });

        var run = await workspace.StartAsync(flow);
        var delivery = await DeliveredAsync(workspace, $"run={run["id"]}");

        ((string)delivery["status"]!).ShouldBe("delivered");
        ((int)delivery["attempts"]!).ShouldBe(5);
        var log = delivery["attemptLog"]!.AsArray();
        log.Select(a => (int?)a!["statusCode"]).ShouldBe([500, 500, 500, null, 204]);
        ((string)log[3]!["error"]!).ShouldContain("No answer within");
        List<string> ids;
        lock (receiver.Requests)
        {
            ids = [.. receiver.Requests.Select(r => r.Headers["webhook-id"])];
        }

        ids.Count.ShouldBe(5);
        ids.Distinct().ShouldBe([(string)delivery["id"]!]);
        var body = JsonNode.Parse(receiver.Requests[^1].Body)!;
        ((string)body["type"]!).ShouldBe("run.succeeded");
        ((string)body["data"]!["runId"]!).ShouldBe((string)run["id"]!);
        ((bool)body["data"]!["output"]!["done"]!).ShouldBeTrue();
    }

    /// <summary>Holds the request open until the sender hangs up.</summary>
    private static async Task NeverAnswerAsync(HttpContext context) =>
        await new TaskCompletionSource().Task.WaitAsync(context.RequestAborted).ContinueWith(_ => { }, TaskScheduler.Default);

    [Theory, AllDatabases]
    public async Task ServerKilledMidDelivery_DeliversAfterRestart_WithTheSameWebhookId(DatabaseKind db)
    {
        var first = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var receiver = await FakeHttpServer.StartAsync(async context =>
        {
            if (first.TrySetResult())
            {
                // The first attempt is in flight when the server dies.
                await NeverAnswerAsync(context);
            }
        });
        var directory = TestDirectories.Create("webhook-kill");
        var adminKey = "cadre_test_admin_" + Guid.NewGuid().ToString("N");
        var environment = new Dictionary<string, string>
        {
            ["CADRE_ADMIN_KEY"] = adminKey,
            ["CADRE_OUTBOUND_ALLOW_PRIVATE_NETWORKS"] = "true",
            // Long enough for the kill to land mid-attempt; the restarted node waits out the dead one's lease.
            ["CADRE_WEBHOOKS_TIMEOUT"] = "00:00:05",
            ["CADRE_WEBHOOKS_LEASE_DURATION"] = "00:00:06",
            ["CADRE_WEBHOOKS_POLL_INTERVAL"] = "00:00:00.100",
            ["CADRE_RATE_LIMIT_PERMITS_PER_SECOND"] = "0",
        };
        if (db == DatabaseKind.Postgres)
        {
            environment["CADRE_DATABASE"] = await TestPostgres.CreateDatabaseAsync();
        }

        var server = ServerProcess.Start(directory, environment);
        try
        {
            await server.WaitUntilListeningAsync();
            var admin = server.Client(adminKey);
            var name = Api.UniqueName("kill");
            await (await admin.PostJsonAsync("/api/v1/workspaces", new { name })).ShouldBeAsync(HttpStatusCode.Created);
            var ownerKey = await admin.CreateKeyAsync(name, "owner");
            var workspace = new TestWorkspace(name, "", ownerKey, server.Client(ownerKey));
            var flow = await workspace.CreateFlowAsync(
                [new { id = "shape", activity = new { uniqueIdentifier = "transform" }, input = new { done = true } }],
                new { notifications = new { webhookUrl = receiver.Address.ToString() } });
            await workspace.StartAsync(flow);
            await first.Task.WaitAsync(TimeSpan.FromSeconds(30));

            await server.KillAsync();
            await server.DisposeAsync();
            server = ServerProcess.Start(directory, environment);
            await server.WaitUntilListeningAsync();
            workspace = workspace with { Owner = server.Client(workspace.OwnerKey) };

            var delivery = await DeliveredAsync(workspace, "status=delivered");
            ((int)delivery["attempts"]!).ShouldBe(1);
            delivery["attemptLog"]!.AsArray().Count.ShouldBe(1);
            receiver.Requests.Count.ShouldBe(2);
            receiver.Requests.Select(r => r.Headers["webhook-id"]).Distinct().ShouldBe([(string)delivery["id"]!]);
        }
        finally
        {
            await server.DisposeAsync();
        }
    }

    [Theory, AllDatabases]
    public async Task Subscription_DeliversMatchingEventsSigned_OncePerEvent(DatabaseKind db)
    {
        await using var receiver = await FakeHttpServer.StartAsync(_ => Task.CompletedTask);
        var workspace = await (await Apps[db].Value).CreateWorkspaceAsync();
        await (await workspace.Owner.PostJsonAsync(Path(workspace, "event-types"), new { name = "order.paid" })).ShouldBeAsync(HttpStatusCode.Created);
        await (await workspace.Owner.PostJsonAsync(Path(workspace, "event-types"), new { name = "order.lost" })).ShouldBeAsync(HttpStatusCode.Created);
        var created = await workspace.Owner.PostJsonAsync(Path(workspace, "webhook-subscriptions"), new { url = receiver.Address.ToString(), eventTypes = new[] { "order.paid", "run.failed" } });
        await created.ShouldBeAsync(HttpStatusCode.Created);
        var subscription = await created.ReadObjectAsync();
        var secret = (string)subscription["secret"]!;
        secret.ShouldStartWith("whsec_");

        var paid = await (await workspace.Owner.PostJsonAsync(Path(workspace, "events"), new { type = "order.paid", payload = new { order = 7 } })).ReadObjectAsync();
        await (await workspace.Owner.PostJsonAsync(Path(workspace, "events"), new { type = "order.lost", payload = new { order = 8 } })).ShouldBeAsync(HttpStatusCode.Created);
        await (await workspace.Owner.PostAsync(Path(workspace, $"events/{paid["id"]}/replay"), null)).ShouldBeAsync(HttpStatusCode.OK);
        var failing = await workspace.CreateFlowAsync([new { id = "boom", activity = new { uniqueIdentifier = "http" }, input = new { url = "http://127.0.0.1:1/" }, retryPolicy = new { maximumAttempts = 1 } }]);
        await workspace.StartAsync(failing);

        var delivery = await DeliveredAsync(workspace, "eventType=order.paid");
        await DeliveredAsync(workspace, "eventType=run.failed");
        ((string)delivery["status"]!).ShouldBe("delivered");
        (await workspace.ListAllAsync(Path(workspace, "deliveries"))).Count.ShouldBe(2);
        var request = receiver.Requests.Single(r => r.Body.Contains("order.paid", StringComparison.Ordinal));
        var headers = request.Headers.ToDictionary(h => h.Key.ToLowerInvariant(), h => h.Value);
        WebhookSignatures.Verify("standard", headers, Encoding.UTF8.GetBytes(request.Body), [secret], DateTimeOffset.UtcNow, TimeSpan.FromMinutes(5)).ShouldBe(SignatureFailure.None);
        ((int)JsonNode.Parse(request.Body)!["data"]!["payload"]!["order"]!).ShouldBe(7);
        (await (await workspace.Owner.GetAsync(Path(workspace, $"webhook-subscriptions/{subscription["id"]}"))).ReadObjectAsync())["secret"].ShouldBeNull();

        await (await workspace.Owner.PostAsync(Path(workspace, $"deliveries/{delivery["id"]}/redeliver"), null)).ShouldBeAsync(HttpStatusCode.OK);
        await Eventually.HoldsAsync(() => receiver.Requests.Count(r => r.Headers["webhook-id"] == (string)delivery["id"]!) == 2, "redelivered with the same webhook-id");
    }

    [Theory, AllDatabases]
    public async Task Notification_IsSignedWithTheNamedSecret_AndHeldBackWhileItIsMissing(DatabaseKind db)
    {
        await using var receiver = await FakeHttpServer.StartAsync(_ => Task.CompletedTask);
        var workspace = await (await Apps[db].Value).CreateWorkspaceAsync();
        var flow = await workspace.CreateFlowAsync(
            [new { id = "shape", activity = new { uniqueIdentifier = "transform" }, input = new { done = true } }],
            new { notifications = new { webhookUrl = receiver.Address.ToString(), signingSecret = "notify" } });

        var held = await workspace.StartAsync(flow);
        await Eventually.HoldsAsync(
            async () => (await workspace.ListAllAsync(Path(workspace, $"deliveries?run={held["id"]}"))).SingleOrDefault() is { } d && d["lastError"] is not null,
            "the first attempt failed for want of the secret");
        var pending = (await workspace.ListAllAsync(Path(workspace, $"deliveries?run={held["id"]}"))).Single();
        ((string)pending["status"]!).ShouldBe("pending");
        ((string)pending["lastError"]!).ShouldContain("'notify' does not exist");
        receiver.Requests.ShouldBeEmpty();

        const string Secret = "whsec_bm90aWZpY2F0aW9uIHNpZ25pbmcgc2VjcmV0";
        await (await workspace.Owner.PostJsonAsync(Path(workspace, "secrets"), new { name = "notify", value = Secret })).ShouldBeAsync(HttpStatusCode.Created);
        var delivered = await DeliveredAsync(workspace, $"run={held["id"]}");

        ((string)delivered["status"]!).ShouldBe("delivered");
        var request = receiver.Requests.Single();
        var headers = request.Headers.ToDictionary(h => h.Key.ToLowerInvariant(), h => h.Value);
        WebhookSignatures.Verify("standard", headers, Encoding.UTF8.GetBytes(request.Body), [Secret], DateTimeOffset.UtcNow, TimeSpan.FromMinutes(5)).ShouldBe(SignatureFailure.None);
    }

    [Theory, AllDatabases]
    public async Task Deliveries_ToInternalAddresses_AreRefusedWithoutConnecting(DatabaseKind db)
    {
        await using var inside = await FakeHttpServer.StartAsync(_ => Task.CompletedTask);
        // A trusted host (allowed by name) that redirects inside: the redirect is not followed.
        await using var redirector = await FakeHttpServer.StartAsync(context =>
        {
            context.Response.StatusCode = 302;
            context.Response.Headers.Location = inside.Address.ToString();
            return Task.CompletedTask;
        });
        var guarded = new Dictionary<string, string?>(FastRetries) { ["Cadre:Outbound:AllowPrivateNetworks"] = "false", ["Cadre:Outbound:AllowedHosts:0"] = "localhost" };
        await using var app = await CadreApp.StartAsync(db, guarded);
        var workspace = await app.CreateWorkspaceAsync();
        await (await workspace.Owner.PostJsonAsync(Path(workspace, "event-types"), new { name = "probe" })).ShouldBeAsync(HttpStatusCode.Created);
        var port = inside.Address.Port;
        string[] targets =
        [
            $"http://127.0.0.1:{port}/", $"http://[::1]:{port}/", "http://169.254.169.254/latest/meta-data/", "http://[::ffff:169.254.169.254]/",
            $"http://0x7f000001:{port}/", $"http://2130706433:{port}/", "http://10.0.0.1/", $"http://localhost:{redirector.Address.Port}/",
        ];
        foreach (var url in targets)
        {
            await (await workspace.Owner.PostJsonAsync(Path(workspace, "webhook-subscriptions"), new { url, eventTypes = new[] { "probe" } })).ShouldBeAsync(HttpStatusCode.Created);
        }

        await (await workspace.Owner.PostJsonAsync(Path(workspace, "events"), new { type = "probe" })).ShouldBeAsync(HttpStatusCode.Created);

        await Eventually.HoldsAsync(
            async () => (await workspace.ListAllAsync(Path(workspace, "deliveries"))) is { Count: 8 } all && all.All(d => (int)d["attempts"]! >= 1),
            "every delivery attempted");
        var deliveries = await workspace.ListAllAsync(Path(workspace, "deliveries"));
        foreach (var delivery in deliveries.Where(d => !((string)d["url"]!).Contains("localhost", StringComparison.Ordinal)))
        {
            ((string)delivery["lastError"]!).ShouldContain("private, loopback, link-local or metadata address", customMessage: (string)delivery["url"]!);
        }

        ((string)deliveries.Single(d => ((string)d["url"]!).Contains("localhost", StringComparison.Ordinal))["lastError"]!).ShouldContain("do not follow redirects");
        inside.Requests.ShouldBeEmpty();
    }

    [Theory, AllDatabases]
    public async Task Subscriptions_RefuseBadInput_AndKeepOutOfOtherWorkspaces(DatabaseKind db)
    {
        var app = await Apps[db].Value;
        var workspace = await app.CreateWorkspaceAsync();
        var other = await app.CreateWorkspaceAsync();

        foreach (var url in new[] { "file:///etc/passwd", "ftp://example.com/", "not a url", "https://user:pass@example.com/" })
        {
            (await (await workspace.Owner.PostJsonAsync(Path(workspace, "webhook-subscriptions"), new { url, eventTypes = new[] { "*" } }))
                .ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity)).Errors!.Keys.ShouldContain("url");
        }

        (await (await workspace.Owner.PostJsonAsync(Path(workspace, "webhook-subscriptions"), new { url = "https://example.com/", eventTypes = Array.Empty<string>() }))
            .ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity)).Errors!.Keys.ShouldContain("eventTypes");
        await (await workspace.Owner.PostJsonAsync(Path(workspace, "webhook-subscriptions"), new { url = "https://example.com/", eventTypes = new[] { "*" }, colour = 1 }))
            .ShouldBeProblemAsync(HttpStatusCode.BadRequest);
        var created = await (await workspace.Owner.PostJsonAsync(Path(workspace, "webhook-subscriptions"), new { url = "https://example.com/", eventTypes = new[] { "*" } })).ReadObjectAsync();
        await (await other.Owner.GetAsync(Path(other, $"webhook-subscriptions/{created["id"]}"))).ShouldBeProblemAsync(HttpStatusCode.NotFound);
        await (await workspace.Owner.PatchJsonAsync(Path(workspace, $"webhook-subscriptions/{created["id"]}"), new { isActive = false }, ifMatch: "\"7\""))
            .ShouldBeProblemAsync(HttpStatusCode.PreconditionFailed);
        var editor = app.Client(await workspace.Owner.CreateKeyAsync(workspace.Name, "editor"));
        await (await editor.PostJsonAsync(Path(workspace, "webhook-subscriptions"), new { url = "https://example.com/", eventTypes = new[] { "*" } }))
            .ShouldBeProblemAsync(HttpStatusCode.Forbidden);
        await (await workspace.Owner.GetAsync(Path(workspace, "deliveries?status=lost"))).ShouldBeProblemAsync(HttpStatusCode.BadRequest);
        await (await workspace.Owner.PostAsync(Path(workspace, "deliveries/msg_unknown/redeliver"), null)).ShouldBeProblemAsync(HttpStatusCode.NotFound);

        var rotated = await (await workspace.Owner.PostAsync(Path(workspace, $"webhook-subscriptions/{created["id"]}/rotate-secret"), null)).ReadObjectAsync();
        ((string)rotated["secret"]!).ShouldNotBe((string)created["secret"]!);
        await (await workspace.Owner.DeleteAsync(Path(workspace, $"webhook-subscriptions/{created["id"]}"))).ShouldBeAsync(HttpStatusCode.NoContent);
        await (await workspace.Owner.GetAsync(Path(workspace, $"webhook-subscriptions/{created["id"]}"))).ShouldBeProblemAsync(HttpStatusCode.NotFound);
    }
}
