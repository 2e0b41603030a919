using System.ComponentModel.DataAnnotations;

namespace Cadre.Users;

/// <summary>People, passwords and sessions. Bound from <c>Cadre:Auth</c> (env <c>CADRE_AUTH_…</c>).</summary>
public sealed class AuthOptions
{
    public const string SectionName = "Cadre:Auth";

    /// <summary>Shortest password accepted. Default 12 (NIST SP 800-63B asks for at least 8; length beats composition rules).</summary>
    [Range(8, 128, ErrorMessage = "Cadre:Auth:PasswordMinLength must be between 8 and 128.")]
    public int PasswordMinLength { get; set; } = 12;

    /// <summary>Consecutive failed sign-ins that lock an account. Default 5.</summary>
    [Range(1, 100, ErrorMessage = "Cadre:Auth:LockoutThreshold must be between 1 and 100.")]
    public int LockoutThreshold { get; set; } = 5;

    /// <summary>How long a locked account stays locked. Default 5 minutes.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00", ErrorMessage = "Cadre:Auth:LockoutDuration must be between 00:00:01 and 1.00:00:00.")]
    public TimeSpan LockoutDuration { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How long a browser session lasts without use; each use extends it. Default 12 hours.</summary>
    [Range(typeof(TimeSpan), "00:01:00", "90.00:00:00", ErrorMessage = "Cadre:Auth:SessionIdleTimeout must be between 00:01:00 and 90.00:00:00.")]
    public TimeSpan SessionIdleTimeout { get; set; } = TimeSpan.FromHours(12);

    /// <summary>Sign-in attempts (and other anonymous credential checks) one client address may make per minute. Default 10.</summary>
    [Range(1, 10_000, ErrorMessage = "Cadre:Auth:SignInAttemptsPerMinute must be between 1 and 10000.")]
    public int SignInAttemptsPerMinute { get; set; } = 10;

    /// <summary>How long an invitation can be accepted. Default 7 days.</summary>
    [Range(typeof(TimeSpan), "00:05:00", "90.00:00:00", ErrorMessage = "Cadre:Auth:InvitationLifetime must be between 00:05:00 and 90.00:00:00.")]
    public TimeSpan InvitationLifetime { get; set; } = TimeSpan.FromDays(7);

    /// <summary>How long a password reset link works. Default 1 hour.</summary>
    [Range(typeof(TimeSpan), "00:05:00", "7.00:00:00", ErrorMessage = "Cadre:Auth:PasswordResetLifetime must be between 00:05:00 and 7.00:00:00.")]
    public TimeSpan PasswordResetLifetime { get; set; } = TimeSpan.FromHours(1);

    /// <summary>How long the first-run setup code works (a new one is printed at every start until set-up is done). Default 24 hours.</summary>
    [Range(typeof(TimeSpan), "00:05:00", "30.00:00:00", ErrorMessage = "Cadre:Auth:SetupCodeLifetime must be between 00:05:00 and 30.00:00:00.")]
    public TimeSpan SetupCodeLifetime { get; set; } = TimeSpan.FromHours(24);

    /// <summary>Unattended installs: with <see cref="AdminPassword"/>, the first user, made instance owner on an empty database (env <c>CADRE_ADMIN_EMAIL</c>).</summary>
    public string? AdminEmail { get; set; }

    /// <summary>The first user's password (env <c>CADRE_ADMIN_PASSWORD</c>); used once, on an empty database.</summary>
    public string? AdminPassword { get; set; }
}
