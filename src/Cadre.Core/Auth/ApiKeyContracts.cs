namespace Cadre.Auth;

/// <summary>Body of <c>POST …/api-keys</c>.</summary>
/// <param name="Name">What the key is for, shown in lists (1–100 characters).</param>
/// <param name="Role">One of <c>owner</c>, <c>admin</c>, <c>editor</c>, <c>operator</c>, <c>viewer</c>; at most the creator's own role.</param>
/// <param name="ExpiresAt">When the key stops working; omitted means never. Must be in the future.</param>
public sealed record CreateApiKeyRequest(string? Name, string? Role, DateTimeOffset? ExpiresAt = null);

/// <summary>An API key as lists show it: never the secret.</summary>
/// <param name="Status"><c>active</c>, <c>expired</c> or <c>revoked</c>.</param>
/// <param name="Prefix">The first characters of the secret, to recognise the key.</param>
public record ApiKeyResponse(
    string Id,
    string Name,
    string Role,
    string Prefix,
    string Status,
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

/// <summary>Who a valid key speaks for. A key without a workspace is an instance admin key.</summary>
public sealed record ApiKeyIdentity(string KeyId, string? WorkspaceId, WorkspaceRole Role)
{
    public bool IsInstanceAdmin => WorkspaceId is null;

    /// <summary>The role this key holds in a workspace, or null when the workspace is not its own.</summary>
    public WorkspaceRole? RoleIn(string workspaceId) =>
        IsInstanceAdmin ? WorkspaceRole.Owner : WorkspaceId == workspaceId ? Role : null;
}

/// <summary>Why a presented key was refused.</summary>
public enum ApiKeyRejection
{
    Unknown,
    Revoked,
    Expired,
}

/// <summary>The outcome of checking a presented key: an identity or a reason.</summary>
public sealed record ApiKeyCheck(ApiKeyIdentity? Identity, ApiKeyRejection? Rejection = null, DateTime? ExpiredAt = null);
