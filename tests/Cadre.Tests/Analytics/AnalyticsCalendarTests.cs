using Cadre.Analytics;

namespace Cadre.Tests.Analytics;

public sealed class AnalyticsCalendarTests
{
    private static TimeZoneInfo Zone(string id) => TimeZoneInfo.FindSystemTimeZoneById(id);

    [Fact]
    public void Daily_CutsAtLocalMidnights_AcrossAClockChange()
    {
        // New York springs forward on 8 March 2026: that day has 23 hours.
        var now = new DateTime(2026, 3, 10, 15, 0, 0, DateTimeKind.Utc);

        var periods = AnalyticsCalendar.Periods(now, Zone("America/New_York"), 4, Granularity.Daily);

        periods.Select(p => p.Label).ShouldBe([new DateOnly(2026, 3, 7), new DateOnly(2026, 3, 8), new DateOnly(2026, 3, 9), new DateOnly(2026, 3, 10)]);
        periods[0].Start.ShouldBe(new DateTime(2026, 3, 7, 5, 0, 0, DateTimeKind.Utc));
        (periods[1].End - periods[1].Start).ShouldBe(TimeSpan.FromHours(23));
        periods[^1].End.ShouldBe(new DateTime(2026, 3, 11, 4, 0, 0, DateTimeKind.Utc));
        periods.Zip(periods.Skip(1)).ShouldAllBe(pair => pair.First.End == pair.Second.Start);
    }

    [Fact]
    public void Weekly_StartsOnMonday_AndMonthly_FollowsMonthsOfAnyLength_BothClippedToTheWindow()
    {
        var now = new DateTime(2026, 3, 4, 12, 0, 0, DateTimeKind.Utc);

        var weeks = AnalyticsCalendar.Periods(now, TimeZoneInfo.Utc, 40, Granularity.Weekly);
        var months = AnalyticsCalendar.Periods(now, TimeZoneInfo.Utc, 40, Granularity.Monthly);

        weeks[0].Label.ShouldBe(new DateOnly(2026, 1, 24));
        weeks.Skip(1).ShouldAllBe(w => w.Label.DayOfWeek == DayOfWeek.Monday);
        weeks[^1].End.ShouldBe(new DateTime(2026, 3, 5, 0, 0, 0, DateTimeKind.Utc));
        months.Select(m => m.Label).ShouldBe([new DateOnly(2026, 1, 24), new DateOnly(2026, 2, 1), new DateOnly(2026, 3, 1)]);
        (months[1].End - months[1].Start).ShouldBe(TimeSpan.FromDays(28));
    }

    [Theory]
    [InlineData("Asia/Kathmandu", 5, 45)]
    [InlineData("Asia/Kolkata", 5, 30)]
    [InlineData("Australia/Lord_Howe", 11, 0)]
    public void FractionalOffsets_StartDaysOnAQuarterHour(string zone, int hours, int minutes)
    {
        var start = AnalyticsCalendar.StartOfDay(new DateOnly(2026, 1, 10), Zone(zone));

        start.ShouldBe(new DateTime(2026, 1, 10, 0, 0, 0, DateTimeKind.Utc) - new TimeSpan(hours, minutes, 0));
        Contributions.QuarterOf(start).ShouldBe(start);
    }

    [Fact]
    public void MidnightSkipped_TheDayStartsWhenTheClockResumes()
    {
        // Santiago springs forward at midnight: 6 September 2026 begins at 01:00 local, 04:00 UTC.
        AnalyticsCalendar.StartOfDay(new DateOnly(2026, 9, 6), Zone("America/Santiago")).ShouldBe(new DateTime(2026, 9, 6, 4, 0, 0, DateTimeKind.Utc));
    }

    [Fact]
    public void MidnightTwice_TheDayStartsAtTheFirst()
    {
        // Havana falls back from 01:00 to midnight on 1 November 2026: midnight comes at 04:00 and again at 05:00 UTC.
        AnalyticsCalendar.StartOfDay(new DateOnly(2026, 11, 1), Zone("America/Havana")).ShouldBe(new DateTime(2026, 11, 1, 4, 0, 0, DateTimeKind.Utc));
    }

    [Fact]
    public void ClockTurnedBackBeforeMidnight_MakesADayOf25Hours()
    {
        // Santiago turns 24:00 back to 23:00 on 4 April 2026.
        var zone = Zone("America/Santiago");
        (AnalyticsCalendar.StartOfDay(new DateOnly(2026, 4, 5), zone) - AnalyticsCalendar.StartOfDay(new DateOnly(2026, 4, 4), zone)).ShouldBe(TimeSpan.FromHours(25));
    }
}

public sealed class RollupLevelTests
{
    private static readonly DateTime Now = new(2026, 11, 24, 12, 0, 0, DateTimeKind.Utc);

    [Fact]
    public void MonthsInUtc_ReadDayRowsOnly()
    {
        var (days, quarters) = AnalyticsService.Levels(AnalyticsCalendar.Periods(Now, TimeZoneInfo.Utc, 365, Granularity.Monthly));

        days.ShouldBe([(new DateTime(2025, 11, 25, 0, 0, 0, DateTimeKind.Utc), new DateTime(2026, 11, 25, 0, 0, 0, DateTimeKind.Utc))]);
        quarters.ShouldBeEmpty();
    }

    [Fact]
    public void DaysInAnotherZone_ReadQuarterRows_AndMonthsThere_QuarterRowsAtEachEnd()
    {
        var kolkata = TimeZoneInfo.FindSystemTimeZoneById("Asia/Kolkata");
        var daily = AnalyticsService.Levels(AnalyticsCalendar.Periods(Now, kolkata, 30, Granularity.Daily));
        var monthly = AnalyticsService.Levels(AnalyticsCalendar.Periods(Now, kolkata, 365, Granularity.Monthly));

        daily.Days.ShouldBeEmpty();
        daily.Quarters.ShouldHaveSingleItem();
        monthly.Days.Count.ShouldBe(13);
        monthly.Quarters.Count.ShouldBe(14);
        // Every quarter range is the 18:30–00:00 or 00:00–18:30 end of a UTC day: 5.5 or 18.5 hours, never more.
        monthly.Quarters.ShouldAllBe(q => q.To - q.From <= TimeSpan.FromHours(24));
        monthly.Days.Concat(monthly.Quarters).Sum(r => (r.To - r.From).TotalDays).ShouldBe(365, 0.0001);
    }
}
