using System.Text.RegularExpressions;
using Quartz;

namespace Cadre.Workflows;

/// <summary>Cron expressions (read by Quartz.NET) and time zones of schedule triggers.</summary>
public static partial class Schedules
{
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
        dayOfWeek = DayNumber().Replace(dayOfWeek, match => DayNames[int.Parse(match.Value, System.Globalization.CultureInfo.InvariantCulture)]);
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

    // A day number that is not a step (after '/') or an nth-day (after '#').
    [GeneratedRegex(@"(?<![/#\d])[0-7](?!\d)", RegexOptions.CultureInvariant)]
    private static partial Regex DayNumber();
}
