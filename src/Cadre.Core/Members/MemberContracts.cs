using Cadre.Common;

namespace Cadre.Members;

/// <summary>The parts of a user that workspace lists show.</summary>
public sealed record UserSummary(string Id, string Email, string DisplayName, string? AvatarUrl, string Status);

/// <summary>A member of a workspace.</summary>
/// <param name="Role"><c>owner</c>, <c>admin</c>, <c>editor</c>, <c>operator</c> or <c>viewer</c>.</param>
public sealed record MemberResponse(UserSummary User, string Role, Actor? AddedBy, DateTime CreatedAt, DateTime UpdatedAt);

/// <summary>Body of <c>POST …/members</c>: add an existing user, by ID or by e-mail address.</summary>
public sealed record AddMemberRequest(string? UserId = null, string? Email = null, string? Role = null);

/// <summary>Body of <c>PATCH …/members/{userId}</c>.</summary>
public sealed record UpdateMemberRequest(string? Role);

/// <summary>Body of <c>POST …/transfer-ownership</c>: the member who becomes owner; you become admin.</summary>
public sealed record TransferOwnershipRequest(string? UserId);

/// <summary>Filters of <c>GET …/members</c>.</summary>
/// <param name="Team">Only members of this team (its ID).</param>
/// <param name="Search">Part of the address or display name.</param>
public sealed record MemberListFilter(string? Role, string? Team, string? Search);
