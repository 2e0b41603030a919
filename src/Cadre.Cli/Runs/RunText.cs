using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Cadre.Cli.Api;

namespace Cadre.Cli.Runs;

/// <summary>How runs read in the transcript and summaries: durations, money, tokens, errors, outputs.</summary>
internal static class RunText
{
    public static string Duration(TimeSpan duration) => duration switch
    {
        { TotalSeconds: < 1 } => $"{Math.Max(0, (int)duration.TotalMilliseconds)} ms",
        { TotalSeconds: < 60 } => string.Create(CultureInfo.InvariantCulture, $"{duration.TotalSeconds:0.0} s"),
        { TotalHours: < 1 } => $"{(int)duration.TotalMinutes}m {duration.Seconds:00}s",
        _ => $"{(int)duration.TotalHours}h {duration.Minutes:00}m",
    };

    public static string Usd(decimal amount) => string.Create(CultureInfo.InvariantCulture, $"${amount:0.######}");

    public static long Long(JsonNode? node) =>
        node is JsonValue value && value.TryGetValue<long>(out var number) ? number : 0;

    public static decimal Decimal(JsonNode? node) =>
        node is JsonValue value && value.TryGetValue<decimal>(out var number) ? number : 0;

    public static DateTimeOffset? Time(JsonNode? node) =>
        node is JsonValue value && value.TryGetValue<string>(out var text)
            && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time)
            ? time
            : null;

    /// <summary><c>12 in / 15 out tokens · $0.0002</c>, or null when no model was called.</summary>
    public static string? Usage(JsonNode? usage)
    {
        var input = Long(usage?["inputTokens"]);
        var output = Long(usage?["outputTokens"]);
        if (input == 0 && output == 0)
        {
            return null;
        }

        var cached = Long(usage?["cachedInputTokens"]);
        return $"{input} in{(cached > 0 ? $" ({cached} cached)" : "")} / {output} out tokens · {Usd(Decimal(usage?["costUsd"]))}";
    }

    /// <summary><c>http_error: Connection refused</c> from an error object.</summary>
    public static string Error(JsonNode? error)
    {
        var type = error?["type"]?.ToString();
        var message = error?["message"]?.ToString();
        return (type, message) switch
        {
            (null, null) => "no error was recorded",
            (null, _) => message!,
            (_, null) => type,
            _ => $"{type}: {message}",
        };
    }

    /// <summary>The run's name for people: <c>STORY-3</c>, else its ID.</summary>
    public static string Name(JsonNode run) => run["displayId"]?.ToString() ?? run["id"]?.ToString() ?? "?";

    /// <summary>How long the run took (or has taken so far).</summary>
    public static TimeSpan? Took(JsonNode run, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(time);
        var start = Time(run["startedAt"]) ?? Time(run["createdAt"]);
        var end = Time(run["finishedAt"]) ?? time.GetUtcNow();
        return start is null ? null : end - start.Value;
    }

    /// <summary>A run's output for people: a string as it is, anything else as indented JSON.</summary>
    public static void WriteOutput(TextWriter writer, JsonNode? output)
    {
        ArgumentNullException.ThrowIfNull(writer);
        switch (output)
        {
            case null:
                return;
            case JsonValue value when value.GetValueKind() == JsonValueKind.String:
                writer.WriteLine(value.GetValue<string>());
                return;
            default:
                writer.WriteLine(output.ToJsonString(CadreApiClient.Json));
                return;
        }
    }
}
