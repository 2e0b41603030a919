using System.Net;
using System.Net.Http.Headers;
using Cadre.Server.Tests.Runs;
using Cadre.Storage;

namespace Cadre.Server.Tests.Observability;

/// <summary><c>GET /metrics</c>: this node's metrics in the Prometheus text format, counted right and free of tenant data.</summary>
public sealed class MetricsEndpointTests
{
    private const string Key = "sk-fake-metrics-key-0123456789";

    [Theory, AllDatabases]
    public async Task Metrics_AfterRuns_CountRunsByStatus_StepDurations_ModelTokensAndStreams(DatabaseKind db)
    {
        // An app of its own: its counts are its runs' alone, whatever other apps in the process do.
        await using var app = await CadreApp.StartAsync(db, EngineApps.Settings);
        var workspace = await app.CreateWorkspaceAsync();
        await using var model = await FakeModelServer.StartAsync();
        await (await workspace.Owner.PostJsonAsync($"/api/v1/workspaces/{workspace.Name}/providers", new
        {
            name = "fake", kind = "openai", baseUrl = model.OpenAIEndpoint.ToString(), apiKey = Key,
        })).ShouldBeAsync(HttpStatusCode.Created);
        model.Enqueue(new FakeReply { Text = "Fine.", InputTokens = 40, OutputTokens = 2 });
        var fine = await workspace.CreateFlowAsync(
        [
            new { id = "nap", activity = new { uniqueIdentifier = "sleep" }, input = new { duration = "1ms" } },
            new { id = "shape", activity = new { uniqueIdentifier = "transform" }, dependsOn = new[] { "nap" }, input = new { ok = true } },
        ]);
        var broken = await workspace.CreateFlowAsync([new { id = "bad", activity = new { uniqueIdentifier = "transform" }, input = new { x = "{{ 1 / 0 }}" } }]);
        var asks = await workspace.CreateFlowAsync([new { id = "ask", activity = new { uniqueIdentifier = "llm" }, input = new { model = new { provider = "fake", model = "gpt-4o-mini" }, prompt = "Hi" } }]);

        var runIds = new List<string>();
        foreach (var flow in new[] { fine, fine, broken, asks })
        {
            runIds.Add((string)(await workspace.StartAsync(flow))["id"]!);
        }

        using var anonymous = app.Client();
        // A worker records its attempt's duration just after the commit that ends the attempt, and that
        // commit can end the run and answer the waiting start first: wait until the workers' steps are in.
        var samples = await Eventually.HoldsAsync(
            () => Exposition.ScrapeAsync(anonymous),
            s => s.Find("cadre_step_duration_seconds_count", ("cadre_activity", "sleep"), ("cadre_outcome", "waiting"))?.Value >= 2
                && s.Find("cadre_step_duration_seconds_count", ("cadre_activity", "llm"), ("cadre_outcome", "succeeded")) is not null,
            "the workers' step durations are recorded");
        samples.Find("cadre_runs_finished_total", ("cadre_run_status", "succeeded"))!.Value.ShouldBe(3);
        samples.Find("cadre_runs_finished_total", ("cadre_run_status", "failed"))!.Value.ShouldBe(1);
        samples.Find("cadre_runs_started_total", ("cadre_run_trigger", "manual"))!.Value.ShouldBe(4);
        // Two sleeps and one model call ran in workers; three transforms ran inline (one of them failed).
        samples.Find("cadre_step_duration_seconds_count", ("cadre_activity", "sleep"), ("cadre_outcome", "waiting"))!.Value.ShouldBe(2);
        samples.Find("cadre_step_duration_seconds_count", ("cadre_activity", "transform"), ("cadre_outcome", "succeeded"))!.Value.ShouldBe(2);
        samples.Find("cadre_step_duration_seconds_count", ("cadre_activity", "transform"), ("cadre_outcome", "failed"))!.Value.ShouldBe(1);
        samples.Find("cadre_step_duration_seconds_bucket", ("cadre_activity", "llm"), ("cadre_outcome", "succeeded"), ("le", "+Inf"))!.Value.ShouldBe(1);
        samples.Where(s => s.Name == "cadre_step_duration_seconds_bucket" && s.Has("cadre_activity", "sleep")).Count().ShouldBeGreaterThan(10);
        samples.Find("gen_ai_client_token_usage_sum", ("gen_ai_token_type", "input"), ("gen_ai_request_model", "gpt-4o-mini"), ("gen_ai_provider_name", "openai"))!.Value.ShouldBe(40);
        samples.Find("gen_ai_client_token_usage_sum", ("gen_ai_token_type", "output"), ("gen_ai_request_model", "gpt-4o-mini"))!.Value.ShouldBe(2);
        samples.Find("cadre_model_cost_total", ("gen_ai_request_model", "gpt-4o-mini")).ShouldNotBeNull();

        // A stream counts while it is open, and no longer once it closes.
        samples.Find("cadre_sse_subscribers")?.Value.ShouldBe(0);
        using (var stream = await workspace.Owner.GetAsync($"/api/v1/workspaces/{workspace.Name}/stream", HttpCompletionOption.ResponseHeadersRead))
        {
            await stream.ShouldBeAsync(HttpStatusCode.OK);
            await Eventually.HoldsAsync(async () => (await Exposition.ScrapeAsync(anonymous)).Find("cadre_sse_subscribers")?.Value == 1, "the open stream counts");
        }

        await Eventually.HoldsAsync(async () => (await Exposition.ScrapeAsync(anonymous)).Find("cadre_sse_subscribers")?.Value == 0, "the closed stream no longer counts");

        // No tenant's names or IDs: only fixed label sets.
        var text = await Exposition.ScrapeTextAsync(anonymous);
        foreach (var tenantData in (string[])[workspace.Id, workspace.Name, fine, broken, asks, .. runIds])
        {
            text.ShouldNotContain(tenantData);
        }
    }

    [Fact]
    public async Task QueueGauges_ShowTheTasksWaitingForAWorker()
    {
        // No workers here: a run's first side-effecting step stays in the queue.
        await using var app = await CadreApp.StartAsync(DatabaseKind.Sqlite, new Dictionary<string, string?>
        {
            ["Cadre:Engine:Enabled"] = "false",
            ["Cadre:Telemetry:QueueSampleInterval"] = "00:00:00.100",
        });
        var workspace = await app.CreateWorkspaceAsync();
        var flow = await workspace.CreateFlowAsync([new { id = "nap", activity = new { uniqueIdentifier = "sleep" }, input = new { duration = "1ms" } }]);
        using var anonymous = app.Client();

        await workspace.StartAsync(flow, wait: null);
        await workspace.StartAsync(flow, wait: null);

        var samples = await Eventually.HoldsAsync(() => Exposition.ScrapeAsync(anonymous), s => s.Find("cadre_queue_depth")?.Value == 2, "both queued tasks are sampled");
        samples.Find("cadre_queue_oldest_age_seconds")!.Value.ShouldBeGreaterThanOrEqualTo(0);
    }

    [Fact]
    public async Task ScrapeToken_IsRequiredWhenSet()
    {
        await using var app = await CadreApp.StartAsync(DatabaseKind.Sqlite, new Dictionary<string, string?> { ["Cadre:Metrics:ScrapeToken"] = "scrape-me-0123456789" });
        using var client = app.Client();

        (await (await client.GetAsync("/metrics")).ShouldBeProblemAsync(HttpStatusCode.Unauthorized)).Detail!.ShouldContain("Cadre:Metrics:ScrapeToken");
        using var wrong = new HttpRequestMessage(HttpMethod.Get, "/metrics") { Headers = { Authorization = new AuthenticationHeaderValue("Bearer", "scrape-me-9876543210") } };
        await (await client.SendAsync(wrong)).ShouldBeProblemAsync(HttpStatusCode.Unauthorized);
        // An API key is not the scrape token, even the admin's.
        await (await app.AdminClient().GetAsync("/metrics")).ShouldBeProblemAsync(HttpStatusCode.Unauthorized);

        using var right = new HttpRequestMessage(HttpMethod.Get, "/metrics") { Headers = { Authorization = new AuthenticationHeaderValue("Bearer", "scrape-me-0123456789") } };
        var response = await client.SendAsync(right);
        await response.ShouldBeAsync(HttpStatusCode.OK);
        (await response.Content.ReadAsStringAsync()).ShouldContain("# TYPE ");
    }

    [Fact]
    public async Task Metrics_Disabled_AnswersNotFound()
    {
        await using var app = await CadreApp.StartAsync(DatabaseKind.Sqlite, new Dictionary<string, string?> { ["Cadre:Metrics:Enabled"] = "false" });
        using var client = app.Client();

        await (await client.GetAsync("/metrics")).ShouldBeProblemAsync(HttpStatusCode.NotFound);
    }
}
