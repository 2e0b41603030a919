using Cadre.Common;
using Cadre.Storage;
using Cadre.Workflows;
using Microsoft.EntityFrameworkCore;

namespace Cadre.Triggers;

/// <summary>
/// Keeps <c>workflow_schedules</c> in step with workflows: a row for every workflow of type
/// <c>schedule</c>, enabled while it is active and out of the bin. Called in the transaction that
/// changes the workflow, and by the scheduler for a row found behind its workflow.
/// </summary>
internal static class ScheduleSync
{
    /// <summary>
    /// Writes the row the workflow calls for (none when it is not a schedule workflow). A change that
    /// leaves the timing alone (the steps, the misfire policy) keeps the next tick, so an edit never
    /// drops a tick; a change of the timing, or enabling, starts again from the first tick after now.
    /// With <paramref name="expectedRevision"/> the write applies only to that revision of the row.
    /// </summary>
    public static async Task<bool> SyncAsync(CadreDbContext db, Workflow workflow, DateTime now, CancellationToken cancellationToken, long? expectedRevision = null)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(workflow);
        var rows = db.WorkflowSchedules.Where(s => s.WorkflowId == workflow.Id);
        var existing = workflow.Type == "schedule" ? await rows.AsNoTracking().FirstOrDefaultAsync(cancellationToken) : null;
        if (workflow.Type != "schedule" || Plan(workflow, WorkflowJson.Deserialize(workflow.Definition), existing, now) is not { } planned)
        {
            return await rows.Where(s => expectedRevision == null || s.Revision == expectedRevision).ExecuteDeleteAsync(cancellationToken) > 0;
        }

        if (existing is null)
        {
            db.WorkflowSchedules.Add(planned);
            await db.SaveChangesAsync(cancellationToken);
            db.Entry(planned).State = EntityState.Detached;
            return true;
        }

        // Last writer wins against the scheduler (its own writes are conditional on the revision this bumps);
        // the lease is dropped so any node may fire from the new state at once.
        return await rows.Where(s => expectedRevision == null || s.Revision == expectedRevision).ExecuteUpdateAsync(
            set => set
                .SetProperty(s => s.WorkflowVersion, planned.WorkflowVersion)
                .SetProperty(s => s.Cron, planned.Cron)
                .SetProperty(s => s.TimeZone, planned.TimeZone)
                .SetProperty(s => s.StartAt, planned.StartAt)
                .SetProperty(s => s.EndAt, planned.EndAt)
                .SetProperty(s => s.JitterMs, planned.JitterMs)
                .SetProperty(s => s.MisfirePolicy, planned.MisfirePolicy)
                .SetProperty(s => s.Enabled, planned.Enabled)
                .SetProperty(s => s.NextFireAt, planned.NextFireAt)
                .SetProperty(s => s.DueAt, planned.DueAt)
                .SetProperty(s => s.CatchUp, planned.CatchUp)
                .SetProperty(s => s.LeaseOwner, (string?)null)
                .SetProperty(s => s.LeaseExpiresAt, (DateTime?)null)
                .SetProperty(s => s.Revision, s => s.Revision + 1)
                .SetProperty(s => s.UpdatedAt, now),
            cancellationToken) > 0;
    }

    /// <summary>The row a schedule workflow calls for, keeping <paramref name="existing"/>'s next tick when the timing is unchanged; null when the trigger cannot be read.</summary>
    internal static WorkflowSchedule? Plan(Workflow workflow, WorkflowSpec spec, WorkflowSchedule? existing, DateTime now)
    {
        if (CronSchedule.From(spec.Trigger) is not { } schedule)
        {
            return null;
        }

        var row = new WorkflowSchedule
        {
            WorkflowId = workflow.Id,
            WorkspaceId = workflow.WorkspaceId,
            WorkflowVersion = workflow.Version,
            Cron = schedule.QuartzCron,
            TimeZone = spec.Trigger!.TimeZone ?? "UTC",
            StartAt = schedule.StartAt?.ToStorageTime(),
            EndAt = schedule.EndAt?.ToStorageTime(),
            JitterMs = (long)schedule.Jitter.TotalMilliseconds,
            MisfirePolicy = schedule.MisfirePolicy,
            Enabled = workflow.IsActive && workflow.DeletedAt is null,
            LastFireAt = existing?.LastFireAt,
            LastRunId = existing?.LastRunId,
            Revision = 1,
            UpdatedAt = now,
        };
        if (existing is not null && existing.Enabled == row.Enabled && existing.Cron == row.Cron && existing.TimeZone == row.TimeZone
            && existing.StartAt == row.StartAt && existing.EndAt == row.EndAt && existing.JitterMs == row.JitterMs)
        {
            row.NextFireAt = existing.NextFireAt;
            row.DueAt = existing.DueAt;
            row.CatchUp = existing.CatchUp;
        }
        else if (row.Enabled)
        {
            SetNext(row, Read(row), new DateTimeOffset(now, TimeSpan.Zero));
        }

        return row;
    }

    /// <summary>The schedule as the row holds it.</summary>
    internal static CronSchedule Read(WorkflowSchedule row) => CronSchedule.Of(
        row.Cron,
        row.TimeZone,
        row.StartAt is { } start ? new DateTimeOffset(start, TimeSpan.Zero) : null,
        row.EndAt is { } end ? new DateTimeOffset(end, TimeSpan.Zero) : null,
        TimeSpan.FromMilliseconds(row.JitterMs),
        row.MisfirePolicy);

    /// <summary>Sets the row's next tick to the first one after <paramref name="after"/>, and when its run is due (with its jitter).</summary>
    internal static void SetNext(WorkflowSchedule row, CronSchedule schedule, DateTimeOffset after)
    {
        var next = schedule.NextAfter(after);
        row.NextFireAt = next?.UtcDateTime;
        row.DueAt = next is { } tick ? (tick + schedule.JitterFor(row.WorkflowId, tick)).UtcDateTime : null;
        row.CatchUp = false;
    }

    /// <summary>Writes the row's firing state if it is still at <paramref name="expectedRevision"/>; answers whether it was (and moves the row's revision on).</summary>
    internal static async Task<bool> WriteStateAsync(CadreDbContext db, WorkflowSchedule row, long expectedRevision, CancellationToken cancellationToken)
    {
        var written = await db.WorkflowSchedules.Where(s => s.WorkflowId == row.WorkflowId && s.Revision == expectedRevision).ExecuteUpdateAsync(
            set => set
                .SetProperty(s => s.NextFireAt, row.NextFireAt)
                .SetProperty(s => s.DueAt, row.DueAt)
                .SetProperty(s => s.CatchUp, row.CatchUp)
                .SetProperty(s => s.LastFireAt, row.LastFireAt)
                .SetProperty(s => s.LastRunId, row.LastRunId)
                .SetProperty(s => s.LeaseOwner, row.LeaseOwner)
                .SetProperty(s => s.LeaseExpiresAt, row.LeaseExpiresAt)
                .SetProperty(s => s.Revision, expectedRevision + 1)
                .SetProperty(s => s.UpdatedAt, row.UpdatedAt),
            cancellationToken);
        if (written == 1)
        {
            row.Revision = expectedRevision + 1;
        }

        return written == 1;
    }
}
