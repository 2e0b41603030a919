using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Quartz;

namespace Cadre.Workflows;

/// <summary>Cron expressions (read by Quartz.NET) and time zones of schedule triggers.</summary>
public static partial class Schedules
{
    /// <summary>The longest jitter a schedule may add to its ticks.</summary>
    public static readonly TimeSpan MaxJitter = TimeSpan.FromHours(1);

    /// <summary><c>skip</c> (the default): missed ticks start nothing; <c>run-once</c>: one run for the latest missed tick.</summary>
    public static IReadOnlyList<string> MisfirePolicies { get; } = ["skip", "run-once"];

    public const string TimeRule = "an ISO-8601 time such as 2026-03-01T09:00:00Z; without an offset it is read in the schedule's time zone";

    private static readonly string[] DayNames = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"];

    /// <summary>
    /// The expression in Quartz's form. Five fields are classic cron (minute first, days of week
    /// 0–7 from Sunday) and get a seconds field, named days and the <c>?</c> Quartz wants in one of
    /// the two day fields; six or seven fields are Quartz's own (seconds first, optional year).
    /// </summary>
    public static string ToQuartz(string cron)
    {
        ArgumentNullException.ThrowIfNull(cron);
        var fields = cron.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (fields.Length != 5)
        {
            return string.Join(' ', fields);
        }

        var (minute, hour, dayOfMonth, month, dayOfWeek) = (fields[0], fields[1], fields[2], fields[3], fields[4]);
        // Classic cron counts Sunday as 0 (or 7); Quartz as 1. Names mean the same in both.
        dayOfWeek = DayNumber().Replace(dayOfWeek, match => DayNames[int.Parse(match.Value, CultureInfo.InvariantCulture)]);
        if (dayOfWeek == "*")
        {
            dayOfWeek = "?";
        }
        else if (dayOfMonth == "*")
        {
            dayOfMonth = "?";
        }

        return $"0 {minute} {hour} {dayOfMonth} {month} {dayOfWeek}";
    }

    /// <summary>Null when Quartz reads the expression, else why not.</summary>
    public static string? CronProblem(string cron)
    {
        if (cron.Length > 200)
        {
            return "Must be at most 200 characters.";
        }

        var fields = cron.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length;
        if (fields is < 5 or > 7)
        {
            return $"Has {fields} fields; use 5 (minute hour day month weekday) or Quartz's 6–7 (with seconds first, optional year).";
        }

        try
        {
            CronExpression.ValidateExpression(ToQuartz(cron));
            return null;
        }
        catch (FormatException ex)
        {
            return $"Is not a valid cron expression: {ex.Message}";
        }
    }

    public static bool IsTimeZone(string zone) => zone.Length <= 100 && TimeZoneInfo.TryFindSystemTimeZoneById(zone, out _);

    /// <summary>
    /// Reads a schedule's <c>startAt</c> or <c>endAt</c>: ISO-8601, a date or a date and time. With
    /// an offset (or <c>Z</c>) it is that instant; without, a wall-clock time in <paramref name="zone"/>
    /// (an ambiguous time at a DST change reads as standard time; a time the clocks skip is refused).
    /// Null when it reads, else why not.
    /// </summary>
    public static string? TryParseTime(string text, TimeZoneInfo zone, out DateTimeOffset time)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(zone);
        time = default;
        var match = IsoTime().Match(text);
        if (!match.Success)
        {
            return $"Must be {TimeRule}.";
        }

        if (match.Groups["offset"].Success)
        {
            return DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.None, out time) ? null : $"Must be {TimeRule}.";
        }

        if (!DateTime.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.None, out var local))
        {
            return $"Must be {TimeRule}.";
        }

        local = DateTime.SpecifyKind(local, DateTimeKind.Unspecified);
        if (zone.IsInvalidTime(local))
        {
            return $"{text} does not exist in {zone.Id}: the clocks skip it.";
        }

        time = new DateTimeOffset(local, zone.GetUtcOffset(local));
        return null;
    }

    // A day number that is not a step (after '/') or an nth-day (after '#').
    [GeneratedRegex(@"(?<![/#\d])[0-7](?!\d)", RegexOptions.CultureInvariant)]
    private static partial Regex DayNumber();

    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,7})?)?)?(?<offset>Z|[+-]\d{2}:\d{2})?$", RegexOptions.CultureInvariant)]
    private static partial Regex IsoTime();
}

/// <summary>
/// When a schedule trigger fires: its ticks in its time zone (Quartz's <see cref="CronExpression"/>,
/// which handles DST), bounded by <see cref="StartAt"/> and <see cref="EndAt"/> (both inclusive), and
/// the jitter each tick's run waits. Pure functions of the definition and a given time, so every node
/// computes the same ticks.
/// </summary>
public sealed class CronSchedule
{
    private CronSchedule(string cron, TimeZoneInfo zone, DateTimeOffset? startAt, DateTimeOffset? endAt, TimeSpan jitter, string misfirePolicy)
    {
        Cron = cron;
        QuartzCron = Schedules.ToQuartz(cron);
        TimeZone = zone;
        StartAt = startAt;
        EndAt = endAt;
        Jitter = jitter;
        MisfirePolicy = misfirePolicy;
    }

    /// <summary>The expression as written.</summary>
    public string Cron { get; }

    /// <summary>The expression as Quartz reads it (seconds first).</summary>
    public string QuartzCron { get; }

    public TimeZoneInfo TimeZone { get; }

    public DateTimeOffset? StartAt { get; }

    public DateTimeOffset? EndAt { get; }

    public TimeSpan Jitter { get; }

    /// <summary><c>skip</c> or <c>run-once</c>.</summary>
    public string MisfirePolicy { get; }

    /// <summary>The schedule of a valid schedule trigger (as <see cref="WorkflowRules"/> leaves it), or null when it has none that reads.</summary>
    public static CronSchedule? From(WorkflowTrigger? trigger)
    {
        if (trigger?.Cron is not { } cron || Schedules.CronProblem(cron) is not null
            || !TimeZoneInfo.TryFindSystemTimeZoneById(trigger.TimeZone ?? "UTC", out var zone))
        {
            return null;
        }

        DateTimeOffset? startAt = trigger.StartAt is { } start && Schedules.TryParseTime(start, zone, out var s) is null ? s : null;
        DateTimeOffset? endAt = trigger.EndAt is { } end && Schedules.TryParseTime(end, zone, out var e) is null ? e : null;
        var jitter = trigger.Jitter is { } text && Common.Durations.TryParse(text, out var j) && j <= Schedules.MaxJitter ? j : TimeSpan.Zero;
        return new CronSchedule(cron, zone, startAt, endAt, jitter, trigger.MisfirePolicy ?? "skip");
    }

    /// <summary>A schedule from stored parts (the scheduler's row).</summary>
    public static CronSchedule Of(string quartzCron, string timeZone, DateTimeOffset? startAt, DateTimeOffset? endAt, TimeSpan jitter, string misfirePolicy) =>
        new(quartzCron, TimeZoneInfo.FindSystemTimeZoneById(timeZone), startAt, endAt, jitter, misfirePolicy);

    /// <summary>The first tick strictly after <paramref name="after"/> (and not before <see cref="StartAt"/>), or null when there is none (past <see cref="EndAt"/>).</summary>
    public DateTimeOffset? NextAfter(DateTimeOffset after) => NextAfter(Expression(), after);

    /// <summary>The next <paramref name="count"/> ticks after <paramref name="now"/> (fewer when the schedule ends).</summary>
    public IReadOnlyList<DateTimeOffset> Upcoming(DateTimeOffset now, int count)
    {
        var ticks = new List<DateTimeOffset>(count);
        var expression = Expression();
        for (var at = now; ticks.Count < count && NextAfter(expression, at) is { } next; at = next)
        {
            ticks.Add(next);
        }

        return ticks;
    }

    /// <summary>
    /// The latest tick at or before <paramref name="now"/>, given <paramref name="first"/>, a tick at or
    /// before it: what <c>run-once</c> starts after a misfire. Looks back over widening windows, so a
    /// long outage of a busy schedule does not walk every missed tick.
    /// </summary>
    public DateTimeOffset LatestAtOrBefore(DateTimeOffset first, DateTimeOffset now)
    {
        var expression = Expression();
        var from = first;
        foreach (var window in LookBack)
        {
            var start = now - window;
            if (start <= first)
            {
                break;
            }

            if (NextAfter(expression, start) is { } candidate && candidate <= now)
            {
                from = candidate;
                break;
            }
        }

        var latest = from;
        while (NextAfter(expression, latest) is { } next && next <= now)
        {
            latest = next;
        }

        return latest;
    }

    /// <summary>
    /// How long the run of a tick waits after it: a fraction of <see cref="Jitter"/> drawn from a hash of
    /// the workflow and the tick, so every node (and a restarted one) agrees on it.
    /// </summary>
    public TimeSpan JitterFor(string workflowId, DateTimeOffset tick)
    {
        ArgumentNullException.ThrowIfNull(workflowId);
        if (Jitter <= TimeSpan.Zero)
        {
            return TimeSpan.Zero;
        }

        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes($"{workflowId}|{tick.UtcTicks.ToString(CultureInfo.InvariantCulture)}"), hash);
        var fraction = (System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(hash) >> 11) / (double)(1UL << 53);
        return TimeSpan.FromMilliseconds(Math.Floor(fraction * Jitter.TotalMilliseconds));
    }

    private static readonly TimeSpan[] LookBack = [TimeSpan.FromMinutes(1), TimeSpan.FromHours(1), TimeSpan.FromDays(1), TimeSpan.FromDays(32), TimeSpan.FromDays(367)];

    // CronExpression keeps working state while it computes: one per computation, never shared between threads.
    private CronExpression Expression() => new(QuartzCron) { TimeZone = TimeZone };

    private DateTimeOffset? NextAfter(CronExpression expression, DateTimeOffset after)
    {
        // Quartz answers the first whole second strictly after the time it is given: one tick (100 ns)
        // before startAt makes startAt itself a candidate.
        if (StartAt is { } start && start.AddTicks(-1) > after)
        {
            after = start.AddTicks(-1);
        }

        var next = expression.GetNextValidTimeAfter(after);
        return next is { } found && (EndAt is null || found <= EndAt) ? found.ToUniversalTime() : null;
    }
}
