using Cadre.Common;
using Cadre.Workspaces;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Cadre.Workflows;

/// <summary>
/// A workflow row: the definition (a normalised <see cref="WorkflowSpec"/> as JSON) with the
/// columns lists filter and sort on copied beside it, and the webhook token (hashed for lookup,
/// protected for showing to editors).
/// </summary>
internal sealed class Workflow : IBinnable
{
    public const string IdPrefix = "wf";

    public required string Id { get; init; }

    public required string WorkspaceId { get; init; }

    public required string Name { get; set; }

    public required string Title { get; set; }

    public string? Description { get; set; }

    public required string Type { get; set; }

    public required string SubType { get; set; }

    public bool IsActive { get; set; }

    public string? TeamId { get; set; }

    public string? TriggerEventType { get; set; }

    public required string Definition { get; set; }

    public int Version { get; set; }

    public required byte[] WebhookTokenHash { get; set; }

    public required string WebhookTokenProtected { get; set; }

    /// <summary>The token before the last rotation, while its grace period lasts.</summary>
    public byte[]? PreviousWebhookTokenHash { get; set; }

    public DateTime? PreviousWebhookTokenExpiresAt { get; set; }

    public string? CreatedBy { get; init; }

    public string? UpdatedBy { get; set; }

    public DateTime CreatedAt { get; init; }

    public DateTime UpdatedAt { get; set; }

    public DateTime? DeletedAt { get; set; }

    public string? DeletedBy { get; set; }
}

/// <summary>What a workflow uses, for filters: personas, activities, skills, guardrails.</summary>
internal sealed class WorkflowLabel
{
    public required string WorkflowId { get; init; }

    public required string Kind { get; init; }

    public required string Value { get; init; }

    public required string WorkspaceId { get; init; }
}

internal sealed class WorkflowVersion
{
    public required string WorkflowId { get; init; }

    public int Version { get; init; }

    public required string Definition { get; init; }

    public required string Change { get; init; }

    public string? CreatedBy { get; init; }

    public DateTime CreatedAt { get; init; }
}

/// <summary>An event type a workspace defined, with the JSON Schema its payloads must follow.</summary>
internal sealed class CustomEventType
{
    public const string IdPrefix = "evt";

    public required string Id { get; init; }

    public required string WorkspaceId { get; init; }

    public required string Name { get; set; }

    public string? Description { get; set; }

    public required string Schema { get; set; }

    public int Version { get; set; }

    public string? CreatedBy { get; init; }

    public string? UpdatedBy { get; set; }

    public DateTime CreatedAt { get; init; }

    public DateTime UpdatedAt { get; set; }
}

internal sealed class WorkflowConfiguration : IEntityTypeConfiguration<Workflow>
{
    public void Configure(EntityTypeBuilder<Workflow> builder)
    {
        builder.HasKey(w => w.Id);
        builder.HasIndex(w => new { w.WorkspaceId, w.Name }).IsUnique().HasFilter("deleted_at IS NULL");
        builder.HasIndex(w => w.WebhookTokenHash).IsUnique();
        builder.Property(w => w.Version).IsConcurrencyToken();
        builder.HasOne<Workspace>().WithMany().HasForeignKey(w => w.WorkspaceId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class WorkflowLabelConfiguration : IEntityTypeConfiguration<WorkflowLabel>
{
    public void Configure(EntityTypeBuilder<WorkflowLabel> builder)
    {
        builder.HasKey(l => new { l.WorkflowId, l.Kind, l.Value });
        builder.HasIndex(l => new { l.WorkspaceId, l.Kind, l.Value });
        builder.HasOne<Workflow>().WithMany().HasForeignKey(l => l.WorkflowId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class WorkflowVersionConfiguration : IEntityTypeConfiguration<WorkflowVersion>
{
    public void Configure(EntityTypeBuilder<WorkflowVersion> builder)
    {
        builder.HasKey(v => new { v.WorkflowId, v.Version });
        builder.HasOne<Workflow>().WithMany().HasForeignKey(v => v.WorkflowId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class CustomEventTypeConfiguration : IEntityTypeConfiguration<CustomEventType>
{
    public void Configure(EntityTypeBuilder<CustomEventType> builder)
    {
        builder.ToTable("event_types");
        builder.HasKey(e => e.Id);
        builder.HasIndex(e => new { e.WorkspaceId, e.Name }).IsUnique();
        builder.Property(e => e.Version).IsConcurrencyToken();
        builder.HasOne<Workspace>().WithMany().HasForeignKey(e => e.WorkspaceId).OnDelete(DeleteBehavior.Cascade);
    }
}
