using System.Text.Json.Nodes;
using Cadre.Expressions;
using Microsoft.Extensions.Caching.Memory;

namespace Cadre.Workflows;

/// <summary>One step with its templates and filters parsed and compiled.</summary>
public sealed record CompiledStep(WorkflowStep Step, JsonTemplate Input, Filter When, Filter? Until, JsonTemplate? CompensationInput)
{
    /// <summary>The secrets the step's templates read (input, when, until, compensation), by name.</summary>
    public IReadOnlyList<string> SecretReads { get; init; } = [];
}

/// <summary>A workflow version ready to run: every template and filter compiled once.</summary>
public sealed record CompiledWorkflow(string WorkflowId, int Version, WorkflowSpec Spec, Filter TriggerFilter, IReadOnlyDictionary<string, CompiledStep> Steps)
{
    /// <summary>The secrets a run of this version decrypts: those its steps and annotations read by name, and no others.</summary>
    public IReadOnlyList<string> SecretNames { get; init; } = [];

    /// <summary>Whether any step (or compensation) runs the activity.</summary>
    public bool Uses(string activity) => Steps.Values.Any(s =>
        s.Step.Activity?.UniqueIdentifier == activity || s.Step.Compensation?.Activity?.UniqueIdentifier == activity);

    public static CompiledWorkflow Compile(string workflowId, int version, WorkflowSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var stepRoots = new ExpressionOptions { Roots = WorkflowRules.StepRoots };
        var steps = (spec.Steps ?? []).ToDictionary(
            s => s.Id!,
            s => new CompiledStep(
                s,
                JsonTemplate.Parse(s.Input, stepRoots),
                s.When is null ? Filter.Always : Filter.Parse(s.When, stepRoots),
                s.Loop?.Until is { } until ? Filter.Parse(until, stepRoots) : null,
                s.Compensation is { } compensation ? JsonTemplate.Parse(compensation.Input, stepRoots) : null)
            {
                SecretReads = Secrets.SecretReferences.In([s.Input, s.When, s.Loop?.Until, s.Compensation?.Input]),
            },
            StringComparer.Ordinal);
        var trigger = spec.Trigger?.Filters is { } filters ? Filter.Parse(filters, new ExpressionOptions { Roots = WorkflowRules.TriggerRoots }) : Filter.Always;
        var annotationReads = Secrets.SecretReferences.In((spec.Annotations ?? []).Select(a => (JsonNode?)a.Input));
        return new CompiledWorkflow(workflowId, version, spec, trigger, steps)
        {
            SecretNames = [.. steps.Values.SelectMany(s => s.SecretReads).Concat(annotationReads).Distinct(StringComparer.Ordinal)],
        };
    }
}

/// <summary>
/// Compiled workflow versions, kept in memory so a run's templates cost microseconds rather than a
/// parse each time. A version never changes, so an entry never goes stale; the cache is bounded by count.
/// </summary>
public sealed class CompiledWorkflows : IDisposable
{
    public const int Capacity = 1000;

    private readonly MemoryCache _cache = new(new MemoryCacheOptions { SizeLimit = Capacity });

    public bool TryGet(string workflowId, int version, out CompiledWorkflow compiled) =>
        _cache.TryGetValue((workflowId, version), out compiled!);

    public CompiledWorkflow Get(string workflowId, int version, Func<WorkflowSpec> definition)
    {
        ArgumentNullException.ThrowIfNull(definition);
        return _cache.GetOrCreate((workflowId, version), entry =>
        {
            entry.Size = 1;
            entry.SlidingExpiration = TimeSpan.FromHours(1);
            return CompiledWorkflow.Compile(workflowId, version, definition());
        })!;
    }

    public void Dispose() => _cache.Dispose();
}

/// <summary>
/// The side-effect-free activities, as pure functions of their input and the run's values: the
/// engine runs them inline (DESIGN §5), and tests and previews can call them directly.
/// </summary>
public static class PureActivities
{
    /// <summary>transform: the input with every template evaluated.</summary>
    public static JsonNode? Transform(JsonTemplate input, ExpressionScope scope)
    {
        ArgumentNullException.ThrowIfNull(input);
        return input.Render(scope);
    }

    /// <summary>condition: <c>{result}</c>, whether the input's <c>test</c> filter holds.</summary>
    public static JsonObject Condition(JsonObject input, ExpressionScope scope)
    {
        ArgumentNullException.ThrowIfNull(input);
        var test = Filter.Parse(input["test"], new ExpressionOptions { Roots = WorkflowRules.StepRoots });
        return new JsonObject { ["result"] = test.Matches(scope) };
    }

    /// <summary>switch: <c>{case, value}</c> of the first case whose <c>when</c> holds, else the default (case null).</summary>
    public static JsonObject Switch(JsonObject input, ExpressionScope scope)
    {
        ArgumentNullException.ThrowIfNull(input);
        var options = new ExpressionOptions { Roots = WorkflowRules.StepRoots };
        var cases = input["cases"] as JsonArray ?? [];
        for (var i = 0; i < cases.Count; i++)
        {
            if (cases[i] is JsonObject candidate && Filter.Parse(candidate["when"], options).Matches(scope))
            {
                return new JsonObject { ["case"] = i, ["value"] = JsonTemplate.Parse(candidate["value"], options).Render(scope) };
            }
        }

        return new JsonObject { ["case"] = null, ["value"] = JsonTemplate.Parse(input["default"], options).Render(scope) };
    }
}
