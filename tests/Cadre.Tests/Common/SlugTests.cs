using Cadre.Common;

namespace Cadre.Tests.Common;

public sealed class SlugTests
{
    [Theory]
    [InlineData("abc")]
    [InlineData("acme-corp")]
    [InlineData("a1-b2-c3")]
    [InlineData("123")]
    [InlineData("a--b")]
    [InlineData("abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghij123")]
    public void IsValid_Accepts(string slug) => Slug.IsValid(slug).ShouldBeTrue();

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("ab")]
    [InlineData("Abc")]
    [InlineData("-abc")]
    [InlineData("abc-")]
    [InlineData("a_b")]
    [InlineData("a.b")]
    [InlineData("a b")]
    [InlineData("abc\n")]
    [InlineData("ünï")]
    [InlineData("abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghij1234")]
    public void IsValid_Refuses(string? slug) => Slug.IsValid(slug).ShouldBeFalse();

    [Theory]
    [InlineData("Acme", true)]
    [InlineData("   ", false)]
    [InlineData("line\nbreak", false)]
    [InlineData("", false)]
    public void ValidateLabel_AcceptsPrintableText(string value, bool valid)
    {
        var errors = new ValidationErrors();

        Text.ValidateLabel(value, "displayName", 100, errors);

        errors.IsEmpty.ShouldBe(valid);
    }

    [Fact]
    public void ValidateLabel_TooLong_Refuses()
    {
        var errors = new ValidationErrors();

        Text.ValidateLabel(new string('x', 101), "displayName", 100, errors);

        errors.ToDictionary()["displayName"].Single().ShouldContain("100");
    }
}
