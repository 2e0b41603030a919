using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Cadre.Audit;

/// <summary>
/// One line of the audit log: who did what to which resource, when and from where. Append-only: no
/// API changes or deletes one, the database refuses updates, and only the retention pass deletes
/// (see docs/audit.md). Who and what are copied in when written, so an entry still reads right after
/// the person is renamed or the workspace, key or resource is deleted.
/// </summary>
internal sealed class AuditEntry
{
    public const string IdPrefix = "aud";

    public required string Id { get; init; }

    /// <summary>The workspace the action was in; null for instance-level actions (accounts, sign-in, instance admin).</summary>
    public string? WorkspaceId { get; init; }

    /// <summary>The workspace's name when it happened (names may change; the workspace may be deleted).</summary>
    public string? WorkspaceName { get; init; }

    public DateTime At { get; init; }

    /// <summary><c>user</c>, <c>service_account</c>, <c>instance_key</c>, <c>operator</c> (the <c>cadre</c> command on the server's machine) or <c>anonymous</c> (a webhook, a signed URL, a failed sign-in).</summary>
    public required string ActorKind { get; init; }

    /// <summary>The user (<c>usr_…</c>), service account (<c>sa_…</c>), instance key (<c>key_…</c>) or operator's account (<c>alice@host</c>); null for anonymous.</summary>
    public string? ActorId { get; init; }

    /// <summary>The person's display name, the account's or the instance key's name, when it happened.</summary>
    public string? ActorName { get; init; }

    /// <summary>The person's address, when it happened.</summary>
    public string? ActorEmail { get; init; }

    /// <summary>The credential: <c>session</c>, <c>api_key</c>, <c>console</c> (an operator on the server's machine) or <c>none</c> (public endpoints: the token, URL or password is in the request).</summary>
    public required string Via { get; init; }

    /// <summary>The API key used, if any.</summary>
    public string? KeyId { get; init; }

    /// <summary>The key's visible prefix (never the secret).</summary>
    public string? KeyPrefix { get; init; }

    /// <summary>A stable dotted name: <c>workflow.created</c>, <c>run.halted</c>, <c>auth.sign_in_failed</c>, …</summary>
    public required string Action { get; init; }

    public string? ResourceType { get; init; }

    /// <summary>The resource's ID, or the name the path gave when the response carried no ID (most deletes).</summary>
    public string? ResourceId { get; init; }

    public string? ResourceName { get; init; }

    public required string Method { get; init; }

    /// <summary>The request path (tokens in it replaced by <c>{token}</c>; never the query string).</summary>
    public required string Path { get; init; }

    public int Status { get; init; }

    public string? ClientIp { get; init; }

    public string? UserAgent { get; init; }

    public string? TraceId { get; init; }

    /// <summary>A small JSON object: the fields a change named, the path's other values, a failed sign-in's address. Never secret values.</summary>
    public string? Details { get; init; }
}

internal sealed class AuditEntryConfiguration : IEntityTypeConfiguration<AuditEntry>
{
    public void Configure(EntityTypeBuilder<AuditEntry> builder)
    {
        builder.ToTable("audit_entries");
        builder.HasKey(e => e.Id);
        // No foreign keys: an entry outlives the workspace, key, actor and resource it names.
        builder.HasIndex(e => new { e.WorkspaceId, e.Id });
        builder.HasIndex(e => new { e.WorkspaceId, e.Action, e.Id });
        builder.HasIndex(e => new { e.WorkspaceId, e.ActorId, e.Id });
        builder.HasIndex(e => new { e.WorkspaceId, e.ResourceId, e.Id });
        builder.HasIndex(e => e.At);
    }
}
