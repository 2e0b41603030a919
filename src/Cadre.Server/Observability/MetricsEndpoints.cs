using System.Security.Cryptography;
using System.Text;
using Cadre.Server.Auth;
using Cadre.Server.Http;
using Microsoft.Extensions.Options;

namespace Cadre.Server.Observability;

/// <summary>
/// <c>GET /metrics</c>: this node's metrics in the Prometheus text format, written by OpenTelemetry's
/// Prometheus exporter. Served by every role (a <c>worker</c> node too) and without an API key, since
/// scrapers have none; <see cref="MetricsOptions.ScrapeToken"/> asks for a bearer token instead. It holds
/// no tenant data: no label names a workspace, run or workflow.
/// </summary>
internal static class MetricsEndpoints
{
    public const string Path = "/metrics";

    public static IEndpointRouteBuilder MapMetrics(this IEndpointRouteBuilder app)
    {
        var options = app.ServiceProvider.GetRequiredService<IOptions<MetricsOptions>>().Value;
        if (!options.Enabled)
        {
            return app;
        }

        // The exporter comes as middleware; here it runs as the endpoint's handler, so the endpoint has
        // its access rule and its place in the OpenAPI document like every other.
        var exporter = app.CreateApplicationBuilder();
        exporter.UseOpenTelemetryPrometheusScrapingEndpoint(meterProvider: null, predicate: _ => true, path: null, configureBranchedPipeline: null, optionsName: null);
        var scrape = exporter.Build();
        var token = string.IsNullOrEmpty(options.ScrapeToken) ? null : Encoding.UTF8.GetBytes(options.ScrapeToken);
        // A Delegate, not a RequestDelegate: a route handler is what the OpenAPI document describes.
        app.MapGet(Path, (Delegate)((HttpContext context) => Authorized(context.Request, token) ? scrape(context) : Unauthorized(context)))
            .WithName("Metrics")
            .WithSummary("This node's metrics, in the Prometheus text format")
            .WithDescription("Runs started and finished, step durations, the task queue's depth and age, lease expiries, model tokens and cost, "
                + "open event streams, webhook deliveries, and ASP.NET Core, HttpClient and .NET runtime metrics. No API key; when the operator "
                + "sets Cadre:Metrics:ScrapeToken, send it as 'Authorization: Bearer <token>'. See docs/observability.md.")
            .WithTags("Health")
            .AllowAnyone()
            .DisableRateLimiting()
            .Produces<string>(StatusCodes.Status200OK, "text/plain")
            .ProducesProblem(StatusCodes.Status401Unauthorized);
        return app;
    }

    private static bool Authorized(HttpRequest request, byte[]? token)
    {
        if (token is null)
        {
            return true;
        }

        var header = request.Headers.Authorization.ToString();
        return header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)
            && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(header["Bearer ".Length..].Trim()), token);
    }

    private static Task Unauthorized(HttpContext context)
    {
        context.Response.Headers.WWWAuthenticate = "Bearer realm=\"cadre-metrics\"";
        return Problems.Problem(StatusCodes.Status401Unauthorized, "Scrape token required",
            "This node's metrics need the scrape token (Cadre:Metrics:ScrapeToken) as 'Authorization: Bearer <token>'.").ExecuteAsync(context);
    }
}
