namespace Cadre.Server.Observability;

/// <summary>The Prometheus scrape endpoint. Section <c>Cadre:Metrics</c>.</summary>
public sealed class MetricsOptions
{
    public const string SectionName = "Cadre:Metrics";

    /// <summary>Whether <c>GET /metrics</c> serves the Prometheus text format (OTLP export is separate: <c>OTEL_EXPORTER_OTLP_ENDPOINT</c>).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>When set, a scrape must send <c>Authorization: Bearer &lt;token&gt;</c>; others get 401.</summary>
    public string? ScrapeToken { get; set; }
}

/// <summary>How log lines are written to the console. Section <c>Cadre:Logging</c>.</summary>
public sealed class LogFormatOptions
{
    public const string SectionName = "Cadre:Logging";

    /// <summary><c>text</c> (one readable line per entry) or <c>json</c> (one JSON object per line, with scopes and UTC timestamps).</summary>
    public string Format { get; set; } = "text";
}
