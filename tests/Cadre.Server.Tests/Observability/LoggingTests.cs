using System.Text.Json.Nodes;
using Cadre.Server.Tests.Runs;
using Cadre.Storage;

namespace Cadre.Server.Tests.Observability;

/// <summary>Log lines say which workspace, run, step and attempt they are about; levels are set per category; JSON on request.</summary>
public sealed class LoggingTests
{
    private const string CommandCategory = "Microsoft.EntityFrameworkCore.Database.Command";

    [Fact]
    public async Task AttemptAndWorkspaceRequestLogs_CarryTheirIds_AndLevelsFollowEachCategorysSetting()
    {
        // EF Core's commands are Warning and up by default (appsettings.json); here Information, so every
        // query an attempt or a request makes logs a line. Secrets' key-file notice is silenced.
        await using var app = await CadreApp.StartAsync(DatabaseKind.Sqlite, new Dictionary<string, string?>(EngineApps.Settings)
        {
            [$"Logging:LogLevel:{CommandCategory}"] = "Information",
            ["Logging:LogLevel:Cadre.Secrets"] = "Warning",
        });
        var workspace = await app.CreateWorkspaceAsync();
        var flow = await workspace.CreateFlowAsync([new { id = "nap", activity = new { uniqueIdentifier = "sleep" }, input = new { duration = "1ms" } }]);

        var runId = (string)(await workspace.StartAsync(flow))["id"]!;
        await workspace.GetRunAsync(runId);

        var commands = app.Logs.Entries.Where(e => e.Category == CommandCategory).ToList();
        commands.ShouldContain(e => Equals(e.Scopes.GetValueOrDefault("RunId"), runId) && Equals(e.Scopes.GetValueOrDefault("StepId"), "nap")
            && Equals(e.Scopes.GetValueOrDefault("WorkspaceId"), workspace.Id) && Equals(e.Scopes.GetValueOrDefault("Attempt"), 1));
        commands.ShouldContain(e => Equals(e.Scopes.GetValueOrDefault("WorkspaceId"), workspace.Id)
            && Equals(e.Scopes.GetValueOrDefault("RequestPath"), workspace.Runs($"/{runId}")));
        app.Logs.Entries.ShouldNotContain(e => e.Category.StartsWith("Cadre.Secrets", StringComparison.Ordinal) && e.Level < Microsoft.Extensions.Logging.LogLevel.Warning);
        // Where nothing silences it, the notice is there (so the check above can fail).
        (await SharedApps.Get(DatabaseKind.Sqlite)).Logs.Entries.ShouldContain(e => e.Category == "Cadre.Secrets.EncryptionKeyInitializer");
    }

    [Fact]
    public async Task JsonFormat_WritesOneObjectPerLine_WithScopesAndUtcTimes_AndLevelsFromEnvironmentVariables()
    {
        var adminKey = "cadre_test_admin_" + Guid.NewGuid().ToString("N");
        await using var server = ServerProcess.Start(TestDirectories.Create("process"), new Dictionary<string, string>
        {
            ["CADRE_DATABASE"] = "sqlite",
            ["CADRE_ADMIN_KEY"] = adminKey,
            ["CADRE_LOGGING_FORMAT"] = "json",
            ["CADRE_ENGINE_POLL_INTERVAL"] = "00:00:00.100",
            [$"Logging__LogLevel__{CommandCategory}"] = "Information",
        });
        await server.WaitUntilListeningAsync();
        using var admin = server.Client(adminKey);
        var name = Api.UniqueName("ws");
        var workspaceId = (string)(await (await admin.PostJsonAsync("/api/v1/workspaces", new { name })).ReadObjectAsync())["id"]!;
        var body = Workflows.WorkflowApi.Body("json-logs");
        body["steps"] = JsonNode.Parse("""[{"id": "nap", "activity": {"uniqueIdentifier": "sleep"}, "input": {"duration": "1ms"}}]""");
        await (await admin.PostAsync($"/api/v1/workspaces/{name}/workflows", Api.JsonContent(body))).ShouldBeAsync(System.Net.HttpStatusCode.Created);

        var run = await (await admin.PostJsonAsync($"/api/v1/workspaces/{name}/workflows/json-logs/runs?wait=30s", new { })).ReadObjectAsync();

        ((string)run["status"]!).ShouldBe("succeeded", run.ToJsonString());
        var runId = (string)run["id"]!;
        var lines = await Eventually.HoldsAsync(
            () => JsonLines(server.Output),
            all => all.Any(l => (string?)l["Category"] == CommandCategory && Scopes(l).Any(s => (string?)s["RunId"] == runId && (string?)s["StepId"] == "nap")),
            "an attempt's query is logged with its run and step");
        var attempt = lines.First(l => (string?)l["Category"] == CommandCategory && Scopes(l).Any(s => (string?)s["RunId"] == runId && (string?)s["StepId"] == "nap"));
        var scope = Scopes(attempt).First(s => (string?)s["RunId"] == runId);
        ((string?)scope["WorkspaceId"]).ShouldBe(workspaceId);
        ((int?)scope["Attempt"]).ShouldBe(1);
        ((string)attempt["Timestamp"]!).ShouldEndWith("Z");
        ((string)attempt["LogLevel"]!).ShouldBe("Information");
        lines.ShouldContain(l => (string?)l["Category"] == CommandCategory && Scopes(l).Any(s => (string?)s["WorkspaceId"] == workspaceId && s["RequestPath"] == null)
            && Scopes(l).Any(s => s["RequestPath"] != null));
    }

    [Theory]
    [InlineData("CADRE_LOGGING_FORMAT", "xml", "Cadre:Logging:Format (CADRE_LOGGING_FORMAT) must be text or json")]
    [InlineData("CADRE_TELEMETRY_QUEUE_SAMPLE_INTERVAL", "00:00:00.001", "Cadre:Telemetry:QueueSampleInterval (CADRE_TELEMETRY_QUEUE_SAMPLE_INTERVAL) must be between")]
    public async Task TelemetrySettingThatCannotWork_RefusesToStartSayingWhy(string variable, string value, string reason)
    {
        await using var server = ServerProcess.Start(TestDirectories.Create("process"), new Dictionary<string, string> { ["CADRE_DATABASE"] = "sqlite", [variable] = value });

        (await server.WaitForExitAsync()).ShouldBe(1);
        server.Output.ShouldContain("Cadre cannot start: ");
        server.Output.ShouldContain(reason);
    }

    private static List<JsonObject> JsonLines(string output) =>
        [.. output.Split('\n').Select(l => l.Trim()).Where(l => l.StartsWith('{')).Select(l => JsonNode.Parse(l)!.AsObject())];

    private static IEnumerable<JsonObject> Scopes(JsonObject line) => (line["Scopes"] as JsonArray ?? []).OfType<JsonObject>();
}
