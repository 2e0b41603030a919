namespace Cadre.Triggers;

/// <summary>How this node fires schedule triggers. Section <c>Cadre:Schedules</c>.</summary>
public sealed class ScheduleOptions
{
    public const string SectionName = "Cadre:Schedules";

    /// <summary>Whether this node runs the scheduler (default true; every node may, each tick still fires once).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// The longest the scheduler sleeps between looks at the schedule table (default 1 s): it wakes at
    /// the earliest due tick, and at once when this node changes a schedule, but only looking finds
    /// what another node changed.
    /// </summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How late a tick may start its run and still count as on time (default 1 min, as Quartz's
    /// misfire threshold). A tick later than this (Cadre was down or stalled) is a misfire, handled by
    /// the trigger's <c>misfirePolicy</c>.
    /// </summary>
    public TimeSpan MisfireThreshold { get; set; } = TimeSpan.FromMinutes(1);
}
