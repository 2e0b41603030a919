using System.Net;
using System.Text.Json.Nodes;
using Cadre.Storage;
using Microsoft.AspNetCore.Http;

namespace Cadre.Server.Tests.Runs;

public sealed class RunSemanticsTests
{
    [Theory, AllDatabases]
    public async Task Start_ChainOfTransforms_RunsInlineAndAnswersTheLastOutput(DatabaseKind db)
    {
        var app = await EngineApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        var steps = Enumerable.Range(1, 40).Select(i => (object)new
        {
            id = $"s{i}",
            activity = new { uniqueIdentifier = "transform" },
            dependsOn = i == 1 ? Array.Empty<string>() : [$"s{i - 1}"],
            input = new { id = i == 1 ? "{{ context.body.id }}" : $"{{{{ steps.s{i - 1}.output.id }}}}", counter = i == 1 ? "{{ context.body.counter + 1 }}" : $"{{{{ steps.s{i - 1}.output.counter + 1 }}}}" },
        }).ToArray();
        var flow = await workspace.CreateFlowAsync(steps);

        var run = await workspace.StartAsync(flow, new { input = new { id = 7, counter = 0 } });

        ((string)run["status"]!).ShouldBe("succeeded");
        run["output"]!.ToJsonString().ShouldBe("""{"id":7,"counter":40}""");
        ((string)run["displayId"]!).ShouldBe($"{flow.ToUpperInvariant()}-1");
        var tasks = await workspace.ListAllAsync(workspace.Runs($"/{run["id"]}/tasks"));
        tasks.Count.ShouldBe(40);
        tasks.ShouldAllBe(t => (string)t["status"]! == "succeeded");
        var events = await workspace.ListAllAsync(workspace.Runs($"/{run["id"]}/events"));
        events.Count(e => (string)e["type"]! == "step" && (string)e["data"]!["status"]! == "succeeded").ShouldBe(40);
        events.Select(e => (long)e["id"]!).ShouldBeInOrder();
    }
}
