using System.Text.Json.Nodes;
using Cadre.Server.Tests.Infrastructure;
using Cadre.Server.Tests.Personas;
using Cadre.Server.Tests.Runs;
using Cadre.Storage;

namespace Cadre.Server.Tests.Llm;

public sealed class TriageStepTests
{
    // Candidate 0 is a fair match, 1 is not, 2 is the best.
    private const string Scores = """json:{"scores": [{"index": 0, "confidence": 0.6, "reason": "billing"}, {"index": 1, "confidence": 0.2, "reason": "shipping"}, {"index": 2, "confidence": 0.9, "reason": "refund"}]}""";

    private static readonly string[] Candidates = ["Invoice is wrong", "Parcel is late", "I want my money back"];

    private static JsonObject TriageStep(object extra)
    {
        var input = new JsonObject { ["persona"] = "billing", ["candidates"] = new JsonArray([.. Candidates.Select(c => (JsonNode)c)]) };
        foreach (var (key, value) in JsonNode.Parse(Api.Serialize(extra))!.AsObject())
        {
            input[key] = value?.DeepClone();
        }

        return new JsonObject { ["id"] = "pick", ["activity"] = new JsonObject { ["uniqueIdentifier"] = "triage" }, ["input"] = input };
    }

    private static IEnumerable<string> Picked(JsonObject run, string list = "selected") =>
        RunApi.Step(run, "pick")["output"]![list]!.AsArray().Select(s => (string)s!["candidate"]!);

    [Theory, AllDatabases]
    public async Task Strategies_PickFromTheCandidatesAboveTheThreshold(DatabaseKind db)
    {
        var app = await EngineApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        await workspace.CreatePersonaAsync("billing", new { model = new { provider = "mock", model = Scores }, filter = new { confidenceThreshold = 0.5 } });
        var highest = await workspace.CreateFlowAsync([TriageStep(new { })]);
        var first = await workspace.CreateFlowAsync([TriageStep(new { issueSelectionStrategy = "first_match" })]);
        var all = await workspace.CreateFlowAsync([TriageStep(new { issueSelectionStrategy = "all_above_threshold" })]);
        var strict = await workspace.CreateFlowAsync([TriageStep(new { issueSelectionStrategy = "all_above_threshold", confidenceThreshold = 0.95 })]);
        var turns = await workspace.CreateFlowAsync([TriageStep(new { issueSelectionStrategy = "round_robin" })]);

        var byHighest = await workspace.StartAsync(highest);
        Picked(byHighest).ShouldBe(["I want my money back"]);
        Picked(byHighest, "rejected").ShouldBe(["Invoice is wrong", "Parcel is late"]);
        ((string)RunApi.Step(byHighest, "pick")["output"]!["rejected"]![1]!["reason"]!).ShouldBe("shipping");
        Picked(await workspace.StartAsync(first)).ShouldBe(["Invoice is wrong"]);
        Picked(await workspace.StartAsync(all)).ShouldBe(["I want my money back", "Invoice is wrong"]);
        Picked(await workspace.StartAsync(strict)).ShouldBeEmpty();
        var rotation = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            rotation.AddRange(Picked(await workspace.StartAsync(turns)));
        }

        rotation.ShouldBe(["Invoice is wrong", "I want my money back", "Invoice is wrong"]);
    }

    [Fact]
    public async Task NotScoredAsAsked_FailsTheAttempt()
    {
        var app = await EngineApps.Get(DatabaseKind.Sqlite);
        var workspace = await app.CreateWorkspaceAsync();
        await workspace.CreatePersonaAsync("billing", new { model = new { provider = "mock", model = "reply:They all look fine to me." } });
        var flow = await workspace.CreateFlowAsync([TriageStep(new { })], extra: new { defaults = new { retryPolicy = new { maximumAttempts = 1 } } });

        var run = await workspace.StartAsync(flow);

        ((string)run["status"]!).ShouldBe("failed");
        ((string)RunApi.Step(run, "pick")["error"]!["type"]!).ShouldBe("invalid_output");
    }
}
