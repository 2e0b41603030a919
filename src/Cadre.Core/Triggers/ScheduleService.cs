using Cadre.Common;
using Cadre.Storage;
using Cadre.Workflows;
using Microsoft.EntityFrameworkCore;

namespace Cadre.Triggers;

/// <summary>Schedules as the API reads them: the trigger's settings, what the scheduler fired last and fires next, and the coming ticks.</summary>
internal sealed class ScheduleService(CadreDbContext db, TimeProvider time)
{
    public const int UpcomingCount = 5;

    /// <summary>The schedule of a workflow (found by the caller), or 404 when it is not a schedule workflow.</summary>
    public async Task<ServiceResult<ScheduleResponse>> DescribeAsync(WorkflowResponse workflow, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(workflow);
        if (workflow.Type != "schedule" || CronSchedule.From(workflow.Trigger) is not { } schedule)
        {
            return ServiceError.NotFound($"Workflow '{workflow.Name}' has no schedule: it is a {workflow.Type} workflow, and only schedule workflows have one.");
        }

        var row = await db.WorkflowSchedules.AsNoTracking().FirstOrDefaultAsync(s => s.WorkflowId == workflow.Id, cancellationToken);
        var next = schedule.Upcoming(time.GetUtcNow(), UpcomingCount)
            .Select(tick => new ScheduleTick(tick.UtcDateTime, TimeZoneInfo.ConvertTime(tick, schedule.TimeZone), (tick + schedule.JitterFor(workflow.Id, tick)).UtcDateTime))
            .ToList();
        return new ScheduleResponse(
            workflow.Id,
            workflow.Name!,
            schedule.Cron,
            schedule.QuartzCron,
            workflow.Trigger!.TimeZone ?? "UTC",
            Paused: workflow.IsActive != true || workflow.Status == "deleted",
            schedule.StartAt?.UtcDateTime,
            schedule.EndAt?.UtcDateTime,
            schedule.MisfirePolicy,
            workflow.Trigger.Jitter,
            row?.LastFireAt,
            row?.LastRunId,
            row?.NextFireAt,
            next);
    }
}
