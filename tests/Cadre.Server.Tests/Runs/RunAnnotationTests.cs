using System.Net;
using Cadre.Server.Tests.Workflows;
using Cadre.Storage;

namespace Cadre.Server.Tests.Runs;

/// <summary>The run and event annotators, and annotations fetched at a run's start.</summary>
public sealed class RunAnnotationTests
{
    [Theory, AllDatabases]
    public async Task RunAndEventAnnotators_FetchIntoTheContext_AtAnnotateAndAtRunStart(DatabaseKind db)
    {
        var app = await EngineApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        await (await workspace.Owner.PostJsonAsync($"/api/v1/workspaces/{workspace.Name}/event-types", new { name = "order.paid", schema = new { type = "object" } })).ShouldBeAsync(HttpStatusCode.Created);
        var emitter = await workspace.CreateFlowAsync([new { id = "emit", activity = new { uniqueIdentifier = "emit_event" }, input = new { type = "order.paid", payload = new { orderId = "A-9" } } }]);
        var earlier = await workspace.StartAsync(emitter);
        var eventId = (string)earlier["output"]!["eventId"]!;
        var enriched = await workspace.CreateFlowAsync(
            [new { id = "use", activity = new { uniqueIdentifier = "transform" }, input = new { previous = "{{ context.annotations.previous.status }}", order = "{{ context.annotations.paid.payload.orderId }}" } }],
            new
            {
                annotations = new object[]
                {
                    new { id = "previous", annotator = "run", input = new { id = "{{ context.body.run }}" } },
                    new { id = "paid", annotator = "event", input = new { id = "{{ context.body.event }}" } },
                },
            });

        var annotated = await workspace.Owner.PostJsonAsync(workspace.Workflows($"/{enriched}/annotate"), new { context = new { body = new { run = earlier["id"], @event = eventId } } });
        var run = await workspace.StartAsync(enriched, new { input = new { run = earlier["id"], @event = eventId } });
        var missing = await workspace.StartAsync(enriched, new { input = new { run = "run_nope", @event = eventId } });

        await annotated.ShouldBeAsync(HttpStatusCode.OK);
        var context = (await annotated.ReadObjectAsync())["context"]!;
        ((string)context["annotations"]!["previous"]!["displayId"]!).ShouldBe((string)earlier["displayId"]!);
        ((string)context["annotations"]!["paid"]!["type"]!).ShouldBe("order.paid");
        ((string)run["status"]!).ShouldBe("succeeded", run.ToJsonString());
        run["output"]!.ToJsonString().ShouldBe("""{"previous":"succeeded","order":"A-9"}""");
        ((string)missing["status"]!).ShouldBe("failed");
        ((string)missing["error"]!["type"]!).ShouldBe("annotation_failed");
        ((string)missing["error"]!["message"]!).ShouldContain("run_nope");
    }
}
