using Cadre.Common;
using Microsoft.Extensions.Options;

namespace Cadre.Users;

/// <summary>
/// What a password must be, after NIST SP 800-63B: long enough, not too long to hash, not the
/// account's own address, not among the passwords attackers try first. No composition rules.
/// </summary>
internal sealed class PasswordPolicy(IOptions<AuthOptions> options)
{
    public const int MaxLength = 256;

    // The most common passwords of the public breach corpora that meet the length rule, plus
    // product names a user of this server would reach for. Checked case-insensitively.
    private static readonly HashSet<string> Common = new(StringComparer.OrdinalIgnoreCase)
    {
        "123456789012", "1234567890123", "12345678901234", "123456123456", "password1234", "password12345",
        "passwordpassword", "qwertyuiopasdf", "qwerty123456", "qwertyuiop123", "1q2w3e4r5t6y", "iloveyou1234",
        "administrator", "administrator1", "letmein12345", "welcome12345", "changeme1234", "changemenow1",
        "000000000000", "111111111111", "aaaaaaaaaaaa", "abcdefghijkl", "abc123abc123", "trustno1trustno1",
        "cadrecadre12", "cadrepassword", "cadre1234567", "adminadmin12", "passw0rd1234", "p@ssw0rd1234",
    };

    public void Validate(string? password, string? email, string field, ValidationErrors errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        var minimum = options.Value.PasswordMinLength;
        if (string.IsNullOrEmpty(password))
        {
            errors.Add(field, "Is required.");
        }
        else if (password.Length < minimum)
        {
            errors.Add(field, $"Must be at least {minimum} characters; a few words make a strong one.");
        }
        else if (password.Length > MaxLength)
        {
            errors.Add(field, $"Must be at most {MaxLength} characters.");
        }
        else if (Common.Contains(password) || password.Distinct().Count() < 4)
        {
            errors.Add(field, "Is too easy to guess; choose another.");
        }
        else if (email is not null && (password.Contains(EmailAddress.Normalize(email).Split('@')[0], StringComparison.OrdinalIgnoreCase)
            && EmailAddress.Normalize(email).Split('@')[0].Length >= 4))
        {
            errors.Add(field, "Must not contain your e-mail address.");
        }
    }
}
