using System.Globalization;
using Cadre.Common;
using Microsoft.Extensions.Time.Testing;

namespace Cadre.Tests.Common;

public sealed class IdGeneratorTests
{
    [Theory]
    [InlineData("00000000-0000-0000-0000-000000000000", "00000000000000000000000000")]
    [InlineData("00000000-0000-0000-0000-000000000020", "00000000000000000000000010")]
    [InlineData("01890a5d-ac96-774b-bcce-b302099a8057", "01h455vb4pex5vsknk084sn02q")]
    [InlineData("ffffffff-ffff-ffff-ffff-ffffffffffff", "7zzzzzzzzzzzzzzzzzzzzzzzzz")]
    public void Encode_TypeIdSpecVectors_MatchTheSpec(string uuid, string expected)
    {
        var value = UInt128.Parse(uuid.Replace("-", "", StringComparison.Ordinal), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        var buffer = new char[26];

        IdGenerator.Encode(value, buffer);

        new string(buffer).ShouldBe(expected);
    }

    [Fact]
    public void NewId_HasPrefixAndUuidV7Layout()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 11, 24, 0, 0, 0, TimeSpan.Zero));
        var ids = new IdGenerator(clock);

        var id = ids.NewId("ws");
        var uuid = ids.NextUuid();

        id.ShouldMatch("^ws_[0-7][0-9a-hjkmnp-tv-z]{25}$");
        ((int)((uuid >> 76) & 0xF)).ShouldBe(7);
        ((int)((uuid >> 62) & 0x3)).ShouldBe(2);
        ((long)(ulong)(uuid >> 80)).ShouldBe(clock.GetUtcNow().ToUnixTimeMilliseconds());
    }

    [Fact]
    public void NewId_ManyInOneMillisecond_StrictlyIncreasing()
    {
        var ids = new IdGenerator(new FakeTimeProvider(DateTimeOffset.UnixEpoch.AddYears(56)));

        var created = Enumerable.Range(0, 10_000).Select(_ => ids.NewId("key")).ToList();

        created.ShouldBe(created.Order(StringComparer.Ordinal).ToList());
        created.Distinct().Count().ShouldBe(created.Count);
    }

    [Fact]
    public void NewId_ClockGoesBack_StillIncreasing()
    {
        var clock = new SettableClock { Now = new DateTimeOffset(2026, 11, 24, 12, 0, 0, TimeSpan.Zero) };
        var ids = new IdGenerator(clock);
        var before = ids.NewId("ws");

        clock.Now = clock.Now.AddSeconds(-30);
        var after = ids.NewId("ws");

        string.CompareOrdinal(after, before).ShouldBeGreaterThan(0);
    }

    [Fact]
    public void NewId_LaterTime_SortsAfterEarlierOnes()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 11, 24, 12, 0, 0, TimeSpan.Zero));
        var ids = new IdGenerator(clock);
        var early = ids.NewId("ws");

        clock.Advance(TimeSpan.FromMilliseconds(1));
        var late = new IdGenerator(clock).NewId("ws");

        string.CompareOrdinal(late, early).ShouldBeGreaterThan(0);
    }

    /// <summary>A clock that, unlike FakeTimeProvider, may be set backwards, as NTP sometimes does.</summary>
    private sealed class SettableClock : TimeProvider
    {
        public DateTimeOffset Now { get; set; }

        public override DateTimeOffset GetUtcNow() => Now;
    }
}
