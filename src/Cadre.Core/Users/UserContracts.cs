namespace Cadre.Users;

/// <summary>A person, as the API shows them: never a password or a hash.</summary>
/// <param name="Status"><c>active</c> or <c>disabled</c>.</param>
/// <param name="InstanceRole"><c>owner</c>, <c>admin</c> or null.</param>
/// <param name="HasPassword">False for an account that must still set its password (from a reset link).</param>
public sealed record UserResponse(
    string Id,
    string Email,
    string DisplayName,
    string? AvatarUrl,
    string Status,
    string? InstanceRole,
    bool HasPassword,
    int Version,
    DateTime CreatedAt,
    DateTime UpdatedAt,
    DateTime? LastSignInAt);

/// <summary>Body of <c>POST /api/v1/users</c> (instance admins).</summary>
/// <param name="Password">Optional: without one the person signs in after a password reset link.</param>
/// <param name="InstanceRole"><c>admin</c> to make an instance admin; omitted for a regular user.</param>
public sealed record CreateUserRequest(string? Email, string? DisplayName, string? Password = null, string? InstanceRole = null);

/// <summary>Body of <c>PATCH /api/v1/users/{id}</c> (instance admins). Omitted fields stay.</summary>
/// <param name="Status"><c>active</c> or <c>disabled</c>; disabling ends the person's sessions and stops their keys at once.</param>
/// <param name="InstanceRole"><c>admin</c>, <c>owner</c>, or <c>none</c> to remove instance rights.</param>
public sealed record UpdateUserRequest(string? DisplayName = null, string? AvatarUrl = null, string? Status = null, string? InstanceRole = null);

/// <summary>Body of <c>PATCH /api/v1/me</c>. Omitted fields stay; an empty <paramref name="AvatarUrl"/> removes the avatar.</summary>
public sealed record UpdateMeRequest(string? DisplayName = null, string? AvatarUrl = null);

/// <summary>Body of <c>POST /api/v1/me/password</c>.</summary>
public sealed record ChangePasswordRequest(string? CurrentPassword, string? NewPassword);

/// <summary>Body of <c>POST /api/v1/auth/login</c>.</summary>
public sealed record LoginRequest(string? Email, string? Password);

/// <summary>Body of <c>POST /api/v1/auth/reset-password</c>.</summary>
/// <param name="Token">The token of the reset link.</param>
public sealed record ResetPasswordRequest(string? Token, string? Password);

/// <summary>Body of <c>POST /api/v1/auth/forgot-password</c>.</summary>
public sealed record ForgotPasswordRequest(string? Email);

/// <summary>Body of <c>POST /api/v1/setup</c>: the first user, who becomes instance owner.</summary>
/// <param name="Code">The setup code the server printed at start.</param>
public sealed record SetupRequest(string? Code, string? Email, string? DisplayName, string? Password);

/// <summary>Whether the instance still waits for its first user.</summary>
public sealed record SetupStatusResponse(bool Required);

/// <summary>A one-time link made for a person (a password reset), and whether Cadre mailed it.</summary>
/// <param name="Delivery"><c>email</c> when sent by SMTP; <c>none</c> when SMTP is not configured and the link is in this response for you to pass on.</param>
/// <param name="Link">The link, only when <paramref name="Delivery"/> is <c>none</c>.</param>
public sealed record OneTimeLinkResponse(string Delivery, string? Link, DateTime ExpiresAt);
