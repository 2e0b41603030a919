using System.Text.Json.Nodes;
using Cadre.Storage;

namespace Cadre.Server.Tests.Runs;

/// <summary>run_workflow: a child run whose output becomes the step's, whose failure fails the step.</summary>
public sealed class ChildRunTests
{
    private static object Call(string workflow, bool wait = true) => new
    {
        id = "call",
        activity = new { uniqueIdentifier = "run_workflow" },
        input = new { workflow, input = new { n = "{{ context.body.n }}" }, wait },
        retryPolicy = new { maximumAttempts = 1 },
    };

    [Theory, AllDatabases]
    public async Task Child_ThatWaits_HandsItsOutputToTheParent(DatabaseKind db)
    {
        var app = await EngineApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        var slowChild = await workspace.CreateFlowAsync(
        [
            new { id = "nap", activity = new { uniqueIdentifier = "sleep" }, input = new { duration = "300ms" } },
            new { id = "double", activity = new { uniqueIdentifier = "transform" }, dependsOn = new[] { "nap" }, input = new { doubled = "{{ context.body.n * 2 }}" } },
        ]);
        var quickChild = await workspace.CreateFlowAsync([new { id = "double", activity = new { uniqueIdentifier = "transform" }, input = new { doubled = "{{ context.body.n * 2 }}" } }]);
        object[] Parent(string child) =>
        [
            Call(child),
            new { id = "use", activity = new { uniqueIdentifier = "transform" }, dependsOn = new[] { "call" }, input = new { result = "{{ steps.call.output.output.doubled }}" } },
        ];
        var slowParent = await workspace.CreateFlowAsync(Parent(slowChild));
        var quickParent = await workspace.CreateFlowAsync(Parent(quickChild));

        var slow = await workspace.StartAsync(slowParent, new { input = new { n = 21 } });
        var quick = await workspace.StartAsync(quickParent, new { input = new { n = 4 } });

        ((string)slow["status"]!).ShouldBe("succeeded", slow.ToJsonString());
        slow["output"]!.ToJsonString().ShouldBe("""{"result":42}""");
        ((string)quick["status"]!).ShouldBe("succeeded", quick.ToJsonString());
        quick["output"]!.ToJsonString().ShouldBe("""{"result":8}""");
        var childId = (string)RunApi.Step(slow, "call")["output"]!["runId"]!;
        var child = await workspace.GetRunAsync(childId);
        ((string)child["trigger"]!["type"]!).ShouldBe("child");
        ((string)child["trigger"]!["parentRunId"]!).ShouldBe((string)slow["id"]!);
        ((string)child["trigger"]!["parentStepId"]!).ShouldBe("call");
    }

    [Theory, AllDatabases]
    public async Task Child_ThatFails_FailsTheParentStep(DatabaseKind db)
    {
        var app = await EngineApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        var child = await workspace.CreateFlowAsync(
        [
            new { id = "nap", activity = new { uniqueIdentifier = "sleep" }, input = new { duration = "200ms" } },
            new { id = "broken", activity = new { uniqueIdentifier = "transform" }, dependsOn = new[] { "nap" }, input = new { n = "{{ 1 / context.body.missing.deeper }}" } },
        ]);
        var parent = await workspace.CreateFlowAsync([Call(child)]);

        var run = await workspace.StartAsync(parent, new { input = new { n = 1 } });

        ((string)run["status"]!).ShouldBe("failed", run.ToJsonString());
        ((string)run["error"]!["type"]!).ShouldBe("child_failed");
        ((string)run["error"]!["details"]!["status"]!).ShouldBe("failed");
    }

    [Theory, AllDatabases]
    public async Task Child_WithoutWaiting_AnswersItsRunAtOnce_AndUnknownWorkflowsFail(DatabaseKind db)
    {
        var app = await EngineApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        var child = await workspace.CreateFlowAsync([new { id = "nap", activity = new { uniqueIdentifier = "sleep" }, input = new { duration = "1s" } }]);
        var fireAndForget = await workspace.CreateFlowAsync([Call(child, wait: false)]);
        var missing = await workspace.CreateFlowAsync([Call("no-such-workflow")]);

        var run = await workspace.StartAsync(fireAndForget, new { input = new { n = 1 } });
        var failed = await workspace.StartAsync(missing, new { input = new { n = 1 } });

        ((string)run["status"]!).ShouldBe("succeeded");
        var childId = (string)run["output"]!["runId"]!;
        ((string)(await workspace.WaitForRunAsync(childId))["status"]!).ShouldBe("succeeded");
        ((string)failed["error"]!["type"]!).ShouldBe("workflow_not_found");
    }

    [Theory, AllDatabases]
    public async Task ParentThatFails_EndsTheChildItWaitedFor(DatabaseKind db)
    {
        var app = await EngineApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        await using var server = await FakeHttpServer.StartAsync(context =>
        {
            context.Response.StatusCode = 400;
            return Task.CompletedTask;
        });
        var child = await workspace.CreateFlowAsync([new { id = "nap", activity = new { uniqueIdentifier = "sleep" }, input = new { duration = "1m" } }]);
        var parent = await workspace.CreateFlowAsync(
        [
            Call(child),
            new { id = "pause", activity = new { uniqueIdentifier = "sleep" }, input = new { duration = "300ms" } },
            new { id = "boom", activity = new { uniqueIdentifier = "http" }, dependsOn = new[] { "pause" }, input = new { url = server.Address + "x" }, retryPolicy = new { maximumAttempts = 1 } },
        ]);

        var run = await workspace.StartAsync(parent, new { input = new { n = 1 } });

        ((string)run["status"]!).ShouldBe("failed", run.ToJsonString());
        var children = await workspace.ListAllAsync(workspace.Runs($"?workflow={child}"));
        var ended = await workspace.WaitForRunAsync((string)children.Single()["id"]!);
        ((string)ended["status"]!).ShouldBe("failed");
        ((string)ended["error"]!["type"]!).ShouldBe("cancelled");
        ((string)ended["error"]!["message"]!).ShouldContain((string)run["displayId"]!);
    }
}
