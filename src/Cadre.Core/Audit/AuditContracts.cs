using System.Text.Json.Nodes;
using Cadre.Auth;

namespace Cadre.Audit;

/// <summary>One audit entry as the API shows it.</summary>
/// <param name="WorkspaceId">Null for an instance-level entry.</param>
/// <param name="WorkspaceName">The workspace's name when it happened.</param>
/// <param name="Resource">What the action was about; null when nothing in particular (a sign-in that failed).</param>
/// <param name="Details">A small object: <c>fields</c> a change named, the path's other values (<c>route</c>), a query's parameters; never secret values.</param>
public sealed record AuditEntryResponse(
    string Id,
    string? WorkspaceId,
    string? WorkspaceName,
    DateTime At,
    AuditActorResponse Actor,
    string Action,
    AuditResourceResponse? Resource,
    AuditRequestResponse Request,
    JsonObject? Details);

/// <summary>Who acted, as they were when it happened.</summary>
/// <param name="Kind"><c>user</c>, <c>service_account</c>, <c>instance_key</c>, <c>operator</c> (the <c>cadre</c> command on the server's machine) or <c>anonymous</c>.</param>
/// <param name="Via"><c>session</c>, <c>api_key</c>, <c>console</c> (an operator) or <c>none</c>.</param>
/// <param name="KeyPrefix">The API key's visible prefix, never its secret.</param>
public sealed record AuditActorResponse(string Kind, string? Id, string? Name, string? Email, string Via, string? KeyId, string? KeyPrefix);

/// <param name="Id">The resource's ID, or the name the path gave when the response carried no ID (most deletes).</param>
public sealed record AuditResourceResponse(string Type, string? Id, string? Name);

/// <param name="Path">The request path, never its query string; a token in it reads <c>{token}</c>.</param>
/// <param name="ClientIp">The client's address (from X-Forwarded-For when Cadre:Http:TrustForwardedHeaders is on).</param>
public sealed record AuditRequestResponse(string Method, string Path, int Status, string? ClientIp, string? UserAgent, string? TraceId);

/// <summary>The filters of an audit list or export; each null means any.</summary>
/// <param name="Actor">A user, service account or instance key ID, or the ID of the API key used.</param>
/// <param name="Action">An action, or a prefix ending in <c>*</c> (<c>workflow.*</c>).</param>
/// <param name="From">Entries at or after this instant (ISO-8601).</param>
/// <param name="To">Entries before this instant (ISO-8601).</param>
/// <param name="Status">An HTTP status (<c>201</c>) or class (<c>4xx</c>).</param>
/// <param name="Workspace">Instance-wide lists only: a workspace ID or name, or <c>none</c> for instance-level entries.</param>
public sealed record AuditQuery(
    string? Actor = null,
    string? Action = null,
    string? ResourceType = null,
    string? ResourceId = null,
    string? From = null,
    string? To = null,
    string? Status = null,
    string? Workspace = null);

/// <summary>Who an entry is written for: a known caller, a person who just signed in, or nobody.</summary>
internal sealed record AuditActor(CallerKind? Kind, string? Id, string? KeyId, string Via)
{
    /// <summary>How an operator at the server's machine acts: the <c>cadre</c> command on the database itself, no credential.</summary>
    public const string ConsoleVia = "console";

    public static AuditActor Anonymous { get; } = new(null, null, null, "none");

    /// <summary>An operator using the <c>cadre</c> command on the server's machine, known by their account there (<c>alice@host</c>).</summary>
    public static AuditActor Operator(string account) => new(null, account, null, ConsoleVia);

    public static AuditActor For(Caller caller)
    {
        ArgumentNullException.ThrowIfNull(caller);
        return new(caller.Kind, caller.ActorId, caller.KeyId, caller.KeyId is null ? "session" : "api_key");
    }
}

/// <summary>What the HTTP layer knows about an action when it writes its entry.</summary>
internal sealed record AuditRecord(
    string? WorkspaceId,
    AuditActor Actor,
    string Action,
    string? ResourceType,
    string? ResourceId,
    string? ResourceName,
    string Method,
    string Path,
    int Status,
    string? ClientIp,
    string? UserAgent,
    string? TraceId,
    JsonObject? Details);
