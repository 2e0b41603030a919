using Cadre.Common;
using Cadre.Members;

namespace Cadre.Teams;

/// <summary>Body of <c>POST …/teams</c>.</summary>
/// <param name="Name">Unique in the workspace (1–100 characters).</param>
/// <param name="Members">User IDs of workspace members to put in the team at once.</param>
public sealed record CreateTeamRequest(string? Name, string? Description = null, IReadOnlyList<string>? Members = null);

/// <summary>Body of <c>PATCH …/teams/{teamId}</c>. Omitted fields stay; an empty description removes it.</summary>
public sealed record UpdateTeamRequest(string? Name = null, string? Description = null);

/// <summary>A team.</summary>
public sealed record TeamResponse(
    string Id,
    string WorkspaceId,
    string Name,
    string? Description,
    int MemberCount,
    Actor? CreatedBy,
    Actor? UpdatedBy,
    int Version,
    DateTime CreatedAt,
    DateTime UpdatedAt);

/// <summary>A member of a team.</summary>
public sealed record TeamMemberResponse(UserSummary User, Actor? AddedBy, DateTime CreatedAt);

/// <summary>Filters of <c>GET …/teams</c>.</summary>
/// <param name="Member">Only teams this user (ID) belongs to; <c>me</c> for your own.</param>
public sealed record TeamListFilter(string? Member, string? Search);
