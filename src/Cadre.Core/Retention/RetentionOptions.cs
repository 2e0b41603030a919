using System.Globalization;
using System.Text.Json.Nodes;
using Cadre.Common;
using Microsoft.Extensions.Options;

namespace Cadre.Retention;

/// <summary>
/// How long finished work is kept, for every workspace that does not say otherwise in its
/// <c>retention</c> setting. Section <c>Cadre:Retention</c> (env <c>CADRE_RETENTION_…</c>). Periods are
/// durations of at least an hour (<c>30d</c>, <c>12h</c>, <c>P90D</c>, <c>30.00:00:00</c>) or <c>forever</c>.
/// </summary>
public sealed class RetentionOptions
{
    public const string SectionName = "Cadre:Retention";

    /// <summary>Runs that ended (succeeded, failed, compensated) this long ago are deleted with every row of theirs. Default 30 days.</summary>
    public string Runs { get; set; } = "30d";

    /// <summary>Workspace events recorded this long ago, once dispatched, are deleted. Default 30 days.</summary>
    public string Events { get; set; } = "30d";

    /// <summary>Outbound webhook deliveries delivered or given up this long ago are deleted with their attempts. Default 30 days.</summary>
    public string Deliveries { get; set; } = "30d";

    /// <summary>
    /// Audit log entries written this long ago are deleted, in every workspace and at instance level
    /// alike (a workspace cannot shorten its own audit trail). Default 365 days.
    /// </summary>
    public string Audit { get; set; } = "365d";

    /// <summary>How often the node holding the retention duty looks for what to delete. Default 10 minutes.</summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Runs (events, deliveries) deleted per transaction; a pause follows each batch so other writers get their turn. Default 200.</summary>
    public int BatchSize { get; set; } = 200;
}

/// <summary>What a workspace keeps: a period per kind, null for forever.</summary>
internal sealed record RetentionPolicy(TimeSpan? Runs, TimeSpan? Events, TimeSpan? Deliveries)
{
    /// <summary>The workspace setting that overrides the instance's periods (an object with <c>runs</c>, <c>events</c>, <c>deliveries</c>).</summary>
    public const string Setting = "retention";

    public const string Forever = "forever";

    /// <summary>The shortest period: anything shorter would delete runs people are still looking at.</summary>
    public static readonly TimeSpan Minimum = TimeSpan.FromHours(1);

    public const string Rule = "a duration of at least 1 hour (such as 12h, 30d or P90D), or \"forever\"";

    private static readonly string[] Kinds = ["runs", "events", "deliveries"];

    /// <summary>A period as written: null for <c>forever</c>; false when it is neither a duration of at least an hour nor <c>forever</c>.</summary>
    public static bool TryParse(string? text, out TimeSpan? period)
    {
        period = null;
        if (string.Equals(text?.Trim(), Forever, StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        if ((Durations.TryParse(text, out var duration) || TimeSpan.TryParseExact(text, "c", CultureInfo.InvariantCulture, out duration)) && duration >= Minimum)
        {
            period = duration;
            return true;
        }

        return false;
    }

    /// <summary>The instance's periods (validated at start-up).</summary>
    public static RetentionPolicy Of(RetentionOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new(Parse(options.Runs), Parse(options.Events), Parse(options.Deliveries));

        static TimeSpan? Parse(string text) => TryParse(text, out var period) ? period : throw new OptionsValidationException(RetentionOptions.SectionName, typeof(RetentionOptions), [$"'{text}' is not {Rule}."]);
    }

    /// <summary>A workspace's periods: its <c>retention</c> setting where it names one, else the instance's.</summary>
    public static RetentionPolicy Of(string settings, RetentionPolicy instance)
    {
        ArgumentNullException.ThrowIfNull(instance);
        if (!settings.Contains($"\"{Setting}\"", StringComparison.Ordinal) || JsonNode.Parse(settings)?[Setting] is not JsonObject own)
        {
            return instance;
        }

        return new(Override(own, "runs", instance.Runs), Override(own, "events", instance.Events), Override(own, "deliveries", instance.Deliveries));

        // Settings were validated when saved; a value that no longer reads (written by hand) keeps the instance's period.
        static TimeSpan? Override(JsonObject own, string kind, TimeSpan? fallback) =>
            own[kind] is JsonValue value && value.TryGetValue<string>(out var text) && TryParse(text, out var period) ? period : fallback;
    }

    /// <summary>Checks a workspace's <c>retention</c> setting: an object of known kinds, each a period (or null: the instance's).</summary>
    public static void Validate(JsonNode? setting, ValidationErrors errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        const string Field = "settings." + Setting;
        if (setting is null)
        {
            return;
        }

        if (setting is not JsonObject own)
        {
            errors.Add(Field, $"Must be an object naming the periods to keep ({string.Join(", ", Kinds)}), each {Rule}.");
            return;
        }

        foreach (var (kind, value) in own)
        {
            if (!Kinds.Contains(kind, StringComparer.Ordinal))
            {
                errors.Add($"{Field}.{kind}", $"Is not a kind of retention; the kinds are {string.Join(", ", Kinds)}.");
            }
            else if (value is not null && !(value is JsonValue text && text.TryGetValue<string>(out var written) && TryParse(written, out _)))
            {
                errors.Add($"{Field}.{kind}", $"Must be {Rule}.");
            }
        }
    }
}

/// <summary>Refuses to start with retention settings that cannot work, saying which and why.</summary>
internal sealed class RetentionOptionsValidator : IValidateOptions<RetentionOptions>
{
    public ValidateOptionsResult Validate(string? name, RetentionOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        foreach (var (setting, value) in new[] { ("Runs", options.Runs), ("Events", options.Events), ("Deliveries", options.Deliveries), ("Audit", options.Audit) })
        {
            if (!RetentionPolicy.TryParse(value, out _))
            {
                failures.Add($"Cadre:Retention:{setting} (CADRE_RETENTION_{setting.ToUpperInvariant()}) must be {RetentionPolicy.Rule}, not '{value}'.");
            }
        }

        if (options.Interval < TimeSpan.FromSeconds(1) || options.Interval > TimeSpan.FromDays(1))
        {
            failures.Add("Cadre:Retention:Interval (CADRE_RETENTION_INTERVAL) must be between 00:00:01 and 1.00:00:00.");
        }

        if (options.BatchSize is < 1 or > 10_000)
        {
            failures.Add("Cadre:Retention:BatchSize (CADRE_RETENTION_BATCH_SIZE) must be between 1 and 10000.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
