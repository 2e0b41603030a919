using Cadre.Nodes;
using Cadre.Server.Tests.Runs;
using Cadre.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Cadre.Server.Tests.Observability;

/// <summary>With the standard OTLP variables set, traces, metrics and logs go to the collector they name.</summary>
public sealed class OtlpExportTests
{
    [Fact]
    public async Task OtlpEndpoint_ExportsSpansMetricsAndLogs_OverHttpProtobuf_AsTheNamedService()
    {
        // A fake collector: OTLP/HTTP bodies are protobuf, whose strings are plain UTF-8 bytes.
        await using var collector = await FakeHttpServer.StartAsync(_ => Task.CompletedTask);
        await using var app = await CadreApp.StartAsync(DatabaseKind.Sqlite, new Dictionary<string, string?>(EngineApps.Settings)
        {
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = collector.Address.ToString().TrimEnd('/'),
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
            ["OTEL_SERVICE_NAME"] = "cadre-eu-1",
            ["OTEL_BSP_SCHEDULE_DELAY"] = "100",
            ["OTEL_BLRP_SCHEDULE_DELAY"] = "100",
            ["OTEL_METRIC_EXPORT_INTERVAL"] = "200",
        },
        // The test app replaces the logger providers with its capture: the OpenTelemetry one is put back.
        services => services.AddLogging(logging => logging.AddOpenTelemetry()));
        var workspace = await app.CreateWorkspaceAsync();
        var flow = await workspace.CreateFlowAsync([new { id = "nap", activity = new { uniqueIdentifier = "sleep" }, input = new { duration = "1ms" } }]);

        var run = await workspace.StartAsync(flow);

        ((string)run["status"]!).ShouldBe("succeeded");
        await Eventually.HoldsAsync(() => Bodies(collector, "/v1/traces").Any(b => b.Contains($"cadre.run {flow}", StringComparison.Ordinal)), "the run's span is exported ");
        var traces = Bodies(collector, "/v1/traces");
        traces.ShouldContain(b => b.Contains("cadre.step nap", StringComparison.Ordinal) && b.Contains((string)run["id"]!, StringComparison.Ordinal));
        // OTEL_SERVICE_NAME wins over Cadre's own name; the instance is the node.
        traces.ShouldContain(b => b.Contains("cadre-eu-1", StringComparison.Ordinal) && b.Contains(app.Services.GetRequiredService<ThisNode>().Id, StringComparison.Ordinal));
        await Eventually.HoldsAsync(() => Bodies(collector, "/v1/metrics").Any(b => b.Contains("cadre.runs.finished", StringComparison.Ordinal)), "the run counts are exported");
        await Eventually.HoldsAsync(() => Bodies(collector, "/v1/logs").Count > 0, "logs are exported");
    }

    [Fact]
    public async Task SignalEndpoint_ExportsThatSignalAlone_ToItsUrlAsItIs()
    {
        await using var collector = await FakeHttpServer.StartAsync(_ => Task.CompletedTask);
        await using var app = await CadreApp.StartAsync(DatabaseKind.Sqlite, new Dictionary<string, string?>(EngineApps.Settings)
        {
            ["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"] = collector.Address + "ingest/spans",
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
            ["OTEL_BSP_SCHEDULE_DELAY"] = "100",
            ["OTEL_METRIC_EXPORT_INTERVAL"] = "200",
        });
        var workspace = await app.CreateWorkspaceAsync();
        var flow = await workspace.CreateFlowAsync([new { id = "shape", activity = new { uniqueIdentifier = "transform" }, input = new { ok = true } }]);

        await workspace.StartAsync(flow);

        await Eventually.HoldsAsync(() => Bodies(collector, "/ingest/spans").Any(b => b.Contains($"cadre.run {flow}", StringComparison.Ordinal)), "the run's span is exported");
        app.Services.GetService<OpenTelemetry.Logs.LoggerProvider>().ShouldBeNull();
        lock (collector.Requests)
        {
            collector.Requests.ShouldAllBe(r => r.PathAndQuery == "/ingest/spans");
        }
    }

    [Fact]
    public async Task NoOtlpEndpoint_ExportsNothing_AndMetricsStayOnTheScrapeEndpoint()
    {
        await using var app = await CadreApp.StartAsync(DatabaseKind.Sqlite);

        app.Services.GetService<OpenTelemetry.Trace.TracerProvider>().ShouldBeNull();
        app.Services.GetService<OpenTelemetry.Metrics.MeterProvider>().ShouldNotBeNull();
        using var client = app.Client();
        (await Exposition.ScrapeTextAsync(client)).ShouldContain("target_info");
    }

    private static List<string> Bodies(FakeHttpServer collector, string path)
    {
        lock (collector.Requests)
        {
            return [.. collector.Requests.Where(r => r.Method == "POST" && r.PathAndQuery == path).Select(r => r.Body)];
        }
    }
}
