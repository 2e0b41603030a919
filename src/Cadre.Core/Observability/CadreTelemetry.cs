using System.Diagnostics;
using Cadre.Runs;

namespace Cadre.Observability;

/// <summary>
/// Cadre's spans, on <see cref="System.Diagnostics"/> alone (the server wires the OpenTelemetry SDK to
/// them). A run outlives any process, so no in-process span can cover it: each run keeps the
/// <c>traceparent</c> of its creation span (<see cref="Run.TraceParent"/>), every attempt's span is
/// started under it on whichever node runs the attempt, and when the run comes to rest a span with
/// the run's real start and end is recorded under it too. .NET cannot choose a span's ID, so the run
/// span cannot be made before its end for attempts to hang under: attempts are its siblings, all
/// children of the creation span, in one trace with the request that started the run.
/// </summary>
internal static class CadreTelemetry
{
    /// <summary>The activity source of runs and attempts, and the meter's name.</summary>
    public const string Name = "Cadre";

    /// <summary>The source of model-call spans (Microsoft.Extensions.AI's GenAI conventions).</summary>
    public const string ModelCallsName = "Cadre.Llm";

    public static string Version => Nodes.ThisNode.Version;

    public static readonly ActivitySource Source = new(Name, Version);

    public const string WorkspaceIdTag = "cadre.workspace.id";
    public const string RunIdTag = "cadre.run.id";
    public const string WorkflowIdTag = "cadre.workflow.id";
    public const string StepIdTag = "cadre.step.id";
    public const string AttemptTag = "cadre.attempt";
    public const string ActivityTag = "cadre.activity";
    public const string OutcomeTag = "cadre.outcome";

    /// <summary>The span of a run's creation, under the current one (the request that starts it) if there is one; null when nobody listens.</summary>
    public static Activity? StartRunCreation(string workspaceId, string workflowId, string workflowName, string trigger)
    {
        var span = Source.StartActivity($"cadre.run.create {workflowName}");
        span?.SetTag(WorkspaceIdTag, workspaceId);
        span?.SetTag(WorkflowIdTag, workflowId);
        span?.SetTag("cadre.run.trigger", trigger);
        return span;
    }

    /// <summary>
    /// The <c>traceparent</c> a new run keeps: its creation span's; without one (this node records no
    /// traces), the current activity's (the caller's trace and sampling decision); else a new sampled
    /// trace, so nodes that do record traces still put the run's spans together.
    /// </summary>
    public static string TraceParentFor(Activity? creation) =>
        (creation ?? Activity.Current) is { IdFormat: ActivityIdFormat.W3C, Id: { } id }
            ? id
            : $"00-{ActivityTraceId.CreateRandom().ToHexString()}-{ActivitySpanId.CreateRandom().ToHexString()}-01";

    /// <summary>The span of one attempt of a step (or of its compensation), under the run's trace; null when nobody listens.</summary>
    public static Activity? StartAttempt(Run run, string stepId, string activity, int attempt, int iteration, string kind)
    {
        if (!Source.HasListeners())
        {
            return null;
        }

        // A run made before schema 9 has no trace of its own: its attempts start traces of theirs.
        _ = System.Diagnostics.ActivityContext.TryParse(run.TraceParent, null, isRemote: true, out var parent);
        var span = Source.StartActivity(kind == "compensation" ? $"cadre.compensation {stepId}" : $"cadre.step {stepId}", ActivityKind.Internal, parent);
        if (span is { IsAllDataRequested: true })
        {
            span.SetTag(WorkspaceIdTag, run.WorkspaceId);
            span.SetTag(RunIdTag, run.Id);
            span.SetTag(WorkflowIdTag, run.WorkflowId);
            span.SetTag(StepIdTag, stepId);
            span.SetTag(AttemptTag, attempt);
            span.SetTag(ActivityTag, activity);
            if (iteration > 1)
            {
                span.SetTag("cadre.iteration", iteration);
            }
        }

        return span;
    }

    /// <summary>Ends an attempt's span with how it ended (<see cref="Outcome"/>) and, for a failure, the error's type (never its message).</summary>
    public static void EndAttempt(Activity? span, string outcome, ActivityError? error)
    {
        if (span is null)
        {
            return;
        }

        span.SetTag(OutcomeTag, outcome);
        if (error is not null && outcome == "failed")
        {
            span.SetTag("error.type", error.Type);
            span.SetStatus(ActivityStatusCode.Error, error.Type);
        }

        span.Dispose();
    }

    /// <summary>What became of an attempt, in a few words that suit a metric label.</summary>
    public static string Outcome(ActivityOutcome outcome) => outcome switch
    {
        FailedOutcome => "failed",
        Succeeded or EmitEvent => "succeeded",
        _ => "waiting",
    };

    /// <summary>Records the span of a run that came to rest (ended, or halted), from its creation to now, under its trace.</summary>
    public static void RunRested(Run run, string workflowName, DateTime now)
    {
        if (!Source.HasListeners() || !System.Diagnostics.ActivityContext.TryParse(run.TraceParent, null, isRemote: true, out var parent))
        {
            return;
        }

        using var span = Source.StartActivity($"cadre.run {workflowName}", ActivityKind.Internal, parent, startTime: Utc(run.CreatedAt));
        if (span is null)
        {
            return;
        }

        span.SetTag(WorkspaceIdTag, run.WorkspaceId);
        span.SetTag(RunIdTag, run.Id);
        span.SetTag(WorkflowIdTag, run.WorkflowId);
        span.SetTag("cadre.workflow.version", run.WorkflowVersion);
        span.SetTag("cadre.run.trigger", run.TriggerType);
        span.SetTag("cadre.run.status", run.Status);
        span.SetTag("gen_ai.usage.input_tokens", run.InputTokens);
        span.SetTag("gen_ai.usage.output_tokens", run.OutputTokens);
        span.SetTag("cadre.run.cost_usd", run.CostNanos / 1e9);
        if (run.Status is "failed" or "compensated")
        {
            span.SetStatus(ActivityStatusCode.Error, run.Status);
        }

        span.SetEndTime(Utc(now));
    }

    // Storage hands times back without a kind; they are UTC.
    private static DateTime Utc(DateTime time) => DateTime.SpecifyKind(time, DateTimeKind.Utc);
}
