using Cadre.Workflows;

namespace Cadre.Tests.Workflows;

/// <summary>When schedules fire, computed from a given time: time zones across DST, both cron forms, bounds, jitter, misfires.</summary>
public sealed class CronScheduleTests
{
    private static CronSchedule Schedule(string cron, string? timeZone = null, string? startAt = null, string? endAt = null, string? jitter = null) =>
        CronSchedule.From(new WorkflowTrigger { Cron = cron, TimeZone = timeZone, StartAt = startAt, EndAt = endAt, Jitter = jitter })!;

    private static DateTimeOffset At(string iso) => DateTimeOffset.Parse(iso, System.Globalization.CultureInfo.InvariantCulture);

    private static string[] Utc(IEnumerable<DateTimeOffset> ticks) => [.. ticks.Select(t => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture))];

    [Fact]
    public void Upcoming_FiveFieldCronInAZone_FollowsTheLocalClockAcrossTheSpringChange()
    {
        // Weekdays at 09:00 in Paris: 08:00Z in winter, 07:00Z once the clocks went forward on Sunday 29 March 2026.
        var schedule = Schedule("0 9 * * 1-5", "Europe/Paris");

        var ticks = schedule.Upcoming(At("2026-03-26T12:00:00Z"), 5);

        Utc(ticks).ShouldBe(["2026-03-27T08:00:00Z", "2026-03-30T07:00:00Z", "2026-03-31T07:00:00Z", "2026-04-01T07:00:00Z", "2026-04-02T07:00:00Z"]);
        ticks.ShouldAllBe(t => t.Offset == TimeSpan.Zero);
    }

    [Fact]
    public void Upcoming_ATimeTheClocksSkip_FiresOnceWhenTheyResume()
    {
        // 02:30 does not exist in Paris on 29 March 2026 (02:00 → 03:00): that day's tick comes at 03:30 CEST.
        var schedule = Schedule("30 2 * * *", "Europe/Paris");

        var ticks = schedule.Upcoming(At("2026-03-27T12:00:00Z"), 4);

        Utc(ticks).ShouldBe(["2026-03-28T01:30:00Z", "2026-03-29T01:30:00Z", "2026-03-30T00:30:00Z", "2026-03-31T00:30:00Z"]);
        TimeZoneInfo.ConvertTime(ticks[1], schedule.TimeZone).Hour.ShouldBe(3);
    }

    [Fact]
    public void Upcoming_TheHourThatRepeatsInAutumn_FiresItsTicksOnce()
    {
        // On 25 October 2026 Paris goes 03:00 CEST → 02:00 CET: the half-hours of 02:xx come once, on the first pass.
        var schedule = Schedule("0 */30 * * * ?", "Europe/Paris");

        var ticks = schedule.Upcoming(At("2026-10-25T00:00:00Z"), 5);

        Utc(ticks).ShouldBe(["2026-10-25T00:30:00Z", "2026-10-25T02:00:00Z", "2026-10-25T02:30:00Z", "2026-10-25T03:00:00Z", "2026-10-25T03:30:00Z"]);
    }

    [Fact]
    public void Upcoming_SixFieldCronWithSeconds_TicksEverySecondStrictlyAfterNow()
    {
        var schedule = Schedule("* * * * * ?");

        Utc(schedule.Upcoming(At("2026-01-01T00:00:00.400Z"), 3)).ShouldBe(["2026-01-01T00:00:01Z", "2026-01-01T00:00:02Z", "2026-01-01T00:00:03Z"]);
        Utc(schedule.Upcoming(At("2026-01-01T00:00:01Z"), 1)).ShouldBe(["2026-01-01T00:00:02Z"]);
    }

    [Fact]
    public void Upcoming_SevenFieldCronWithAYear_EndsWithTheYear()
    {
        var schedule = Schedule("0 0 12 1 * ? 2026");

        Utc(schedule.Upcoming(At("2026-10-15T00:00:00Z"), 5)).ShouldBe(["2026-11-01T12:00:00Z", "2026-12-01T12:00:00Z"]);
    }

    [Fact]
    public void Upcoming_StartAtAndEndAt_BoundTheTicksInclusively()
    {
        var schedule = Schedule("0 * * * *", startAt: "2026-05-01T10:00:00Z", endAt: "2026-05-01T13:00:00Z");

        Utc(schedule.Upcoming(At("2026-04-01T00:00:00Z"), 5)).ShouldBe(["2026-05-01T10:00:00Z", "2026-05-01T11:00:00Z", "2026-05-01T12:00:00Z", "2026-05-01T13:00:00Z"]);
        schedule.NextAfter(At("2026-05-01T13:00:00Z")).ShouldBeNull();
    }

    [Fact]
    public void Upcoming_StartAtWithoutAnOffset_IsReadInTheScheduleZone()
    {
        var schedule = Schedule("0 * * * *", "America/New_York", startAt: "2026-07-01T09:30");

        // 09:30 EDT is 13:30Z: the first hourly tick at or after it is 14:00Z (10:00 EDT).
        schedule.StartAt.ShouldBe(At("2026-07-01T13:30:00Z"));
        Utc(schedule.Upcoming(At("2026-06-01T00:00:00Z"), 2)).ShouldBe(["2026-07-01T14:00:00Z", "2026-07-01T15:00:00Z"]);
    }

    [Fact]
    public void NextAfter_AStartAtBetweenTicks_TakesTheFirstTickAfterIt()
    {
        var schedule = Schedule("* * * * * ?", startAt: "2026-01-01T00:00:05.5Z");

        schedule.NextAfter(At("2026-01-01T00:00:00Z")).ShouldBe(At("2026-01-01T00:00:06Z"));
    }

    [Fact]
    public void LatestAtOrBefore_AfterALongOutage_FindsTheLastMissedTick()
    {
        var everySecond = Schedule("* * * * * ?");
        var daily = Schedule("0 6 * * *", "Europe/Paris");

        everySecond.LatestAtOrBefore(At("2026-01-01T00:00:00Z"), At("2026-01-03T07:08:09.9Z")).ShouldBe(At("2026-01-03T07:08:09Z"));
        daily.LatestAtOrBefore(At("2025-01-01T05:00:00Z"), At("2026-01-03T07:08:09Z")).ShouldBe(At("2026-01-03T05:00:00Z"));
        daily.LatestAtOrBefore(At("2026-01-03T05:00:00Z"), At("2026-01-03T05:00:00Z")).ShouldBe(At("2026-01-03T05:00:00Z"));
    }

    [Fact]
    public void JitterFor_IsTheSameForTheSameTick_AndWithinTheJitter()
    {
        var schedule = Schedule("* * * * *", jitter: "30s");
        var tick = At("2026-01-01T00:01:00Z");

        var delays = Enumerable.Range(0, 200).Select(i => schedule.JitterFor("wf_a", tick.AddMinutes(i))).ToList();

        schedule.JitterFor("wf_a", tick).ShouldBe(delays[0]);
        delays.ShouldAllBe(d => d >= TimeSpan.Zero && d < TimeSpan.FromSeconds(30));
        delays.Distinct().Count().ShouldBeGreaterThan(150);
        Schedule("* * * * *").JitterFor("wf_a", tick).ShouldBe(TimeSpan.Zero);
    }

    [Theory]
    [InlineData("2026-03-01T09:00:00Z", "UTC", "2026-03-01T09:00:00Z")]
    [InlineData("2026-03-01T09:00:00+02:00", "UTC", "2026-03-01T07:00:00Z")]
    [InlineData("2026-03-01", "Europe/Paris", "2026-02-28T23:00:00Z")]
    [InlineData("2026-10-25T02:30", "Europe/Paris", "2026-10-25T01:30:00Z")]
    public void TryParseTime_ReadsIsoTimes_LocalOnesInTheZone(string text, string zone, string expected)
    {
        Schedules.TryParseTime(text, TimeZoneInfo.FindSystemTimeZoneById(zone), out var time).ShouldBeNull();
        time.ShouldBe(At(expected));
    }

    [Theory]
    [InlineData("tomorrow", "ISO-8601")]
    [InlineData("2026-13-01T00:00:00Z", "ISO-8601")]
    [InlineData("01/03/2026", "ISO-8601")]
    [InlineData("2026-03-29T02:30", "does not exist")]
    public void TryParseTime_RefusesOtherText(string text, string problem) =>
        Schedules.TryParseTime(text, TimeZoneInfo.FindSystemTimeZoneById("Europe/Paris"), out _).ShouldNotBeNull().ShouldContain(problem);
}
