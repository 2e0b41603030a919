using System.Text.Json.Nodes;

namespace Cadre.Runs;

/// <summary>The body of a manual start: what steps read as <c>context.body</c>, <c>context.prompt</c> and the rest.</summary>
public sealed record StartRunRequest
{
    /// <summary>The trigger input, read by steps as <c>context.body</c> (default <c>{}</c>).</summary>
    public JsonNode? Input { get; init; }

    /// <summary>A free-text instruction for agent steps, read as <c>context.prompt</c>.</summary>
    public string? Prompt { get; init; }

    /// <summary>
    /// Files or links for the run (objects such as <c>{name, url, contentType}</c>), read as <c>context.attachments</c>.
    /// An item <c>{"storageId": "file_…"}</c> names an uploaded file of the workspace, which must be ready; steps read it
    /// with the file's <c>name</c>, <c>contentType</c>, <c>size</c> and <c>sha256</c>, and model steps give images to the model.
    /// </summary>
    public JsonArray? Attachments { get; init; }

    /// <summary>Uploaded image files (storage IDs) the run's model steps show the model, read as <c>context.referenceImages</c>.</summary>
    public IReadOnlyList<string>? ReferenceImageIds { get; init; }

    /// <summary>Per-run settings the steps read as <c>context.config</c>.</summary>
    public JsonObject? Config { get; init; }

    /// <summary>A repository the run works on, read as <c>context.repo.url</c>.</summary>
    public string? GithubRepoUrl { get; init; }

    /// <summary>Its branch, read as <c>context.repo.branch</c>.</summary>
    public string? BranchName { get; init; }
}

public sealed record RunQuery(string? Workflow, string? Status, string? Trigger, DateTimeOffset? CreatedAfter, DateTimeOffset? CreatedBefore);

/// <summary>A run in a list: no context, no steps.</summary>
public sealed record RunSummary(
    string Id,
    string WorkflowId,
    int WorkflowVersion,
    int Number,
    string DisplayId,
    string Status,
    RunTrigger Trigger,
    JsonNode? Output,
    JsonObject? Error,
    string? ParentRunId,
    DateTime CreatedAt,
    DateTime? StartedAt,
    DateTime? FinishedAt,
    DateTime UpdatedAt)
{
    /// <summary>Tokens and cost of the run's model calls so far, so a list shows what each run cost without reading each run.</summary>
    public RunUsage Usage { get; init; } = new(0, 0, 0, 0m);
}

/// <summary>How a run started: the trigger, who (a user or service account ID) and, for reruns and child runs, from what.</summary>
public sealed record RunTrigger(string Type, string? StartedBy, string? ParentRunId, string? ParentStepId);

/// <summary>A run in full.</summary>
public sealed record RunResponse(
    string Id,
    string WorkflowId,
    string WorkflowName,
    int WorkflowVersion,
    int Number,
    string DisplayId,
    string Status,
    bool HaltRequested,
    RunTrigger Trigger,
    JsonNode? Input,
    JsonObject Context,
    JsonNode? Output,
    JsonObject? Error,
    JsonObject Links,
    IReadOnlyList<RunStepResponse> Steps,
    RunUsage Usage,
    DateTime CreatedAt,
    DateTime? StartedAt,
    DateTime? FinishedAt,
    DateTime UpdatedAt,
    int Version)
{
    /// <summary>On <c>GET …/runs/{id}</c>: the conversation (prompts and agents' answers), oldest first; null elsewhere.</summary>
    public IReadOnlyList<RunMessage>? Messages { get; init; }

    /// <summary>On <c>GET …/runs/{id}</c>: the newest 100 log lines, oldest first (<c>…/events?type=log</c> has all); null elsewhere.</summary>
    public IReadOnlyList<RunLogLine>? Logs { get; init; }
}

public sealed record RunStepResponse(
    string Id,
    string Activity,
    string Status,
    int Attempts,
    int Iteration,
    JsonNode? Output,
    JsonObject? Error,
    DateTime? StartedAt,
    DateTime? FinishedAt);

/// <summary>Tokens and cost the run's model calls used (zero until a step calls a model).</summary>
/// <param name="CachedInputTokens">Of the input tokens, those served from the provider's prompt cache (billed lower).</param>
/// <param name="CostUsd">In US dollars, from the workspace's price table at the time of each call.</param>
public sealed record RunUsage(long InputTokens, long OutputTokens, long CachedInputTokens, decimal CostUsd)
{
    internal static RunUsage Of(Run run) => new(run.InputTokens, run.OutputTokens, run.CachedInputTokens, Llm.Money.Usd(run.CostNanos));
}

/// <summary>One attempt: a step run, a timer, or a compensation.</summary>
public sealed record RunTaskResponse(
    long Id,
    string StepId,
    string Kind,
    int Attempt,
    string Status,
    string IdempotencyKey,
    DateTime AvailableAt,
    DateTime? StartedAt,
    DateTime? FinishedAt,
    string? Worker,
    JsonObject? Error);

/// <summary>One entry of a run's history.</summary>
public sealed record RunEventResponse(long Id, string RunId, string Type, JsonObject Data, DateTime CreatedAt);
