using Cadre.Workflows;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Cadre.Triggers;

/// <summary>
/// A schedule workflow's firing state, one row per workflow of type <c>schedule</c> (active or not):
/// the trigger's settings as the scheduler reads them, and the next tick with when its run is due, so
/// every node's scheduler finds due work with one indexed query. Kept by <see cref="ScheduleSync"/> in
/// the same transaction as the workflow; advanced by <see cref="ScheduleWorker"/> with updates
/// conditional on <see cref="Revision"/>.
/// </summary>
internal sealed class WorkflowSchedule
{
    public required string WorkflowId { get; init; }

    public required string WorkspaceId { get; init; }

    /// <summary>The workflow version the row was computed from; a row behind its workflow is computed again before it fires.</summary>
    public int WorkflowVersion { get; set; }

    /// <summary>The cron expression in Quartz's form (seconds first).</summary>
    public required string Cron { get; set; }

    public required string TimeZone { get; set; }

    public DateTime? StartAt { get; set; }

    public DateTime? EndAt { get; set; }

    public long JitterMs { get; set; }

    /// <summary><c>skip</c> or <c>run-once</c>.</summary>
    public required string MisfirePolicy { get; set; }

    /// <summary>Whether it fires: the workflow is active and not in the bin.</summary>
    public bool Enabled { get; set; }

    /// <summary>The nominal time of the next tick (UTC), or null when nothing is to fire (disabled, or past endAt).</summary>
    public DateTime? NextFireAt { get; set; }

    /// <summary>When the next tick's run starts: <see cref="NextFireAt"/> plus its jitter. What the scheduler's query reads.</summary>
    public DateTime? DueAt { get; set; }

    /// <summary>The next tick is a misfire's catch-up (<c>run-once</c>) and fires however late it is.</summary>
    public bool CatchUp { get; set; }

    /// <summary>The nominal time of the last tick that started a run.</summary>
    public DateTime? LastFireAt { get; set; }

    public string? LastRunId { get; set; }

    /// <summary>The node firing the due tick now, so other nodes leave it alone until <see cref="LeaseExpiresAt"/>.</summary>
    public string? LeaseOwner { get; set; }

    public DateTime? LeaseExpiresAt { get; set; }

    /// <summary>Incremented by every write: the scheduler's updates apply only to the revision they read.</summary>
    public long Revision { get; set; }

    public DateTime UpdatedAt { get; set; }
}

internal sealed class WorkflowScheduleConfiguration : IEntityTypeConfiguration<WorkflowSchedule>
{
    public void Configure(EntityTypeBuilder<WorkflowSchedule> builder)
    {
        builder.ToTable("workflow_schedules");
        builder.HasKey(s => s.WorkflowId);
        builder.HasIndex(s => s.DueAt).HasFilter("due_at IS NOT NULL");
        builder.HasOne<Workflow>().WithMany().HasForeignKey(s => s.WorkflowId).OnDelete(DeleteBehavior.Cascade);
    }
}
