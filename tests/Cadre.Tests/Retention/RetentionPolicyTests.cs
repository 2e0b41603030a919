using Cadre.Retention;

namespace Cadre.Tests.Retention;

public sealed class RetentionPolicyTests
{
    [Theory]
    [InlineData("1h", 1)]
    [InlineData("90m", 1.5)]
    [InlineData("30d", 720)]
    [InlineData("P90D", 2160)]
    [InlineData("PT12H", 12)]
    [InlineData("30.00:00:00", 720)]
    [InlineData("01:00:00", 1)]
    public void TryParse_ADurationOfAnHourOrMore_IsThatPeriod(string text, double hours)
    {
        RetentionPolicy.TryParse(text, out var period).ShouldBeTrue();
        period.ShouldBe(TimeSpan.FromHours(hours));
    }

    [Theory]
    [InlineData("forever")]
    [InlineData("Forever")]
    public void TryParse_Forever_IsNoPeriod(string text)
    {
        RetentionPolicy.TryParse(text, out var period).ShouldBeTrue();
        period.ShouldBeNull();
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("59m")]
    [InlineData("0s")]
    [InlineData("00:30:00")]
    [InlineData("-1d")]
    [InlineData("never")]
    [InlineData("30 days")]
    public void TryParse_AnythingElse_IsRefused(string? text) => RetentionPolicy.TryParse(text, out _).ShouldBeFalse();

    [Fact]
    public void Of_WorkspaceSettings_OverrideTheInstanceKindByKind()
    {
        var instance = new RetentionPolicy(TimeSpan.FromDays(30), TimeSpan.FromDays(30), TimeSpan.FromDays(30));

        RetentionPolicy.Of("""{"retention":{"runs":"2h","deliveries":"forever"}}""", instance)
            .ShouldBe(new RetentionPolicy(TimeSpan.FromHours(2), TimeSpan.FromDays(30), null));
        RetentionPolicy.Of("""{"maxConcurrentRuns":3}""", instance).ShouldBe(instance);
        // A value that no longer reads (written to the database by hand) keeps the instance's period.
        RetentionPolicy.Of("""{"retention":{"runs":"soon"}}""", instance).ShouldBe(instance);
    }
}
