using Cadre.Common;
using Cadre.Users;
using Microsoft.Extensions.Options;

namespace Cadre.Tests.Users;

public sealed class PasswordPolicyTests
{
    private readonly PasswordPolicy _policy = new(Options.Create(new AuthOptions { PasswordMinLength = 12 }));

    [Theory]
    [InlineData("correct horse battery staple")]
    [InlineData("Tr0ub4dor&3xyz")]
    [InlineData("ünïcödé pässwörd ok")]
    public void Validate_StrongPasswords_Pass(string password) => Errors(password, "ada@example.com").ShouldBeEmpty();

    [Theory]
    [InlineData(null, "required")]
    [InlineData("", "required")]
    [InlineData("eleven char", "at least 12")]
    [InlineData("passwordpassword", "easy to guess")]
    [InlineData("PASSWORDPASSWORD", "easy to guess")]
    [InlineData("abababababababab", "easy to guess")]
    [InlineData("lovelace-and-more", "e-mail")]
    public void Validate_WeakPasswords_SayWhy(string? password, string reason) =>
        Errors(password, "lovelace@example.com").Single().ShouldContain(reason);

    [Fact]
    public void Validate_TooLong_Refused() => Errors(new string('x', 200) + "abcdefghijklmnopqrstuvwxyz" + new string('y', 100), null).Single().ShouldContain("at most");

    private List<string> Errors(string? password, string? email)
    {
        var errors = new ValidationErrors();
        _policy.Validate(password, email, "password", errors);
        return errors.IsEmpty ? [] : [.. errors.ToDictionary()["password"]];
    }
}

public sealed class EmailAddressTests
{
    [Theory]
    [InlineData("ada@example.com")]
    [InlineData("  Ada.Lovelace+cadre@Example.org ")]
    [InlineData("a@b.co")]
    public void Validate_Addresses_AreAcceptedTrimmed(string value) => EmailAddress.Validate(value, out _).ShouldBe(value.Trim());

    [Theory]
    [InlineData("")]
    [InlineData("no-at-sign")]
    [InlineData("two@@example.com")]
    [InlineData("Ada <ada@example.com>")]
    [InlineData("a@localhost")]
    [InlineData("ada@example.com, bob@example.com")]
    [InlineData("ada@exa mple.com")]
    public void Validate_NonAddresses_AreRefused(string value)
    {
        EmailAddress.Validate(value, out var error).ShouldBeNull();
        error.ShouldNotBeNull();
    }

    [Fact]
    public void Normalize_LowerCases() => EmailAddress.Normalize(" Ada@Example.COM ").ShouldBe("ada@example.com");
}
