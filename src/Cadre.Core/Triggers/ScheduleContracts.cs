namespace Cadre.Triggers;

/// <summary>A schedule workflow's schedule, as <c>GET …/workflows/{workflow}/schedule</c> answers it.</summary>
/// <param name="Cron">The expression as written in the trigger.</param>
/// <param name="QuartzCron">How Quartz reads it (seconds first; five fields get a zero seconds field).</param>
/// <param name="Paused">True while it fires nothing: the workflow is inactive or in the bin (activate resumes it).</param>
/// <param name="StartAt">No tick before this (UTC), or null.</param>
/// <param name="EndAt">No tick after this (UTC), or null.</param>
/// <param name="Jitter">Each tick's run starts up to this long after it, or null.</param>
/// <param name="LastFiredAt">The nominal time of the last tick that started a run.</param>
/// <param name="LastRunId">That run.</param>
/// <param name="NextFireAt">The tick the scheduler fires next; null while paused or once past endAt.</param>
/// <param name="Next">The next five ticks from now (within startAt and endAt, whether or not paused).</param>
public sealed record ScheduleResponse(
    string WorkflowId,
    string WorkflowName,
    string Cron,
    string QuartzCron,
    string TimeZone,
    bool Paused,
    DateTime? StartAt,
    DateTime? EndAt,
    string MisfirePolicy,
    string? Jitter,
    DateTime? LastFiredAt,
    string? LastRunId,
    DateTime? NextFireAt,
    IReadOnlyList<ScheduleTick> Next);

/// <summary>One tick of a schedule.</summary>
/// <param name="At">The tick, in UTC: its run's idempotency key is <c>schedule:</c> and this time.</param>
/// <param name="Local">The same instant in the schedule's time zone, with that zone's offset then.</param>
/// <param name="StartsAt">When its run starts: the tick plus its jitter (the tick itself without jitter).</param>
public sealed record ScheduleTick(DateTime At, DateTimeOffset Local, DateTime StartsAt);
