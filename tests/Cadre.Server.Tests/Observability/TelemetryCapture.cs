using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry;
using OpenTelemetry.Trace;

namespace Cadre.Server.Tests.Observability;

/// <summary>
/// Keeps every span the app's tracer provider ends. Cadre's activity source is process-wide, so spans
/// of other apps in the test process land here too: look them up by trace.
/// </summary>
internal sealed class SpanCollector : BaseProcessor<Activity>
{
    private readonly ConcurrentQueue<Activity> _spans = new();

    /// <summary>Turns tracing on for an app (as an OTLP endpoint would), ending every span here.</summary>
    public Action<IServiceCollection> Register() => services => services.AddOpenTelemetry().WithTracing(tracing => tracing.AddProcessor(this));

    public IReadOnlyList<Activity> InTrace(ActivityTraceId trace) => [.. _spans.Where(s => s.TraceId == trace)];

    public override void OnEnd(Activity data) => _spans.Enqueue(data);

    public string Describe() => string.Join("\n", _spans.Select(s => $"{s.TraceId} {s.Source.Name} {s.OperationName} {s.DisplayName}"));
}

/// <summary>One sample of the Prometheus text format: a series' name, labels and value.</summary>
internal sealed record Sample(string Name, IReadOnlyDictionary<string, string> Labels, double Value)
{
    public bool Has(string label, string value) => Labels.TryGetValue(label, out var actual) && actual == value;
}

internal static partial class Exposition
{
    public static async Task<string> ScrapeTextAsync(HttpClient client)
    {
        var response = await client.GetAsync("/metrics");
        await response.ShouldBeAsync(HttpStatusCode.OK);
        response.Content.Headers.ContentType!.MediaType.ShouldBe("text/plain");
        return await response.Content.ReadAsStringAsync();
    }

    public static async Task<IReadOnlyList<Sample>> ScrapeAsync(HttpClient client) => Parse(await ScrapeTextAsync(client));

    public static IReadOnlyList<Sample> Parse(string text) =>
    [
        .. text.Split('\n').Where(line => line.Length > 0 && line[0] != '#').Select(line =>
        {
            var match = Line().Match(line);
            match.Success.ShouldBeTrue($"not an exposition line: {line}");
            var labels = LabelPair().Matches(match.Groups["labels"].Value).ToDictionary(m => m.Groups["key"].Value, m => m.Groups["value"].Value, StringComparer.Ordinal);
            var value = match.Groups["value"].Value switch
            {
                "+Inf" => double.PositiveInfinity,
                "-Inf" => double.NegativeInfinity,
                var number => double.Parse(number, NumberStyles.Float, CultureInfo.InvariantCulture),
            };
            return new Sample(match.Groups["name"].Value, labels, value);
        }),
    ];

    /// <summary>The one sample of <paramref name="name"/> whose labels include <paramref name="labels"/>, if any.</summary>
    public static Sample? Find(this IReadOnlyList<Sample> samples, string name, params (string Label, string Value)[] labels) =>
        samples.SingleOrDefault(s => s.Name == name && labels.All(l => s.Has(l.Label, l.Value)));

    [GeneratedRegex("""^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?<labels>.*)\})?\s+(?<value>\S+)(\s+\S+)?$""")]
    private static partial Regex Line();

    [GeneratedRegex(@"(?<key>[a-zA-Z_][a-zA-Z0-9_]*)=""(?<value>(?:[^""\\]|\\.)*)""")]
    private static partial Regex LabelPair();
}
