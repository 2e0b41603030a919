using Cadre.Common;

namespace Cadre.Tests.Common;

public sealed class PaginationTests
{
    [Theory]
    [InlineData("ws_01h455vb4pex5vsknk084sn02q", false)]
    [InlineData("key_01h455vb4pex5vsknk084sn02q", true)]
    public void Cursor_RoundTrips(string key, bool backward)
    {
        var token = new PageCursor(key, backward).Encode();

        PageCursor.TryDecode(token, out var decoded).ShouldBeTrue();
        decoded.ShouldBe(new PageCursor(key, backward));
        token.ShouldMatch("^[A-Za-z0-9_-]+$");
    }

    [Theory]
    [InlineData("")]
    [InlineData("not base64!")]
    [InlineData("eyJrIjoxfQ")]
    [InlineData("eyJrIjoiYSIsImQiOiJ4In0")]
    [InlineData("bnVsbA")]
    [InlineData("W10")]
    public void Cursor_Tampered_IsRefused(string token)
    {
        PageCursor.TryDecode(token, out var decoded).ShouldBeFalse();
        decoded.ShouldBeNull();
    }

    [Fact]
    public void Parse_Defaults_Is50FromTheStart()
    {
        var errors = new ValidationErrors();

        var request = PageRequest.Parse(null, null, errors);

        request.ShouldBe(new PageRequest(50, null));
        errors.IsEmpty.ShouldBeTrue();
    }

    [Theory]
    [InlineData(0)]
    [InlineData(101)]
    [InlineData(-1)]
    public void Parse_LimitOutOfRange_NamesLimit(int limit)
    {
        var errors = new ValidationErrors();

        PageRequest.Parse(limit, null, errors).ShouldBeNull();

        errors.ToDictionary().Keys.ShouldBe(["limit"]);
    }

    [Fact]
    public void Parse_BadLimitAndCursor_NamesBoth()
    {
        var errors = new ValidationErrors();

        PageRequest.Parse(1000, "garbage", errors).ShouldBeNull();

        errors.ToDictionary().Keys.ShouldBe(["limit", "cursor"], ignoreOrder: true);
    }
}
