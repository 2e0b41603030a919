using System.ComponentModel.DataAnnotations;

namespace Cadre.Observability;

/// <summary>What Cadre's traces and metrics may carry, and how fresh the sampled values are. Section <c>Cadre:Telemetry</c>.</summary>
public sealed class TelemetryOptions
{
    public const string SectionName = "Cadre:Telemetry";

    /// <summary>
    /// Whether model-call spans carry the prompts, completions and tool arguments (the GenAI
    /// conventions' sensitive data). Off by default: they are tenant data and may hold secrets a tool
    /// returned. Setting it also overrides <c>OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT</c>.
    /// </summary>
    public bool RecordModelContent { get; set; }

    /// <summary>How often the task queue's depth and oldest age are read for the gauges (one small query per node).</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "01:00:00", ErrorMessage = "Cadre:Telemetry:QueueSampleInterval (CADRE_TELEMETRY_QUEUE_SAMPLE_INTERVAL) must be between 100 ms and 1 hour.")]
    public TimeSpan QueueSampleInterval { get; set; } = TimeSpan.FromSeconds(15);
}
