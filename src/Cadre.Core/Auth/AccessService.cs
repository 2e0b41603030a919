using Cadre.Storage;
using Microsoft.EntityFrameworkCore;

namespace Cadre.Auth;

/// <summary>Decides a caller's role in a workspace from the actor's current state, not from what the credential claims.</summary>
internal sealed class AccessService(CadreDbContext db)
{
    /// <summary>
    /// The caller's effective role in the workspace, or null when it may not see it at all:
    /// an instance admin or instance key acts as owner; a service account has its role in its own
    /// workspace; a person has their membership role. A key caps the result with its own role.
    /// </summary>
    public async Task<WorkspaceRole?> RoleInAsync(Caller caller, string workspaceId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(caller);
        if (caller.WorkspaceId is not null && caller.WorkspaceId != workspaceId)
        {
            return null;
        }

        WorkspaceRole? role = caller.Kind switch
        {
            CallerKind.InstanceKey => WorkspaceRole.Owner,
            CallerKind.ServiceAccount => caller.ServiceAccountRole,
            _ when caller.InstanceRole is not null => WorkspaceRole.Owner,
            _ => await db.WorkspaceMembers.AsNoTracking()
                .Where(m => m.WorkspaceId == workspaceId && m.UserId == caller.ActorId)
                .Select(m => (WorkspaceRole?)m.Role)
                .FirstOrDefaultAsync(cancellationToken),
        };

        return Cap(role, caller.RoleCap);
    }

    /// <summary>The lower of a role and a key's cap (no cap leaves the role as it is).</summary>
    public static WorkspaceRole? Cap(WorkspaceRole? role, WorkspaceRole? cap) =>
        role is { } actual && cap is { } limit && limit < actual ? limit : role;
}
