using Cadre.Common;
using Cadre.Users;

namespace Cadre.Invitations;

/// <summary>Body of <c>POST …/invitations</c>.</summary>
/// <param name="Role">The role the person joins with: at most your own.</param>
public sealed record CreateInvitationRequest(string? Email, string? Role);

/// <summary>An invitation, without its secret.</summary>
/// <param name="Status"><c>pending</c>, <c>accepted</c>, <c>expired</c> or <c>revoked</c>.</param>
public record InvitationResponse(
    string Id,
    string WorkspaceId,
    string Email,
    string Role,
    string Status,
    Actor? InvitedBy,
    DateTime CreatedAt,
    DateTime ExpiresAt,
    DateTime? AcceptedAt,
    Actor? AcceptedBy,
    DateTime? RevokedAt);

/// <summary>A new invitation and how it reaches the person.</summary>
public sealed record CreatedInvitationResponse : InvitationResponse
{
    public CreatedInvitationResponse(InvitationResponse invitation, string delivery, string? token, string? link)
        : base(invitation)
    {
        Delivery = delivery;
        Token = token;
        Link = link;
    }

    /// <summary><c>email</c> when Cadre mailed the link; <c>none</c> when SMTP is not configured and you pass the link on.</summary>
    public string Delivery { get; init; }

    /// <summary>The secret, only when <see cref="Delivery"/> is <c>none</c>. Shown once.</summary>
    public string? Token { get; init; }

    /// <summary>The link to accept, only when <see cref="Delivery"/> is <c>none</c>.</summary>
    public string? Link { get; init; }
}

/// <summary>Body of <c>POST /api/v1/invitations/preview</c>.</summary>
public sealed record InvitationTokenRequest(string? Token);

/// <summary>What an invitation offers, for the page that accepts it.</summary>
/// <param name="AccountExists">Whether the address already has an account (accept with its password) or one will be made.</param>
public sealed record InvitationPreviewResponse(
    string Workspace,
    string WorkspaceDisplayName,
    string Email,
    string Role,
    Actor? InvitedBy,
    DateTime ExpiresAt,
    bool AccountExists);

/// <summary>Body of <c>POST /api/v1/invitations/accept</c>.</summary>
/// <param name="DisplayName">For a new account: your name.</param>
/// <param name="Password">For a new account, the password to set; for an existing account not signed in, its password.</param>
public sealed record AcceptInvitationRequest(string? Token, string? DisplayName = null, string? Password = null);

/// <summary>The outcome of accepting: the account, and the workspace and role joined.</summary>
public sealed record AcceptedInvitationResponse(UserResponse User, string Workspace, string Role, bool AccountCreated);
