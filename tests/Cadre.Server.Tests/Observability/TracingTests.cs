using System.Diagnostics;
using System.Net;
using Cadre.Nodes;
using Cadre.Server.Tests.Runs;
using Cadre.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace Cadre.Server.Tests.Observability;

/// <summary>A run's spans, wherever its attempts ran, land in the trace of the request that started it.</summary>
public sealed class TracingTests
{
    private const string Key = "sk-fake-trace-key-0123456789";

    [Theory, AllDatabases]
    public async Task Run_YieldsARunSpan_AttemptSpansWithRetries_AndAModelCallUnderItsAttempt_InTheStartingRequestsTrace(DatabaseKind db)
    {
        var spans = new SpanCollector();
        await using var app = await CadreApp.StartAsync(db, EngineApps.Settings, spans.Register());
        var workspace = await app.CreateWorkspaceAsync();
        await using var model = await FakeModelServer.StartAsync();
        await (await workspace.Owner.PostJsonAsync($"/api/v1/workspaces/{workspace.Name}/providers", new
        {
            name = "fake", kind = "openai", baseUrl = model.OpenAIEndpoint.ToString(), apiKey = Key,
        })).ShouldBeAsync(HttpStatusCode.Created);
        model.Enqueue(new FakeReply { Text = "All quiet.", InputTokens = 12, OutputTokens = 3 });
        var calls = 0;
        await using var flaky = await FakeHttpServer.StartAsync(context =>
        {
            context.Response.StatusCode = Interlocked.Increment(ref calls) == 1 ? 503 : 200;
            return Task.CompletedTask;
        });
        var flow = await workspace.CreateFlowAsync(
        [
            new { id = "fetch", activity = new { uniqueIdentifier = "http" }, input = new { url = flaky.Address + "status" }, retryPolicy = new { maximumAttempts = 3, initialInterval = "10ms" } },
            new { id = "ask", activity = new { uniqueIdentifier = "llm" }, dependsOn = new[] { "fetch" }, input = new { model = new { provider = "fake", model = "gpt-4o" }, prompt = "Secret plan: {{ context.body.plan }}" } },
            new { id = "shape", activity = new { uniqueIdentifier = "transform" }, dependsOn = new[] { "ask" }, input = new { answer = "{{ steps.ask.output.text }}" } },
        ]);
        var trace = ClientTrace(out var caller);

        var run = await workspace.StartAsync(flow, new { input = new { plan = "launch at dawn" } });
        caller.Dispose();

        ((string)run["status"]!).ShouldBe("succeeded", run.ToJsonString());
        var runId = (string)run["id"]!;
        static bool IsStartRequest(Activity span) =>
            span.Kind == ActivityKind.Server && span.GetTagItem("http.route") is string route && route.Contains("/workflows/{workflow}/runs", StringComparison.Ordinal);
        // The request's span ends after its response is sent, which may be after the run (and its span) ended: wait for both.
        var inTrace = await Eventually.HoldsAsync(() => spans.InTrace(trace),
            s => s.Any(span => span.OperationName.StartsWith("cadre.run ", StringComparison.Ordinal)) && s.Any(IsStartRequest), "the run's and the request's spans are recorded");
        var request = inTrace.Single(IsStartRequest);
        var creation = inTrace.Single(s => s.OperationName == $"cadre.run.create {flow}");
        creation.ParentSpanId.ShouldBe(request.SpanId);
        creation.GetTagItem("cadre.run.id").ShouldBe(runId);

        var runSpan = inTrace.Single(s => s.OperationName == $"cadre.run {flow}");
        runSpan.ParentSpanId.ShouldBe(creation.SpanId);
        runSpan.GetTagItem("cadre.run.id").ShouldBe(runId);
        runSpan.GetTagItem("cadre.run.status").ShouldBe("succeeded");
        runSpan.GetTagItem("cadre.workspace.id").ShouldBe(workspace.Id);
        runSpan.GetTagItem("gen_ai.usage.input_tokens").ShouldBe(12L);

        var attempts = inTrace.Where(s => s.OperationName.StartsWith("cadre.step ", StringComparison.Ordinal)).OrderBy(s => s.StartTimeUtc).ToList();
        attempts.Select(s => (s.OperationName, s.GetTagItem("cadre.attempt"), s.GetTagItem("cadre.outcome"))).ShouldBe(
        [
            ("cadre.step fetch", 1, "failed"), ("cadre.step fetch", 2, "succeeded"), ("cadre.step ask", 1, "succeeded"), ("cadre.step shape", 1, "succeeded"),
        ]);
        attempts.ShouldAllBe(s => s.ParentSpanId == creation.SpanId && (string?)s.GetTagItem("cadre.run.id") == runId);
        attempts[0].GetTagItem("error.type").ShouldBe("http_503");
        attempts[0].Status.ShouldBe(ActivityStatusCode.Error);
        attempts[3].GetTagItem("cadre.inline").ShouldBe(true);

        // The model call nests under its attempt, with the GenAI conventions' attributes and none of the prompt.
        var call = inTrace.Single(s => s.Source.Name == "Cadre.Llm");
        call.ParentSpanId.ShouldBe(attempts[2].SpanId);
        call.OperationName.ShouldBe("chat gpt-4o");
        call.GetTagItem("gen_ai.operation.name").ShouldBe("chat");
        call.GetTagItem("gen_ai.request.model").ShouldBe("gpt-4o");
        call.GetTagItem("gen_ai.usage.input_tokens").ShouldBe(12);
        call.GetTagItem("gen_ai.usage.output_tokens").ShouldBe(3);
        inTrace.SelectMany(s => s.TagObjects).Select(tag => tag.Value as string ?? "").ShouldNotContain(text => text.Contains("launch at dawn", StringComparison.Ordinal));
    }

    /// <summary>A traced caller: its requests carry this trace (as <c>traceparent</c>), sampled.</summary>
    private static ActivityTraceId ClientTrace(out Activity caller)
    {
        caller = new Activity("test-client") { ActivityTraceFlags = ActivityTraceFlags.Recorded }.Start();
        return caller.TraceId;
    }

    [PostgresFact]
    public async Task RunResumedOnAnotherNode_LandsInTheSameTrace()
    {
        var spans = new SpanCollector();
        var settings = new Dictionary<string, string?>(EngineApps.Settings) { ["Cadre:Node:HeartbeatInterval"] = "00:00:00.200" };
        var api = await CadreApp.StartAsync(DatabaseKind.Postgres, new Dictionary<string, string?>(settings) { ["Cadre:Node:Role"] = "api" }, spans.Register());
        var workspace = await api.CreateWorkspaceAsync();
        var flow = await workspace.CreateFlowAsync(
        [
            new { id = "first", activity = new { uniqueIdentifier = "transform" }, input = new { ready = true } },
            new { id = "nap", activity = new { uniqueIdentifier = "sleep" }, dependsOn = new[] { "first" }, input = new { duration = "10ms" } },
        ]);
        var trace = ClientTrace(out var caller);
        var runId = (string)(await workspace.StartAsync(flow, wait: null))["id"]!;
        caller.Dispose();
        // The api node runs nothing more: it goes away, and a worker node that never saw the request takes the run on.
        var (database, adminKey) = (api.DatabaseSetting, api.AdminKey);
        await api.DisposeAsync();

        await using var worker = await CadreApp.StartAsync(DatabaseKind.Postgres, new Dictionary<string, string?>(settings) { ["Cadre:Node:Role"] = "all" },
            spans.Register(), databaseSetting: database, adminKey: adminKey);
        using var client = worker.Client(workspace.OwnerKey);
        var done = await Eventually.HoldsAsync(
            async () => await (await client.GetAsync($"/api/v1/workspaces/{workspace.Name}/runs/{runId}")).ReadObjectAsync(),
            r => (string?)r["status"] == "succeeded", "the other node finishes the run");

        var workerId = worker.Services.GetRequiredService<ThisNode>().Id;
        var tasks = await (await client.GetAsync($"/api/v1/workspaces/{workspace.Name}/runs/{runId}/tasks")).ReadObjectAsync();
        tasks["results"]!.AsArray().ShouldContain(t => (string)t!["stepId"]! == "nap" && (string)t["worker"]! == workerId);
        var inTrace = await Eventually.HoldsAsync(() => spans.InTrace(trace), s => s.Any(span => span.OperationName == $"cadre.run {flow}"), "the run's span is recorded");
        var creation = inTrace.Single(s => s.OperationName == $"cadre.run.create {flow}");
        inTrace.Single(s => s.OperationName == "cadre.step nap").ParentSpanId.ShouldBe(creation.SpanId);
        inTrace.Single(s => s.OperationName == "cadre.step first").ParentSpanId.ShouldBe(creation.SpanId);
        var runSpan = inTrace.Single(s => s.OperationName == $"cadre.run {flow}");
        runSpan.ParentSpanId.ShouldBe(creation.SpanId);
        runSpan.StartTimeUtc.ShouldBe((DateTime)done["createdAt"]!, TimeSpan.FromMilliseconds(1));
    }
}
