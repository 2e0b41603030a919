using System.Text.Json.Nodes;
using Cadre.Common;

namespace Cadre.Workspaces;

/// <summary>Body of <c>POST /api/v1/workspaces</c>.</summary>
/// <param name="Name">Unique slug: 3–63 lowercase letters, digits and dashes, starting and ending with a letter or digit.</param>
/// <param name="DisplayName">Human name (1–100 characters); defaults to <paramref name="Name"/>.</param>
/// <param name="Settings">
/// Free-form settings object (at most 64 KiB of JSON). Cadre reads three members: <c>maxConcurrentRuns</c>
/// (a whole number capping the workspace's runs in progress), <c>timeZone</c> (the IANA time zone analytics
/// counts days in, default UTC) and <c>retention</c> (how long finished
/// work is kept: <c>{"runs": "30d", "events": "7d", "deliveries": "forever"}</c>, each a duration of at
/// least 1 hour or <c>forever</c>; a kind left out follows the server's <c>Cadre:Retention</c> setting).
/// </param>
/// <param name="Owner">An existing user (ID or e-mail address) who becomes the workspace's owner. Default: you, when you are a person.</param>
public sealed record CreateWorkspaceRequest(string? Name, string? DisplayName = null, JsonObject? Settings = null, string? Owner = null);

/// <summary>
/// Body of <c>PATCH /api/v1/workspaces/{workspace}</c>. Omitted (or null) fields stay as they are;
/// <paramref name="Settings"/> is merged into the current settings as a JSON Merge Patch (RFC 7396),
/// so a member set to null is removed. Cadre reads <c>settings.maxConcurrentRuns</c>, <c>settings.timeZone</c> and
/// <c>settings.retention</c> (see the create request); a bad value of any is a 422.
/// </summary>
public sealed record UpdateWorkspaceRequest(string? Name = null, string? DisplayName = null, JsonObject? Settings = null);

/// <summary>A workspace.</summary>
/// <param name="Version">Incremented on every change; also the ETag.</param>
public sealed record WorkspaceResponse(
    string Id,
    string Name,
    string DisplayName,
    JsonObject Settings,
    Actor? CreatedBy,
    Actor? UpdatedBy,
    int Version,
    DateTime CreatedAt,
    DateTime UpdatedAt);

/// <summary>The least the access checks need to know of a workspace.</summary>
public sealed record WorkspaceRef(string Id, string Name);
