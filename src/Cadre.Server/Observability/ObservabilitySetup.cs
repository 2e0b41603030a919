using System.Diagnostics.Metrics;
using Cadre.Nodes;
using Cadre.Observability;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Options;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Cadre.Server.Observability;

/// <summary>
/// Wires the OpenTelemetry SDK to what Core emits (the <c>Cadre</c> activity source and meter, model
/// calls' <c>Cadre.Llm</c> spans) and to ASP.NET Core, HttpClient and the runtime: metrics for
/// <c>/metrics</c> (on by default), and OTLP export of traces, metrics and logs only for the signals
/// whose standard <c>OTEL_EXPORTER_OTLP_*ENDPOINT</c> variable is set. Also the console log format.
/// </summary>
internal static class ObservabilitySetup
{
    private const string OtlpEndpoint = "OTEL_EXPORTER_OTLP_ENDPOINT";

    public static WebApplicationBuilder AddCadreObservability(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        var configuration = builder.Configuration;
        services.AddOptions<MetricsOptions>().BindConfiguration(MetricsOptions.SectionName).ValidateOnStart();
        services.AddOptions<LogFormatOptions>().BindConfiguration(LogFormatOptions.SectionName)
            .Validate(o => o.Format is "text" or "json", "Cadre:Logging:Format (CADRE_LOGGING_FORMAT) must be text or json.")
            .ValidateOnStart();

        // Every log line written during a request or an attempt carries its trace and span.
        builder.Logging.Configure(options => options.ActivityTrackingOptions = ActivityTrackingOptions.TraceId | ActivityTrackingOptions.SpanId | ActivityTrackingOptions.ParentId);
        if (configuration.GetSection(LogFormatOptions.SectionName).Get<LogFormatOptions>()?.Format == "json")
        {
            builder.Logging.AddJsonConsole(options =>
            {
                options.IncludeScopes = true;
                options.UseUtcTimestamp = true;
                options.TimestampFormat = "yyyy-MM-dd'T'HH:mm:ss.fff'Z'";
            });
        }

        var metricsEnabled = configuration.GetSection(MetricsOptions.SectionName).Get<MetricsOptions>()?.Enabled ?? true;
        var otlpTraces = IsSet(configuration, "TRACES");
        var otlpMetrics = IsSet(configuration, "METRICS");
        var otlpLogs = IsSet(configuration, "LOGS");

        // What any tracer provider records, whoever builds one: the OTLP exporter below, or a test's own exporter.
        services.ConfigureOpenTelemetryTracerProvider(tracing => tracing
            .AddSource(CadreTelemetry.Name, CadreTelemetry.ModelCallsName)
            .AddAspNetCoreInstrumentation(options => options.Filter = context => !IsProbe(context.Request.Path))
            .AddHttpClientInstrumentation());
        services.ConfigureOpenTelemetryMeterProvider(metrics => metrics
            .AddMeter(CadreTelemetry.Name)
            .AddAspNetCoreInstrumentation()
            .AddHttpClientInstrumentation()
            .AddRuntimeInstrumentation());
        services.ConfigureOpenTelemetryMeterProvider((provider, metrics) => metrics.AddView(ForeignCadreInstruments(provider.GetRequiredService<CadreMetrics>())));

        var telemetry = services.AddOpenTelemetry()
            // service.name=cadre, version and node ID; OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES, read after, win.
            .ConfigureResource(resource => resource
                .AddDetector(provider => new NodeResourceDetector(provider.GetRequiredService<ThisNode>()))
                .AddEnvironmentVariableDetector());
        if (otlpTraces)
        {
            telemetry.WithTracing(tracing => tracing.AddOtlpExporter(options => UseSignalEndpoint(options, configuration, "TRACES")));
        }

        if (metricsEnabled || otlpMetrics)
        {
            telemetry.WithMetrics(metrics =>
            {
                if (metricsEnabled)
                {
                    // Cached answers would hide what just happened from a scrape right after it.
                    metrics.AddPrometheusExporter(options => options.ScrapeResponseCacheDurationMilliseconds = 0);
                }

                if (otlpMetrics)
                {
                    metrics.AddOtlpExporter(options => UseSignalEndpoint(options, configuration, "METRICS"));
                }
            });
            services.AddHostedService<QueueSampler>();
        }

        if (otlpLogs)
        {
            telemetry.WithLogging(logging => logging.AddOtlpExporter(options => UseSignalEndpoint(options, configuration, "LOGS")), options => options.IncludeScopes = true);
        }

        return builder;
    }

    /// <summary>Whether OTLP export of a signal is asked for: its own endpoint variable, or the shared one.</summary>
    private static bool IsSet(ConfigurationManager configuration, string signal) =>
        !string.IsNullOrWhiteSpace(configuration[OtlpEndpoint]) || !string.IsNullOrWhiteSpace(configuration[$"OTEL_EXPORTER_OTLP_{signal}_ENDPOINT"]);

    /// <summary>
    /// A signal's own endpoint variable, used as it is (the specification's rule); the SDK reads the shared
    /// <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> (adding <c>/v1/traces</c>… over HTTP) and the protocol and headers itself.
    /// </summary>
    private static void UseSignalEndpoint(OtlpExporterOptions options, ConfigurationManager configuration, string signal)
    {
        if (Uri.TryCreate(configuration[$"OTEL_EXPORTER_OTLP_{signal}_ENDPOINT"], UriKind.Absolute, out var endpoint))
        {
            options.Endpoint = endpoint;
        }
    }

    // Probes and scrapes every few seconds would drown the traces that matter.
    private static bool IsProbe(PathString path) =>
        path.Equals("/healthz", StringComparison.OrdinalIgnoreCase) || path.Equals("/readyz", StringComparison.OrdinalIgnoreCase) || path.Equals(MetricsEndpoints.Path, StringComparison.OrdinalIgnoreCase);

    /// <summary>Drops the instruments of another app's <c>Cadre</c> meter in the same process (the tests host several).</summary>
    private static Func<Instrument, MetricStreamConfiguration?> ForeignCadreInstruments(CadreMetrics ours) => instrument =>
        instrument.Meter.Name == CadreTelemetry.Name && !ReferenceEquals(instrument.Meter.Scope, ours) ? MetricStreamConfiguration.Drop : null;

    /// <summary>service.name <c>cadre</c>, service.version, and service.instance.id: the node's ID, as <c>GET /api/v1/admin/nodes</c> lists it.</summary>
    private sealed class NodeResourceDetector(ThisNode node) : IResourceDetector
    {
        public Resource Detect() => new(new Dictionary<string, object>
        {
            ["service.name"] = "cadre",
            ["service.version"] = ThisNode.Version,
            ["service.instance.id"] = node.Id,
        });
    }
}
