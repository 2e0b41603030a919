using Cadre.Common;

namespace Cadre.Auth;

/// <summary>Body of <c>POST …/service-accounts/{id}/api-keys</c>.</summary>
/// <param name="Name">What the key is for, shown in lists (1–100 characters).</param>
/// <param name="Role">Caps what the key may do: <c>owner</c>, <c>admin</c>, <c>editor</c>, <c>operator</c> or <c>viewer</c>; at most the account's role and your own. Default: the account's role.</param>
/// <param name="ExpiresAt">When the key stops working; omitted means never. Must be in the future.</param>
public sealed record CreateApiKeyRequest(string? Name, string? Role = null, DateTimeOffset? ExpiresAt = null);

/// <summary>Body of <c>POST /api/v1/me/api-keys</c>: a key that acts as you.</summary>
/// <param name="Name">What the key is for (1–100 characters).</param>
/// <param name="Workspace">Limit the key to this workspace (its name); omitted, the key acts in every workspace you belong to.</param>
/// <param name="Role">Caps what the key may do; at most your own role. Default: your role in <paramref name="Workspace"/>, or no cap beyond your roles.</param>
/// <param name="ExpiresAt">When the key stops working; omitted means never.</param>
public sealed record CreatePersonalApiKeyRequest(string? Name, string? Workspace = null, string? Role = null, DateTimeOffset? ExpiresAt = null);

/// <summary>An API key as lists show it: never the secret.</summary>
/// <param name="Role">The key's cap: it acts with at most this role, and never above its owner's current role.</param>
/// <param name="Status"><c>active</c>, <c>expired</c> or <c>revoked</c>.</param>
/// <param name="Prefix">The first characters of the secret, to recognise the key.</param>
/// <param name="WorkspaceId">The workspace the key is limited to, or null for a personal key valid in all its owner's workspaces.</param>
/// <param name="Owner">The user or service account the key acts for (an instance key owns itself).</param>
public record ApiKeyResponse(
    string Id,
    string Name,
    string Role,
    string Prefix,
    string Status,
    string? WorkspaceId,
    Actor Owner,
    Actor? CreatedBy,
    DateTime CreatedAt,
    DateTime? ExpiresAt,
    DateTime? RevokedAt,
    DateTime? LastUsedAt);

/// <summary>The answer to creating a key: the key with its secret, shown this once and never again.</summary>
public sealed record CreatedApiKeyResponse : ApiKeyResponse
{
    public CreatedApiKeyResponse(ApiKeyResponse key, string secret)
        : base(key) => Key = secret;

    /// <summary>The secret to send as <c>Authorization: Bearer …</c> or <c>X-Api-Key</c>. Store it now: Cadre keeps only a hash.</summary>
    public string Key { get; init; }
}

/// <summary>Filters of <c>GET …/api-keys</c>.</summary>
public sealed record ApiKeyListFilter(string? Status, string? Role);

/// <summary>The outcome of checking a presented key: who it speaks for, or why it was refused (a sentence for the 401).</summary>
public sealed record ApiKeyCheck(Caller? Caller, string? Rejection = null);
