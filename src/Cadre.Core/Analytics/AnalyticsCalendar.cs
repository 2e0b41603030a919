using System.Globalization;

namespace Cadre.Analytics;

/// <summary>How analytics cuts time: <c>daily</c>, <c>weekly</c> (ISO weeks, from Monday) or <c>monthly</c>.</summary>
internal enum Granularity
{
    Daily,
    Weekly,
    Monthly,
}

/// <summary>One period of a series, in UTC, with the local date it starts on.</summary>
internal sealed record Period(DateOnly Label, DateTime Start, DateTime End);

/// <summary>
/// The window and periods of an analytics answer in a time zone: the last <c>days</c> local days up to
/// and including today, cut at local midnights (a day of 23 or 25 hours across a clock change is one
/// day), with the first and last week or month clipped to the window.
/// </summary>
internal static class AnalyticsCalendar
{
    public static IReadOnlyList<Period> Periods(DateTime nowUtc, TimeZoneInfo zone, int days, Granularity granularity)
    {
        ArgumentNullException.ThrowIfNull(zone);
        var today = DateOnly.FromDateTime(TimeZoneInfo.ConvertTimeFromUtc(nowUtc, zone));
        var first = today.AddDays(1 - days);
        var end = today.AddDays(1);
        var periods = new List<Period>();
        for (var day = first; day < end;)
        {
            var next = granularity switch
            {
                Granularity.Daily => day.AddDays(1),
                Granularity.Weekly => day.AddDays(7 - (((int)day.DayOfWeek + 6) % 7)),
                _ => new DateOnly(day.Year, day.Month, 1).AddMonths(1),
            };
            if (next > end)
            {
                next = end;
            }

            periods.Add(new Period(day, StartOfDay(day, zone), StartOfDay(next, zone)));
            day = next;
        }

        return periods;
    }

    /// <summary>
    /// The first instant of a local day, in UTC. Where midnight is skipped (a clock change at
    /// midnight) the day starts when the clock resumes; where it comes twice, at the first.
    /// </summary>
    public static DateTime StartOfDay(DateOnly day, TimeZoneInfo zone)
    {
        ArgumentNullException.ThrowIfNull(zone);
        var local = day.ToDateTime(TimeOnly.MinValue, DateTimeKind.Unspecified);
        while (zone.IsInvalidTime(local))
        {
            local = local.AddMinutes(15);
        }

        var offset = zone.IsAmbiguousTime(local) ? zone.GetAmbiguousTimeOffsets(local).Max() : zone.GetUtcOffset(local);
        return DateTime.SpecifyKind(local - offset, DateTimeKind.Utc);
    }

    public static bool TryParseGranularity(string? text, out Granularity granularity)
    {
        switch (text ?? "daily")
        {
            case "daily": granularity = Granularity.Daily; return true;
            case "weekly": granularity = Granularity.Weekly; return true;
            case "monthly": granularity = Granularity.Monthly; return true;
            default: granularity = Granularity.Daily; return false;
        }
    }

    public static string Label(DateOnly day) => day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    /// <summary>A time zone as schedules name them (<c>Europe/Paris</c>, <c>UTC</c>), or null when unknown.</summary>
    public static TimeZoneInfo? FindZone(string? id) =>
        id is not null && Workflows.Schedules.IsTimeZone(id) ? TimeZoneInfo.FindSystemTimeZoneById(id) : null;
}
