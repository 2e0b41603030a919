using Cadre.Workspaces;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Cadre.Runs;

/// <summary>A question an approval step (or an agent, before a tool call) puts to people; the step waits until it settles.</summary>
internal sealed class Approval
{
    public const string IdPrefix = "apr";

    public required string Id { get; init; }

    public required string WorkspaceId { get; init; }

    public required string RunId { get; init; }

    public required string StepId { get; init; }

    public int Iteration { get; init; }

    /// <summary><c>pending</c>, <c>approved</c>, <c>rejected</c>, <c>expired</c> (timed out and rejected) or <c>cancelled</c> (the run ended first).</summary>
    public required string Status { get; set; }

    public int Quorum { get; init; }

    public DateTime? Deadline { get; set; }

    /// <summary>How many times a timeout passed the question on (<c>onTimeout: escalate</c>).</summary>
    public int Escalations { get; set; }

    /// <summary>What the approvers are asked: the step's rendered input (JSON).</summary>
    public required string Summary { get; init; }

    /// <summary>The approval settings (JSON) when they are not the step's own: a tool's, asked for by an agent.</summary>
    public string? Spec { get; init; }

    /// <summary>Why it settled: quorum, rejected, timeout.</summary>
    public string? OutcomeReason { get; set; }

    public DateTime CreatedAt { get; init; }

    public DateTime? DecidedAt { get; set; }

    public int Version { get; set; }
}

/// <summary>One team, user or service account that may decide.</summary>
internal sealed class ApprovalApprover
{
    public required string ApprovalId { get; init; }

    public required string ApproverId { get; init; }
}

/// <summary>One person's decision, once per approval: the audit of who decided what, when and why.</summary>
internal sealed class ApprovalDecision
{
    public required string ApprovalId { get; init; }

    public required string UserId { get; init; }

    /// <summary><c>approve</c> or <c>reject</c>.</summary>
    public required string Decision { get; init; }

    public string? Comment { get; init; }

    public DateTime CreatedAt { get; init; }
}

internal sealed class ApprovalConfiguration : IEntityTypeConfiguration<Approval>
{
    public void Configure(EntityTypeBuilder<Approval> builder)
    {
        builder.HasKey(a => a.Id);
        builder.Property(a => a.Version).IsConcurrencyToken();
        builder.HasOne<Workspace>().WithMany().HasForeignKey(a => a.WorkspaceId).OnDelete(DeleteBehavior.Cascade);
        builder.HasOne<Run>().WithMany().HasForeignKey(a => a.RunId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class ApprovalApproverConfiguration : IEntityTypeConfiguration<ApprovalApprover>
{
    public void Configure(EntityTypeBuilder<ApprovalApprover> builder)
    {
        builder.HasKey(a => new { a.ApprovalId, a.ApproverId });
        builder.HasOne<Approval>().WithMany().HasForeignKey(a => a.ApprovalId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class ApprovalDecisionConfiguration : IEntityTypeConfiguration<ApprovalDecision>
{
    public void Configure(EntityTypeBuilder<ApprovalDecision> builder)
    {
        builder.HasKey(d => new { d.ApprovalId, d.UserId });
        builder.HasOne<Approval>().WithMany().HasForeignKey(d => d.ApprovalId).OnDelete(DeleteBehavior.Cascade);
    }
}
