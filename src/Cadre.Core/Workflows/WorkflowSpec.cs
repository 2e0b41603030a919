using System.Text.Json.Nodes;

namespace Cadre.Workflows;

/// <summary>
/// What a workflow is: the body of create and import, the document of versions, and (with its
/// identity) the answer of get. Fields are optional on the way in; <see cref="WorkflowRules"/> fills
/// defaults and checks everything, so the stored document is exactly what the engine runs.
/// </summary>
public record WorkflowSpec
{
    /// <summary>Unique slug in the workspace.</summary>
    public string? Name { get; init; }

    /// <summary>The display form of the name (default: the name).</summary>
    public string? Title { get; init; }

    public string? Description { get; init; }

    /// <summary><c>manual</c> (default), <c>event</c>, <c>webhook</c> or <c>schedule</c>; must agree with <see cref="Trigger"/>.</summary>
    public string? Type { get; init; }

    /// <summary><c>workflow</c> (default), <c>agent_session</c> or <c>pipeline</c>: for listing and the UI.</summary>
    public string? SubType { get; init; }

    /// <summary>The owning team's ID.</summary>
    public string? TeamId { get; init; }

    /// <summary>The persona (name or ID) that runs agent steps naming none.</summary>
    public string? ExecutingAgent { get; init; }

    public IReadOnlyList<string>? SkillIds { get; init; }

    public IReadOnlyList<string>? SkillTags { get; init; }

    public IReadOnlyList<string>? GuardrailIds { get; init; }

    public IReadOnlyList<string>? GuardrailTags { get; init; }

    public WorkflowTrigger? Trigger { get; init; }

    /// <summary>Whether triggers start runs (manual runs work either way).</summary>
    public bool? IsActive { get; init; }

    /// <summary>Enrichments fetched into the context before the first step.</summary>
    public IReadOnlyList<WorkflowAnnotation>? Annotations { get; init; }

    /// <summary>The DAG.</summary>
    public IReadOnlyList<WorkflowStep>? Steps { get; init; }

    /// <summary>A designer → checker → optimizer loop, expanded into <see cref="Steps"/> when saved.</summary>
    public PersonaPipeline? PersonaPipeline { get; init; }

    public WorkflowDefaults? Defaults { get; init; }

    public WorkflowNotifications? Notifications { get; init; }

    /// <summary>Credential overrides: a name the steps use → a secret reference.</summary>
    public IReadOnlyDictionary<string, string>? Credentials { get; init; }

    public WorkflowRepository? Repository { get; init; }

    public JsonObject? Metadata { get; init; }

    /// <summary>The builder's layout: one node per step, edges matching <c>dependsOn</c>.</summary>
    public WorkflowGraph? Graph { get; init; }
}

public sealed record WorkflowTrigger
{
    /// <summary>For <c>event</c>: the event type that starts a run.</summary>
    public string? EventType { get; init; }

    /// <summary>For <c>event</c>: a filter over <c>context.event</c> (docs/expressions.md).</summary>
    public JsonObject? Filters { get; init; }

    /// <summary>For <c>event</c>: one run per persona whose <c>scope</c> takes the event (its type and source), with that persona as <c>context.persona</c>.</summary>
    public bool? RouteToPersonas { get; init; }

    /// <summary>For <c>schedule</c>: a Quartz cron expression (seconds optional: 5 fields are read as minute-first).</summary>
    public string? Cron { get; init; }

    /// <summary>For <c>schedule</c>: an IANA time zone (default UTC).</summary>
    public string? TimeZone { get; init; }

    /// <summary>For <c>schedule</c>: each tick's run starts up to this long after it (at most 1h), the same delay on every node.</summary>
    public string? Jitter { get; init; }

    /// <summary>For <c>schedule</c>: no tick before this ISO-8601 time (without an offset: in <see cref="TimeZone"/>).</summary>
    public string? StartAt { get; init; }

    /// <summary>For <c>schedule</c>: no tick after this ISO-8601 time (without an offset: in <see cref="TimeZone"/>).</summary>
    public string? EndAt { get; init; }

    /// <summary>For <c>schedule</c>: what ticks missed by more than the misfire threshold (Cadre was down) do: <c>skip</c> (default) or <c>run-once</c>.</summary>
    public string? MisfirePolicy { get; init; }

    /// <summary>For <c>webhook</c>: how a call is answered.</summary>
    public WebhookIntake? Webhook { get; init; }
}

public sealed record WebhookIntake
{
    /// <summary><c>async</c> (default: 202 with the run) or <c>sync</c> (wait for the run's output).</summary>
    public string? Mode { get; init; }

    /// <summary>For <c>sync</c>: how long to wait before answering 202 anyway (default 30s, at most 5m).</summary>
    public string? Timeout { get; init; }

    /// <summary>A signature every call must carry; without one (or with a bad one) the call is refused with 401.</summary>
    public WebhookSignature? Signature { get; init; }

    /// <summary>Request headers the run sees in <c>context.headers</c>, besides the usual ones (Content-Type, User-Agent, event and delivery headers).</summary>
    public IReadOnlyList<string>? Headers { get; init; }
}

public sealed record WebhookSignature
{
    /// <summary><c>standard</c> (Standard Webhooks), <c>github</c> or <c>stripe</c>.</summary>
    public string? Style { get; init; }

    /// <summary>Names of workspace secrets holding the signing secret: several while one is rotated out.</summary>
    public IReadOnlyList<string>? Secrets { get; init; }

    /// <summary>How far a signed timestamp may be from now, either way (default 5m, at most 1h; not used by <c>github</c>, which signs none).</summary>
    public string? Tolerance { get; init; }
}

public sealed record WorkflowAnnotation
{
    /// <summary>Unique among the annotations.</summary>
    public string? Id { get; init; }

    /// <summary><c>persona</c>, <c>workflow</c>, <c>run</c>, <c>event</c> or <c>http</c>.</summary>
    public string? Annotator { get; init; }

    /// <summary>Templated lookup values, such as <c>{"id": "{{ context.body.personaId }}"}</c>; for <c>http</c>, the request.</summary>
    public JsonObject? Input { get; init; }

    /// <summary>Input members that must render to a value, else the run fails before its first step.</summary>
    public IReadOnlyList<string>? Required { get; init; }

    /// <summary>Related entities to fetch with it (for Cadre's own entities).</summary>
    public IReadOnlyList<string>? Relations { get; init; }

    /// <summary>Where in the context the result goes: <c>annotations.&lt;id&gt;</c> by default.</summary>
    public string? WriteTo { get; init; }
}

public sealed record WorkflowStep
{
    /// <summary>Unique in the workflow: a letter, then letters, digits, <c>_</c> or <c>-</c>; templates read it as <c>steps.&lt;id&gt;</c>.</summary>
    public string? Id { get; init; }

    public string? Name { get; init; }

    public ActivityReference? Activity { get; init; }

    /// <summary>The activity's input; strings may be templates.</summary>
    public JsonNode? Input { get; init; }

    public IReadOnlyList<string>? DependsOn { get; init; }

    /// <summary>A filter evaluated when the step becomes ready; false skips it.</summary>
    public JsonObject? When { get; init; }

    public RetryPolicy? RetryPolicy { get; init; }

    /// <summary>A duration such as <c>30s</c>, <c>5m</c>, <c>1h30m</c> or <c>PT30S</c>.</summary>
    public string? Timeout { get; init; }

    /// <summary><c>abort</c> (default), <c>continue</c> or <c>compensate</c>.</summary>
    public string? OnFailure { get; init; }

    /// <summary>Run on unwind, after the step had succeeded.</summary>
    public CompensationSpec? Compensation { get; init; }

    public ApprovalSpec? Approval { get; init; }

    /// <summary>Sugar for a <c>sleep</c> step of <see cref="Sleep"/>.</summary>
    public bool? IsSleep { get; init; }

    public string? Sleep { get; init; }

    public LoopSpec? Loop { get; init; }
}

public sealed record ActivityReference
{
    /// <summary>The activity's identifier, such as <c>http</c> or <c>agent</c>.</summary>
    public string? UniqueIdentifier { get; init; }

    /// <summary>A version the registry has (default: the latest).</summary>
    public int? Version { get; init; }

    /// <summary>Run the latest version at run time rather than the one saved.</summary>
    public bool? AutoUpgradeToLatestVersion { get; init; }
}

public sealed record RetryPolicy
{
    /// <summary>1–1000 (1: no retry), or 0 for no limit.</summary>
    public int? MaximumAttempts { get; init; }

    public string? InitialInterval { get; init; }

    /// <summary>1–10.</summary>
    public double? BackoffCoefficient { get; init; }

    public string? MaximumInterval { get; init; }

    /// <summary>Error types that fail at once.</summary>
    public IReadOnlyList<string>? NonRetryableErrors { get; init; }
}

public sealed record CompensationSpec
{
    public ActivityReference? Activity { get; init; }

    public JsonNode? Input { get; init; }
}

public sealed record ApprovalSpec
{
    /// <summary>Team or user IDs.</summary>
    public IReadOnlyList<string>? Approvers { get; init; }

    /// <summary>How many approvals it takes (default 1; at most the number of approvers).</summary>
    public int? Quorum { get; init; }

    public string? Timeout { get; init; }

    /// <summary><c>reject</c> (default), <c>approve</c> or <c>escalate</c>.</summary>
    public string? OnTimeout { get; init; }

    /// <summary>For <c>escalate</c>: who is asked next.</summary>
    public IReadOnlyList<string>? EscalateTo { get; init; }
}

public sealed record LoopSpec
{
    /// <summary>The steps repeated, in order; each must be a step of this workflow.</summary>
    public IReadOnlyList<string>? Body { get; init; }

    /// <summary>A filter checked after each pass; true ends the loop.</summary>
    public JsonObject? Until { get; init; }

    /// <summary>1–1000 (default: the workflow's maxIterations).</summary>
    public int? MaxIterations { get; init; }
}

public sealed record PersonaPipeline
{
    public PipelineStage? Designer { get; init; }

    public PipelineStage? Checker { get; init; }

    /// <summary>Optional: without it the designer revises with the checker's notes.</summary>
    public PipelineStage? Optimizer { get; init; }

    /// <summary>The task the designer works on; a template (default <c>{{ context.body.prompt }}</c>).</summary>
    public string? Input { get; init; }

    public int? MaxIterations { get; init; }

    public string? CheckerInstructions { get; init; }

    public string? OptimizerInstructions { get; init; }
}

public sealed record PipelineStage
{
    /// <summary>A persona name or ID.</summary>
    public string? Persona { get; init; }

    /// <summary>Model settings for this stage only.</summary>
    public PipelineModelOverride? Model { get; init; }
}

public sealed record PipelineModelOverride
{
    public string? Provider { get; init; }

    public string? Model { get; init; }

    public double? Temperature { get; init; }

    public int? MaxTokens { get; init; }
}

public sealed record WorkflowDefaults
{
    public string? Timeout { get; init; }

    public RetryPolicy? RetryPolicy { get; init; }

    public SandboxLimits? Sandbox { get; init; }

    public ConcurrencyPolicy? Concurrency { get; init; }

    /// <summary>Default loop bound, 1–1000 (default 10).</summary>
    public int? MaxIterations { get; init; }
}

public sealed record SandboxLimits
{
    public int? TimeoutMs { get; init; }

    public int? MemoryMb { get; init; }

    public double? CpuCount { get; init; }
}

public sealed record ConcurrencyPolicy
{
    /// <summary>Most runs at once (0 or absent: no limit).</summary>
    public int? MaxRuns { get; init; }

    /// <summary><c>queue</c> (default), <c>reject</c> or <c>cancel-oldest</c>.</summary>
    public string? WhenFull { get; init; }
}

public sealed record WorkflowNotifications
{
    /// <summary>Where each end of a run (succeeded or failed) is posted.</summary>
    public string? WebhookUrl { get; init; }

    /// <summary>Where a failed run is posted (besides <see cref="WebhookUrl"/>).</summary>
    public string? ErrorWebhookUrl { get; init; }

    /// <summary>The workspace secret that signs these posts (Standard Webhooks); unsigned without one.</summary>
    public string? SigningSecret { get; init; }
}

public sealed record WorkflowRepository
{
    public string? RepoUrl { get; init; }

    public string? RepoBranch { get; init; }

    /// <summary>A secret reference, never the token.</summary>
    public string? RepoTokenSecret { get; init; }
}

public sealed record WorkflowGraph
{
    public IReadOnlyList<GraphNode>? Nodes { get; init; }

    public IReadOnlyList<GraphEdge>? Edges { get; init; }
}

public sealed record GraphNode
{
    /// <summary>A step ID.</summary>
    public string? Id { get; init; }

    public GraphPosition? Position { get; init; }

    /// <summary>Free builder data (size, colour, collapsed…), at most 4 KiB.</summary>
    public JsonObject? Data { get; init; }
}

public sealed record GraphPosition(double X, double Y);

public sealed record GraphEdge
{
    public string? Source { get; init; }

    public string? Target { get; init; }
}
