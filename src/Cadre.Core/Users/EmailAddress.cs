using System.Net.Mail;

namespace Cadre.Users;

/// <summary>Checks and normalises e-mail addresses, the identity people sign in with.</summary>
public static class EmailAddress
{
    public const int MaxLength = 254;

    /// <summary>The address trimmed, or null with a reason when it is not a usable single address.</summary>
    public static string? Validate(string? value, out string? error)
    {
        error = null;
        var trimmed = value?.Trim();
        if (string.IsNullOrEmpty(trimmed))
        {
            error = "Is required.";
            return null;
        }

        if (trimmed.Length > MaxLength || trimmed.Any(char.IsControl) || trimmed.Contains(' ', StringComparison.Ordinal)
            || !MailAddress.TryCreate(trimmed, out var parsed) || parsed.Address != trimmed || !parsed.Host.Contains('.', StringComparison.Ordinal))
        {
            error = "Must be a single e-mail address such as ada@example.com.";
            return null;
        }

        return trimmed;
    }

    /// <summary>
    /// The form addresses are compared in: lower-cased. (The local part is case-sensitive by the
    /// RFC, but no mail system in use treats it so, and people type it every which way.)
    /// </summary>
    public static string Normalize(string email)
    {
        ArgumentNullException.ThrowIfNull(email);
        return email.Trim().ToLowerInvariant();
    }
}
