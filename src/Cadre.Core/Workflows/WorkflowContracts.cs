using System.Text.Json;
using Cadre.Common;

namespace Cadre.Workflows;

/// <summary>A workflow as the API answers it: the whole normalised definition (steps expanded, graph laid out) and its identity.</summary>
public sealed record WorkflowResponse : WorkflowSpec
{
    public WorkflowResponse(WorkflowSpec spec)
        : base(spec)
    {
    }

    public required string Id { get; init; }

    public required string WorkspaceId { get; init; }

    /// <summary>Incremented by every change; the ETag.</summary>
    public required int Version { get; init; }

    /// <summary><c>active</c> or <c>deleted</c> (in the bin). Whether triggers fire is <see cref="WorkflowSpec.IsActive"/>.</summary>
    public required string Status { get; init; }

    /// <summary>The path a webhook workflow is called at; the token is shown by <c>…/webhook-token</c> to editors.</summary>
    public string? WebhookPath { get; init; }

    public Actor? CreatedBy { get; init; }

    public Actor? UpdatedBy { get; init; }

    public required DateTime CreatedAt { get; init; }

    public required DateTime UpdatedAt { get; init; }

    public DateTime? DeletedAt { get; init; }

    public Actor? DeletedBy { get; init; }
}

/// <summary>A workflow as lists show it.</summary>
/// <param name="Trigger">What starts it: the event type, the cron expression, <c>webhook</c> or <c>manual</c>.</param>
/// <param name="Personas">The personas its steps use, by name.</param>
/// <param name="Models">The models its model steps name as written (<c>provider/model</c>); personas' own models are theirs.</param>
/// <param name="LastRun">The latest run, or null before the first.</param>
public sealed record WorkflowSummary(
    string Id,
    string Name,
    string Title,
    string? Description,
    string Type,
    string SubType,
    bool IsActive,
    string Trigger,
    IReadOnlyList<string> Personas,
    IReadOnlyList<string> Models,
    int StepCount,
    int Version,
    string Status,
    LastRunSummary? LastRun,
    Actor? CreatedBy,
    Actor? UpdatedBy,
    DateTime CreatedAt,
    DateTime UpdatedAt);

/// <summary>A workflow's latest run as lists show it.</summary>
public sealed record LastRunSummary(string Id, int Number, string Status, DateTime CreatedAt, DateTime? FinishedAt);

public sealed record WorkflowQuery(
    string? Search = null,
    bool? Active = null,
    string? Type = null,
    string? EventType = null,
    string? Persona = null,
    string? Status = null,
    string? Sort = null);

public sealed record WorkflowVersionSummary(int Version, string Change, string Name, string Title, Actor? CreatedBy, DateTime CreatedAt);

public sealed record WorkflowVersionResponse(int Version, string Change, Actor? CreatedBy, DateTime CreatedAt, WorkflowSpec Definition);

public sealed record WorkflowDiffResponse(int From, int To, IReadOnlyList<FieldChange> Changes);

/// <summary>Body of <c>POST …/workflows/{workflow}/rename</c>.</summary>
public sealed record RenameWorkflowRequest(string? Name, string? Title = null);

/// <summary>Body of <c>POST …/workflows/{workflow}/duplicate</c> (optional): the copy's name and title.</summary>
public sealed record DuplicateWorkflowRequest(string? Name = null, string? Title = null);

public sealed record RevertWorkflowRequest(int? Version);

public sealed record BulkDeleteWorkflowsRequest(IReadOnlyList<string>? Items);

/// <summary>A webhook workflow's token: callers POST to <see cref="Path"/>.</summary>
/// <param name="PreviousValidUntil">After a rotation with a grace period: until when the previous token still works.</param>
public sealed record WebhookTokenResponse(string Token, string Path, DateTime? PreviousValidUntil = null);

/// <summary>Body of a token rotation (optional).</summary>
/// <param name="GracePeriod">How long the old token keeps working (default none: it stops at once; at most 7d).</param>
public sealed record RotateWebhookTokenRequest(string? GracePeriod = null);

public static class WorkflowJson
{
    public static string Serialize(WorkflowSpec spec) => JsonSerializer.Serialize(spec, StrictJson.Options);

    public static WorkflowSpec Deserialize(string json) =>
        JsonSerializer.Deserialize<WorkflowSpec>(json, StrictJson.Options) ?? throw new JsonException("A workflow definition is null.");
}
