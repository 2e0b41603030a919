using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Cadre.Common;
using Cadre.Expressions;

namespace Cadre.Workflows;

/// <summary>
/// Defaults and checks of a workflow definition. <see cref="Normalize"/> fills every default and
/// expands the persona pipeline, so the stored document is what runs; <see cref="Validate"/>
/// reports every problem under the JSON path of the field (<c>steps[2].dependsOn[0]</c>).
/// </summary>
public static partial class WorkflowRules
{
    public const int MaxSteps = 500;
    public const int MaxListItems = 100;
    public const int MaxJsonBytes = 64 * 1024;

    /// <summary>Names taken by routes under <c>…/workflows/</c>.</summary>
    public static IReadOnlySet<string> ReservedNames { get; } = new HashSet<string>(StringComparer.Ordinal) { "bulk-delete", "export", "import" };

    public static IReadOnlyList<string> Types { get; } = ["manual", "event", "webhook", "schedule"];

    public static IReadOnlyList<string> SubTypes { get; } = ["workflow", "agent_session", "pipeline"];

    public static IReadOnlyList<string> FailureModes { get; } = ["abort", "continue", "compensate"];

    public static IReadOnlyList<string> TimeoutActions { get; } = ["reject", "approve", "escalate"];

    public static IReadOnlyList<string> ConcurrencyModes { get; } = ["queue", "reject", "cancel-oldest"];

    public static IReadOnlyList<string> WebhookModes { get; } = ["async", "sync"];

    public static IReadOnlyList<string> Annotators { get; } = ["persona", "workflow", "run", "event", "http"];

    /// <summary>What a step's templates may read.</summary>
    public static IReadOnlySet<string> StepRoots { get; } = new HashSet<string>(StringComparer.Ordinal) { "context", "steps", "run", "workflow", "secrets" };

    /// <summary>What trigger filters and annotations may read: no step has run yet.</summary>
    public static IReadOnlySet<string> TriggerRoots { get; } = new HashSet<string>(StringComparer.Ordinal) { "context", "run", "workflow", "secrets" };

    /// <summary>What an event trigger's filters read: matched before any run exists, they decrypt no secrets.</summary>
    public static IReadOnlySet<string> EventFilterRoots { get; } = new HashSet<string>(StringComparer.Ordinal) { "context", "run", "workflow" };

    private static readonly RetryPolicy DefaultRetry = new()
    {
        MaximumAttempts = 3,
        InitialInterval = "1s",
        BackoffCoefficient = 2,
        MaximumInterval = "1m",
        NonRetryableErrors = [],
    };

    /// <summary>
    /// The spec with defaults filled, lists de-duplicated, sleep steps made explicit and the persona
    /// pipeline expanded into steps. Idempotent: normalising twice changes nothing.
    /// </summary>
    public static WorkflowSpec Normalize(WorkflowSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var defaults = spec.Defaults ?? new WorkflowDefaults();
        // With a persona pipeline the steps are always its expansion, so editing the pipeline is editing the steps.
        var type = spec.Type ?? "manual";
        var steps = spec.PersonaPipeline is { } pipeline
            ? PersonaPipelines.Expand(pipeline)
            : (spec.Steps ?? []).Select(s => s is null ? null! : NormalizeStep(s)).ToList();
        return spec with
        {
            Name = spec.Name?.Trim(),
            Title = spec.Title is null ? spec.Name?.Trim() : spec.Title.Trim(),
            Description = string.IsNullOrWhiteSpace(spec.Description) ? null : spec.Description.Trim(),
            Type = type,
            SubType = spec.SubType ?? (spec.PersonaPipeline is null ? "workflow" : "pipeline"),
            SkillIds = Distinct(spec.SkillIds),
            SkillTags = Distinct(spec.SkillTags),
            GuardrailIds = Distinct(spec.GuardrailIds),
            GuardrailTags = Distinct(spec.GuardrailTags),
            Trigger = type == "schedule" ? (spec.Trigger ?? new WorkflowTrigger()) with
            {
                TimeZone = spec.Trigger?.TimeZone ?? "UTC",
                MisfirePolicy = spec.Trigger?.MisfirePolicy ?? "skip",
            } : spec.Trigger,
            IsActive = spec.IsActive ?? false,
            Annotations = spec.Annotations ?? [],
            Steps = steps,
            Defaults = defaults with
            {
                Timeout = defaults.Timeout ?? "1h",
                RetryPolicy = Merge(defaults.RetryPolicy, DefaultRetry),
                Sandbox = new SandboxLimits
                {
                    TimeoutMs = defaults.Sandbox?.TimeoutMs ?? 30_000,
                    MemoryMb = defaults.Sandbox?.MemoryMb ?? 256,
                    CpuCount = defaults.Sandbox?.CpuCount ?? 1,
                },
                Concurrency = new ConcurrencyPolicy { MaxRuns = defaults.Concurrency?.MaxRuns ?? 0, WhenFull = defaults.Concurrency?.WhenFull ?? "queue" },
                MaxIterations = defaults.MaxIterations ?? 10,
            },
            Credentials = spec.Credentials ?? new Dictionary<string, string>(),
            Metadata = spec.Metadata ?? [],
            Graph = spec.Graph ?? WorkflowGraphs.Layout(steps),
        };
    }

    private static WorkflowStep NormalizeStep(WorkflowStep step)
    {
        var activity = step.Activity;
        var input = step.Input;
        if (step.IsSleep == true && activity is null)
        {
            activity = new ActivityReference { UniqueIdentifier = "sleep" };
            input ??= new JsonObject { ["duration"] = step.Sleep };
        }

        if (activity is not null)
        {
            var known = activity.UniqueIdentifier is { } id ? ActivityRegistry.All.GetValueOrDefault(id) : null;
            activity = activity with
            {
                Version = activity.Version ?? known?.Latest.Version,
                AutoUpgradeToLatestVersion = activity.AutoUpgradeToLatestVersion ?? false,
            };
        }

        return step with
        {
            Id = step.Id?.Trim(),
            Name = step.Name ?? step.Id?.Trim(),
            Activity = activity,
            Input = input ?? new JsonObject(),
            DependsOn = step.DependsOn ?? [],
            OnFailure = step.OnFailure ?? "abort",
            IsSleep = step.IsSleep ?? activity?.UniqueIdentifier == "sleep",
            Approval = step.Approval is null ? null : step.Approval with { Quorum = step.Approval.Quorum ?? 1, OnTimeout = step.Approval.OnTimeout ?? "reject" },
        };
    }

    /// <summary>Checks a normalised spec, adding every problem to <paramref name="errors"/>.</summary>
    public static void Validate(WorkflowSpec spec, ValidationErrors errors)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(errors);
        if (string.IsNullOrEmpty(spec.Name))
        {
            errors.Add("name", "Is required.");
        }
        else if (!Slug.IsValid(spec.Name))
        {
            errors.Add("name", $"Must be {Slug.Rule}");
        }
        else if (ReservedNames.Contains(spec.Name))
        {
            errors.Add("name", $"'{spec.Name}' is reserved by the API (…/workflows/{spec.Name}); choose another.");
        }

        Text.ValidateLabel(spec.Title, "title", 200, errors);
        Length(spec.Description, "description", 2000, errors);
        OneOf(spec.Type, Types, "type", errors);
        OneOf(spec.SubType, SubTypes, "subType", errors);
        Reference(spec.TeamId, "teamId", errors);
        Reference(spec.ExecutingAgent, "executingAgent", errors);
        References(spec.SkillIds, "skillIds", errors);
        References(spec.SkillTags, "skillTags", errors);
        References(spec.GuardrailIds, "guardrailIds", errors);
        References(spec.GuardrailTags, "guardrailTags", errors);
        ValidateTrigger(spec, errors);
        ValidateAnnotations(spec.Annotations!, errors);
        if (spec.Steps is null or { Count: 0 })
        {
            errors.Add("steps", "A workflow needs steps or a personaPipeline.");
        }
        else if (spec.Steps.Count > MaxSteps)
        {
            errors.Add("steps", $"Must have at most {MaxSteps} steps.");
        }
        else
        {
            WorkflowGraphs.Validate(spec, errors);
        }

        if (spec.PersonaPipeline is { } pipeline)
        {
            PersonaPipelines.Validate(pipeline, errors);
        }

        ValidateDefaults(spec.Defaults!, errors);
        Url(spec.Notifications?.WebhookUrl, "notifications.webhookUrl", errors);
        Url(spec.Notifications?.ErrorWebhookUrl, "notifications.errorWebhookUrl", errors);
        if (spec.Notifications?.SigningSecret is { } signingSecret && !SecretReference().IsMatch(signingSecret))
        {
            errors.Add("notifications.signingSecret", "Must be the name of a workspace secret.");
        }
        foreach (var (name, secret) in spec.Credentials!)
        {
            if (!Identifier().IsMatch(name) || !SecretReference().IsMatch(secret ?? ""))
            {
                errors.Add($"credentials.{name}", "Must map a name (letters, digits, _ and -) to a secret's name: credentials are referenced, never written here.");
            }
        }

        if (spec.Repository is { } repository)
        {
            Url(repository.RepoUrl, "repository.repoUrl", errors);
            Length(repository.RepoBranch, "repository.repoBranch", 200, errors);
            if (repository.RepoTokenSecret is { } token && !SecretReference().IsMatch(token))
            {
                errors.Add("repository.repoTokenSecret", "Must be a secret's name, not the token itself.");
            }
        }

        JsonSize(spec.Metadata, "metadata", MaxJsonBytes, errors);
    }

    private static void ValidateTrigger(WorkflowSpec spec, ValidationErrors errors)
    {
        var trigger = spec.Trigger;
        switch (spec.Type)
        {
            case "event":
                if (trigger?.EventType is not { } eventType || !EventType().IsMatch(eventType))
                {
                    errors.Add("trigger.eventType", "An event workflow needs the event type that starts it, such as ticket.created.");
                }

                if (trigger?.Filters is { } filters)
                {
                    try
                    {
                        // Matched before any run exists, they decrypt no secrets: EventFilterRoots leaves secrets out.
                        Filter.Parse(filters, new ExpressionOptions { Roots = EventFilterRoots });
                    }
                    catch (FilterException ex)
                    {
                        errors.Add(ex.Path.Length == 0 ? "trigger.filters" : $"trigger.filters.{ex.Path}", ex.Problem);
                    }
                }

                break;
            case "schedule":
                if (trigger?.Cron is not { } cron)
                {
                    errors.Add("trigger.cron", "A schedule workflow needs a cron expression, such as 0 9 * * MON-FRI.");
                }
                else if (Schedules.CronProblem(cron) is { } problem)
                {
                    errors.Add("trigger.cron", problem);
                }

                if (trigger?.TimeZone is { } zone && !Schedules.IsTimeZone(zone))
                {
                    errors.Add("trigger.timeZone", $"'{zone}' is not a time zone this server knows; use an IANA name such as Europe/Paris.");
                }

                ValidateSchedule(trigger, errors);
                break;
            case "webhook":
                if (trigger?.Webhook is { } webhook)
                {
                    OneOf(webhook.Mode ?? "async", WebhookModes, "trigger.webhook.mode", errors);
                    if (webhook.Timeout is { } timeout && (!Durations.TryParse(timeout, out var wait) || wait <= TimeSpan.Zero || wait > TimeSpan.FromMinutes(5)))
                    {
                        errors.Add("trigger.webhook.timeout", "Must be a duration of at most 5m, such as 30s.");
                    }

                    ValidateSignature(webhook.Signature, errors);
                    var headers = webhook.Headers ?? [];
                    if (headers.Count > 50)
                    {
                        errors.Add("trigger.webhook.headers", "Name at most 50 headers.");
                    }

                    for (var i = 0; i < headers.Count; i++)
                    {
                        if (headers[i] is not { } header || !HeaderName().IsMatch(header))
                        {
                            errors.Add($"trigger.webhook.headers[{i}]", "Must be a header name, such as X-Shopify-Topic.");
                        }
                        else if (Triggers.WebhookReceiver.NeverShown.Contains(header.ToLowerInvariant()))
                        {
                            errors.Add($"trigger.webhook.headers[{i}]", $"'{header}' carries credentials and is never passed to runs.");
                        }
                    }
                }

                break;
        }

        // Settings of another kind of trigger would be silently ignored: say so instead.
        if (trigger is not null)
        {
            if (spec.Type != "event" && (trigger.EventType is not null || trigger.Filters is not null || trigger.RouteToPersonas is not null))
            {
                errors.Add("trigger.eventType", $"Only event workflows take an event type, filters and routeToPersonas; this one is '{spec.Type}'.");
            }

            if (spec.Type != "schedule" && (trigger.Cron is not null || trigger.TimeZone is not null || trigger.Jitter is not null
                || trigger.StartAt is not null || trigger.EndAt is not null || trigger.MisfirePolicy is not null))
            {
                errors.Add("trigger.cron", $"Only schedule workflows take a cron expression, time zone, jitter, startAt, endAt and misfirePolicy; this one is '{spec.Type}'.");
            }

            if (spec.Type != "webhook" && trigger.Webhook is not null)
            {
                errors.Add("trigger.webhook", $"Only webhook workflows take webhook settings; this one is '{spec.Type}'.");
            }
        }
    }

    private static void ValidateSignature(WebhookSignature? signature, ValidationErrors errors)
    {
        if (signature is null)
        {
            return;
        }

        if (signature.Style is not { } style || !Triggers.WebhookSignatures.Styles.Contains(style))
        {
            errors.Add("trigger.webhook.signature.style", $"Is required: one of {string.Join(", ", Triggers.WebhookSignatures.Styles)}.");
        }

        var secrets = signature.Secrets ?? [];
        if (secrets.Count is 0 or > 5)
        {
            errors.Add("trigger.webhook.signature.secrets", "Name 1 to 5 workspace secrets holding the signing secret (several while one is rotated out).");
        }

        for (var i = 0; i < secrets.Count; i++)
        {
            if (!SecretReference().IsMatch(secrets[i] ?? ""))
            {
                errors.Add($"trigger.webhook.signature.secrets[{i}]", "Must be a secret's name.");
            }
        }

        if (signature.Tolerance is { } tolerance && (!Durations.TryParse(tolerance, out var window) || window <= TimeSpan.Zero || window > TimeSpan.FromHours(1)))
        {
            errors.Add("trigger.webhook.signature.tolerance", "Must be a duration of at most 1h, such as 5m.");
        }
    }

    /// <summary>The schedule's optional settings: jitter, the misfire policy, and startAt before endAt.</summary>
    private static void ValidateSchedule(WorkflowTrigger? trigger, ValidationErrors errors)
    {
        if (trigger is null)
        {
            return;
        }

        if (trigger.Jitter is { } jitter && (!Durations.TryParse(jitter, out var delay) || delay > Schedules.MaxJitter))
        {
            errors.Add("trigger.jitter", "Must be a duration of at most 1h, such as 30s.");
        }

        OneOf(trigger.MisfirePolicy, Schedules.MisfirePolicies, "trigger.misfirePolicy", errors);
        if (!Schedules.IsTimeZone(trigger.TimeZone ?? "UTC"))
        {
            // Reported above; a time without an offset cannot be read without the zone.
            return;
        }

        var zone = TimeZoneInfo.FindSystemTimeZoneById(trigger.TimeZone ?? "UTC");
        DateTimeOffset? Time(string? text, string field)
        {
            if (text is null)
            {
                return null;
            }

            if (Schedules.TryParseTime(text, zone, out var time) is { } problem)
            {
                errors.Add(field, problem);
                return null;
            }

            return time;
        }

        var startAt = Time(trigger.StartAt, "trigger.startAt");
        var endAt = Time(trigger.EndAt, "trigger.endAt");
        if (startAt is { } start && endAt is { } end && end <= start)
        {
            errors.Add("trigger.endAt", "Must be after startAt.");
        }
    }

    private static void ValidateAnnotations(IReadOnlyList<WorkflowAnnotation> annotations, ValidationErrors errors)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < annotations.Count; i++)
        {
            var field = $"annotations[{i}]";
            if (annotations[i] is not { } annotation)
            {
                errors.Add(field, "Must be an object.");
                continue;
            }

            if (annotation.Id is not { } id || !Identifier().IsMatch(id))
            {
                errors.Add($"{field}.id", "Is required: letters, digits, _ and -, starting with a letter.");
            }
            else if (!seen.Add(id))
            {
                errors.Add($"{field}.id", $"'{id}' is already an annotation.");
            }

            OneOf(annotation.Annotator, Annotators, $"{field}.annotator", errors);
            Templates(annotation.Input, $"{field}.input", TriggerRoots, errors);
            foreach (var required in annotation.Required ?? [])
            {
                if (annotation.Input?.ContainsKey(required) != true)
                {
                    errors.Add($"{field}.required", $"'{required}' is not a member of the input.");
                }
            }

            if (annotation.WriteTo is { } target && !ContextPath().IsMatch(target))
            {
                errors.Add($"{field}.writeTo", "Must be a path into the context, such as annotations.customer.");
            }
        }
    }

    private static void ValidateDefaults(WorkflowDefaults defaults, ValidationErrors errors)
    {
        Duration(defaults.Timeout, "defaults.timeout", TimeSpan.FromDays(30), errors);
        ValidateRetry(defaults.RetryPolicy, "defaults.retryPolicy", errors);
        var sandbox = defaults.Sandbox!;
        if (sandbox.TimeoutMs is < 1 or > 3_600_000)
        {
            errors.Add("defaults.sandbox.timeoutMs", "Must be between 1 and 3600000.");
        }

        if (sandbox.MemoryMb is < 16 or > 65_536)
        {
            errors.Add("defaults.sandbox.memoryMb", "Must be between 16 and 65536.");
        }

        if (sandbox.CpuCount is < 0.1 or > 64)
        {
            errors.Add("defaults.sandbox.cpuCount", "Must be between 0.1 and 64.");
        }

        if (defaults.Concurrency!.MaxRuns is < 0 or > 10_000)
        {
            errors.Add("defaults.concurrency.maxRuns", "Must be between 0 (no limit) and 10000.");
        }

        OneOf(defaults.Concurrency.WhenFull, ConcurrencyModes, "defaults.concurrency.whenFull", errors);
        if (defaults.MaxIterations is < 1 or > 1000)
        {
            errors.Add("defaults.maxIterations", "Must be between 1 and 1000.");
        }
    }

    internal static void ValidateRetry(RetryPolicy? retry, string field, ValidationErrors errors)
    {
        if (retry is null)
        {
            return;
        }

        if (retry.MaximumAttempts is < 0 or > 1000)
        {
            errors.Add($"{field}.maximumAttempts", "Must be between 1 (no retry) and 1000, or 0 for no limit.");
        }

        var initial = Duration(retry.InitialInterval, $"{field}.initialInterval", TimeSpan.FromDays(1), errors);
        if (retry.BackoffCoefficient is < 1 or > 10)
        {
            errors.Add($"{field}.backoffCoefficient", "Must be between 1 and 10.");
        }

        var maximum = Duration(retry.MaximumInterval, $"{field}.maximumInterval", TimeSpan.FromDays(7), errors);
        if (initial is { } low && maximum is { } high && high < low)
        {
            errors.Add($"{field}.maximumInterval", "Must not be shorter than initialInterval.");
        }

        References(retry.NonRetryableErrors, $"{field}.nonRetryableErrors", errors);
    }

    /// <summary>Checks a duration field; answers its value when it is one.</summary>
    internal static TimeSpan? Duration(string? text, string field, TimeSpan maximum, ValidationErrors errors)
    {
        if (text is null)
        {
            return null;
        }

        if (!Durations.TryParse(text, out var duration) || duration <= TimeSpan.Zero)
        {
            errors.Add(field, $"Must be {Durations.Rule}.");
            return null;
        }

        if (duration > maximum)
        {
            errors.Add(field, $"Must be at most {maximum.TotalDays:0.##} days.");
            return null;
        }

        return duration;
    }

    /// <summary>Parses every template in a JSON value, reporting syntax errors (and unknown roots) under the path of their string.</summary>
    internal static JsonTemplate? Templates(JsonNode? node, string field, IReadOnlySet<string> roots, ValidationErrors errors)
    {
        try
        {
            var template = JsonTemplate.Parse(node, new ExpressionOptions { Roots = roots });
            SecretsByName(template.Placeholders, field, errors);
            return template;
        }
        catch (JsonTemplateException ex)
        {
            errors.Add(ex.Path.Length == 0 ? field : $"{field}.{ex.Path}", ex.Syntax.Message);
            return null;
        }
    }

    /// <summary>Refuses templates that read <c>secrets</c> whole or by a computed name: a run decrypts only the secrets its definition names.</summary>
    internal static void SecretsByName(IEnumerable<(string Path, Expression Expression)> placeholders, string field, ValidationErrors errors)
    {
        foreach (var (path, _) in placeholders.Where(p => p.Expression.ReadsUnnamedMembersOf(Secrets.SecretReferences.Root)).DistinctBy(p => p.Path))
        {
            errors.Add(path.Length == 0 ? field : $"{field}.{path}", Secrets.SecretReferences.ByNameOnly);
        }
    }

    internal static void OneOf(string? value, IReadOnlyList<string> allowed, string field, ValidationErrors errors)
    {
        if (value is null || !allowed.Contains(value))
        {
            errors.Add(field, $"Must be one of: {string.Join(", ", allowed)}.");
        }
    }

    internal static void Length(string? value, string field, int max, ValidationErrors errors)
    {
        if (value is not null && value.Length > max)
        {
            errors.Add(field, $"Must be at most {max} characters.");
        }
    }

    private static void Reference(string? value, string field, ValidationErrors errors)
    {
        if (value is not null && !ReferencePattern().IsMatch(value))
        {
            errors.Add(field, "Must be an ID or name: at most 200 letters, digits and . _ : / -.");
        }
    }

    private static void References(IReadOnlyList<string>? values, string field, ValidationErrors errors)
    {
        if (values is null)
        {
            return;
        }

        if (values.Count > MaxListItems)
        {
            errors.Add(field, $"Must have at most {MaxListItems} entries.");
        }

        for (var i = 0; i < values.Count; i++)
        {
            Reference(values[i] ?? "", $"{field}[{i}]", errors);
        }
    }

    private static void Url(string? value, string field, ValidationErrors errors)
    {
        if (value is not null && (value.Length > 2048 || !Uri.TryCreate(value, UriKind.Absolute, out var uri) || uri.Scheme is not ("https" or "http")))
        {
            errors.Add(field, "Must be an http(s) URL of at most 2048 characters.");
        }
    }

    private static void JsonSize(JsonNode? node, string field, int maxBytes, ValidationErrors errors)
    {
        if (node is not null && Encoding.UTF8.GetByteCount(node.ToJsonString()) > maxBytes)
        {
            errors.Add(field, $"Must be at most {maxBytes / 1024} KiB of JSON.");
        }
    }

    private static List<string> Distinct(IReadOnlyList<string>? values) =>
        (values ?? []).Where(v => v is not null).Select(v => v.Trim()).Where(v => v.Length > 0).Distinct(StringComparer.Ordinal).ToList();

    private static RetryPolicy Merge(RetryPolicy? given, RetryPolicy fallback) => new()
    {
        MaximumAttempts = given?.MaximumAttempts ?? fallback.MaximumAttempts,
        InitialInterval = given?.InitialInterval ?? fallback.InitialInterval,
        BackoffCoefficient = given?.BackoffCoefficient ?? fallback.BackoffCoefficient,
        MaximumInterval = given?.MaximumInterval ?? fallback.MaximumInterval,
        NonRetryableErrors = given?.NonRetryableErrors ?? fallback.NonRetryableErrors,
    };

    [GeneratedRegex(@"^[A-Za-z][A-Za-z0-9_-]{0,63}$", RegexOptions.CultureInvariant)]
    internal static partial Regex Identifier();

    [GeneratedRegex(@"^[A-Za-z0-9._:/-]{1,200}$", RegexOptions.CultureInvariant)]
    private static partial Regex ReferencePattern();

    [GeneratedRegex(@"^[A-Za-z0-9_.-]{1,128}$", RegexOptions.CultureInvariant)]
    private static partial Regex SecretReference();

    [GeneratedRegex(@"^[A-Za-z0-9_.:*-]{1,200}$", RegexOptions.CultureInvariant)]
    internal static partial Regex EventType();

    // RFC 9110 token characters.
    [GeneratedRegex(@"^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,100}$", RegexOptions.CultureInvariant)]
    private static partial Regex HeaderName();

    [GeneratedRegex(@"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*){0,15}$", RegexOptions.CultureInvariant)]
    private static partial Regex ContextPath();
}
