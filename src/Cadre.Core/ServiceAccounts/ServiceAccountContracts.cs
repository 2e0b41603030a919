using Cadre.Common;

namespace Cadre.ServiceAccounts;

/// <summary>Body of <c>POST …/service-accounts</c>.</summary>
/// <param name="Name">Unique in the workspace (1–100 characters), e.g. <c>ci</c> or <c>zendesk-sync</c>.</param>
/// <param name="Role">What its keys may do at most: at most your own role.</param>
public sealed record CreateServiceAccountRequest(string? Name, string? Role, string? Description = null);

/// <summary>Body of <c>PATCH …/service-accounts/{id}</c>. Omitted fields stay.</summary>
/// <param name="Status"><c>active</c> or <c>disabled</c>; a disabled account's keys stop working at once.</param>
public sealed record UpdateServiceAccountRequest(string? Name = null, string? Description = null, string? Role = null, string? Status = null);

/// <summary>A service account.</summary>
/// <param name="ActiveKeys">How many of its keys are neither revoked nor expired.</param>
public sealed record ServiceAccountResponse(
    string Id,
    string WorkspaceId,
    string Name,
    string? Description,
    string Role,
    string Status,
    int ActiveKeys,
    Actor? CreatedBy,
    Actor? UpdatedBy,
    int Version,
    DateTime CreatedAt,
    DateTime UpdatedAt);
