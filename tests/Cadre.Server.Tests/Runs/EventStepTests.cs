using System.Net;
using Cadre.Storage;

namespace Cadre.Server.Tests.Runs;

/// <summary>emit_event and wait_for_event: an emitted event wakes exactly the waits whose filters it passes; waits time out.</summary>
public sealed class EventStepTests
{
    private static async Task<TestWorkspace> WorkspaceWithOrderPaidAsync(DatabaseKind db)
    {
        var app = await EngineApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        var schema = new { type = "object", required = new[] { "orderId", "amount" }, properties = new { orderId = new { type = "string" }, amount = new { type = "number" } } };
        await (await workspace.Owner.PostJsonAsync($"/api/v1/workspaces/{workspace.Name}/event-types", new { name = "order.paid", schema })).ShouldBeAsync(HttpStatusCode.Created);
        return workspace;
    }

    private static object[] Waiter(string timeout) =>
    [
        new
        {
            id = "paid", activity = new { uniqueIdentifier = "wait_for_event" },
            input = new { eventType = "order.paid", timeout, filters = new Dictionary<string, object> { ["{{ event.payload.orderId }}"] = new Dictionary<string, object> { ["~eq"] = "{{ context.body.orderId }}" } } },
        },
        new { id = "after", activity = new { uniqueIdentifier = "transform" }, dependsOn = new[] { "paid" }, input = new { amount = "{{ steps.paid.output.event.payload.amount ?? 'none' }}", timedOut = "{{ steps.paid.output.timedOut ?? false }}" } },
    ];

    private static object[] Emitter(object payload) =>
        [new { id = "emit", activity = new { uniqueIdentifier = "emit_event" }, input = new { type = "order.paid", payload }, retryPolicy = new { maximumAttempts = 1 } }];

    [Theory, AllDatabases]
    public async Task EmittedEvent_WakesTheWaitItMatches_AndNoOther(DatabaseKind db)
    {
        var workspace = await WorkspaceWithOrderPaidAsync(db);
        var waiter = await workspace.CreateFlowAsync(Waiter("30s"));
        var emitter = await workspace.CreateFlowAsync(Emitter(new { orderId = "{{ context.body.orderId }}", amount = 12.5 }));
        var first = (string)(await workspace.StartAsync(waiter, new { input = new { orderId = "A-1" } }, wait: null))["id"]!;
        var second = (string)(await workspace.StartAsync(waiter, new { input = new { orderId = "A-2" } }, wait: null))["id"]!;
        await workspace.WaitForRunAsync(first, r => (string)r["status"]! == "waiting");
        await workspace.WaitForRunAsync(second, r => (string)r["status"]! == "waiting");

        var emitted = await workspace.StartAsync(emitter, new { input = new { orderId = "A-2" } });

        ((string)emitted["status"]!).ShouldBe("succeeded", emitted.ToJsonString());
        ((int)emitted["output"]!["woke"]!).ShouldBe(1);
        var woken = await workspace.WaitForRunAsync(second);
        ((string)woken["status"]!).ShouldBe("succeeded");
        woken["output"]!.ToJsonString().ShouldBe("""{"amount":12.5,"timedOut":false}""");
        ((string)(await workspace.GetRunAsync(first))["status"]!).ShouldBe("waiting");
        await workspace.Owner.PostAsync(workspace.Runs($"/{first}/halt"), null);
    }

    [Theory, AllDatabases]
    public async Task Wait_WithoutAMatchingEvent_TimesOut(DatabaseKind db)
    {
        var workspace = await WorkspaceWithOrderPaidAsync(db);
        var waiter = await workspace.CreateFlowAsync(Waiter("1s"));

        var run = await workspace.StartAsync(waiter, new { input = new { orderId = "never" } });

        ((string)run["status"]!).ShouldBe("succeeded", run.ToJsonString());
        run["output"]!.ToJsonString().ShouldBe("""{"amount":"none","timedOut":true}""");
    }

    [Theory, AllDatabases]
    public async Task Emit_RefusesUnknownReservedAndInvalidEvents(DatabaseKind db)
    {
        var workspace = await WorkspaceWithOrderPaidAsync(db);
        var invalid = await workspace.CreateFlowAsync(Emitter(new { orderId = 7 }));
        var reserved = await workspace.CreateFlowAsync([new { id = "emit", activity = new { uniqueIdentifier = "emit_event" }, input = new { type = "run.failed", payload = new { } } }]);
        var unknown = await workspace.CreateFlowAsync([new { id = "emit", activity = new { uniqueIdentifier = "emit_event" }, input = new { type = "order.lost", payload = new { } } }]);

        ((string)(await workspace.StartAsync(invalid))["error"]!["type"]!).ShouldBe("invalid_payload");
        ((string)(await workspace.StartAsync(reserved))["error"]!["type"]!).ShouldBe("reserved_event_type");
        ((string)(await workspace.StartAsync(unknown))["error"]!["type"]!).ShouldBe("unknown_event_type");
    }
}
