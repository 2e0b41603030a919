using Cadre.Auth;
using Cadre.Common;
using Cadre.Storage;
using Cadre.Users;
using Microsoft.EntityFrameworkCore;

namespace Cadre.Members;

/// <summary>
/// Who belongs to a workspace and with which role. Changes take a per-workspace lock, so two
/// concurrent demotions can never leave a workspace that had an owner without one.
/// </summary>
internal sealed class MembershipService(CadreDbContext db, TimeProvider time, ActorService actors)
{
    private const string LastOwner = "A workspace keeps at least one owner; make another member owner first (transfer-ownership).";

    public async Task<ServiceResult<Page<MemberResponse>>> ListAsync(
        string workspaceId, MemberListFilter filter, PageRequest page, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(filter);
        var query = db.WorkspaceMembers.AsNoTracking().Include(m => m.User).Where(m => m.WorkspaceId == workspaceId);
        if (filter.Role is not null)
        {
            if (!WorkspaceRoles.TryParse(filter.Role, out var role))
            {
                return ServiceError.Validation("role", $"Must be one of: {string.Join(", ", WorkspaceRoles.Names)}.");
            }

            query = query.Where(m => m.Role == role);
        }

        if (filter.Team is not null)
        {
            query = query.Where(m => db.TeamMembers.Any(t => t.TeamId == filter.Team && t.UserId == m.UserId));
        }

        if (!string.IsNullOrWhiteSpace(filter.Search))
        {
            var term = filter.Search.Trim().ToLowerInvariant();
#pragma warning disable CA1304, CA1311, CA1862 // Translated to SQL lower()/LIKE by EF Core; the culture-aware overloads do not translate.
            query = query.Where(m => m.User!.NormalizedEmail.Contains(term) || m.User.DisplayName.ToLower().Contains(term));
#pragma warning restore CA1304, CA1311, CA1862
        }

        var members = await query.ToPageAsync(m => m.UserId, page, cancellationToken);
        var resolved = await actors.ResolveAsync(members.Items.Select(m => m.AddedBy), cancellationToken);
        return members.Map(m => ToResponse(m, resolved));
    }

    public async Task<MemberResponse?> GetAsync(string workspaceId, string userId, CancellationToken cancellationToken)
    {
        var member = await db.WorkspaceMembers.AsNoTracking().Include(m => m.User)
            .FirstOrDefaultAsync(m => m.WorkspaceId == workspaceId && m.UserId == userId, cancellationToken);
        return member is null ? null : ToResponse(member, await actors.ResolveAsync([member.AddedBy], cancellationToken));
    }

    /// <summary>Adds an existing account with a role no higher than the caller's.</summary>
    public async Task<ServiceResult<MemberResponse>> AddAsync(
        string workspaceId, AddMemberRequest request, Caller caller, WorkspaceRole callerRole, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(caller);
        var errors = new ValidationErrors();
        var role = ParseRole(request.Role, errors);
        if (request.UserId is null == request.Email is null)
        {
            errors.Add("userId", "Give either userId or email of an existing account.");
        }

        if (!errors.IsEmpty)
        {
            return ServiceError.Validation(errors);
        }

        var normalized = request.Email is null ? null : EmailAddress.Normalize(request.Email);
        var user = await db.Users.AsNoTracking()
            .FirstOrDefaultAsync(u => request.UserId != null ? u.Id == request.UserId : u.NormalizedEmail == normalized, cancellationToken);
        if (user is null)
        {
            return ServiceError.Validation(request.UserId is null ? "email" : "userId", "No account matches; invite the person instead (…/invitations).");
        }

        if (role > callerRole)
        {
            return ServiceError.Forbidden($"A caller with role '{callerRole.ToWireName()}' cannot grant the higher role '{role.ToWireName()}'.");
        }

        await using var transaction = await BeginLockedAsync(workspaceId, cancellationToken);
        if (await db.WorkspaceMembers.AnyAsync(m => m.WorkspaceId == workspaceId && m.UserId == user.Id, cancellationToken))
        {
            return ServiceError.Conflict($"{user.Email} is already a member; change their role instead.");
        }

        var now = time.GetUtcNowTruncated();
        db.WorkspaceMembers.Add(new WorkspaceMember
        {
            WorkspaceId = workspaceId,
            UserId = user.Id,
            Role = role,
            AddedBy = caller.ActorId,
            CreatedAt = now,
            UpdatedAt = now,
        });
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return (await GetAsync(workspaceId, user.Id, cancellationToken))!;
    }

    /// <summary>Makes a user a member, or raises their role to <paramref name="role"/> if they hold a lower one (invitations).</summary>
    internal async Task JoinAsync(string workspaceId, string userId, WorkspaceRole role, string? addedBy, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNowTruncated();
        var member = await db.WorkspaceMembers.FirstOrDefaultAsync(m => m.WorkspaceId == workspaceId && m.UserId == userId, cancellationToken);
        if (member is null)
        {
            db.WorkspaceMembers.Add(new WorkspaceMember
            {
                WorkspaceId = workspaceId,
                UserId = userId,
                Role = role,
                AddedBy = addedBy,
                CreatedAt = now,
                UpdatedAt = now,
            });
        }
        else if (member.Role < role)
        {
            member.Role = role;
            member.UpdatedAt = now;
        }

        await db.SaveChangesAsync(cancellationToken);
    }

    public async Task<ServiceResult<MemberResponse>> UpdateRoleAsync(
        string workspaceId, string userId, UpdateMemberRequest request, WorkspaceRole callerRole, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var errors = new ValidationErrors();
        var role = ParseRole(request.Role, errors);
        if (!errors.IsEmpty)
        {
            return ServiceError.Validation(errors);
        }

        await using var transaction = await BeginLockedAsync(workspaceId, cancellationToken);
        var member = await db.WorkspaceMembers.FirstOrDefaultAsync(m => m.WorkspaceId == workspaceId && m.UserId == userId, cancellationToken);
        if (member is null)
        {
            return ServiceError.NotFound($"User '{userId}' is not a member of this workspace.");
        }

        if (member.Role > callerRole || role > callerRole)
        {
            return ServiceError.Forbidden($"A caller with role '{callerRole.ToWireName()}' cannot change a '{member.Role.ToWireName()}' to '{role.ToWireName()}'.");
        }

        if (member.Role == WorkspaceRole.Owner && role != WorkspaceRole.Owner && !await HasOtherOwnerAsync(workspaceId, userId, cancellationToken))
        {
            return ServiceError.Conflict(LastOwner);
        }

        if (member.Role != role)
        {
            member.Role = role;
            member.UpdatedAt = time.GetUtcNowTruncated();
            await db.SaveChangesAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        return (await GetAsync(workspaceId, userId, cancellationToken))!;
    }

    /// <summary>Removes a member (admins remove up to their own role; anyone may leave), never the last owner.</summary>
    public async Task<ServiceResult<bool>> RemoveAsync(
        string workspaceId, string userId, Caller caller, WorkspaceRole callerRole, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(caller);
        await using var transaction = await BeginLockedAsync(workspaceId, cancellationToken);
        var member = await db.WorkspaceMembers.FirstOrDefaultAsync(m => m.WorkspaceId == workspaceId && m.UserId == userId, cancellationToken);
        if (member is null)
        {
            return ServiceError.NotFound($"User '{userId}' is not a member of this workspace.");
        }

        var leaving = caller.IsUser && caller.ActorId == userId;
        if (!leaving && (callerRole < WorkspaceRole.Admin || member.Role > callerRole))
        {
            return ServiceError.Forbidden($"A caller with role '{callerRole.ToWireName()}' cannot remove a '{member.Role.ToWireName()}'.");
        }

        if (member.Role == WorkspaceRole.Owner && !await HasOtherOwnerAsync(workspaceId, userId, cancellationToken))
        {
            return ServiceError.Conflict(LastOwner);
        }

        db.WorkspaceMembers.Remove(member);
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return true;
    }

    /// <summary>Makes another member owner; a person handing over ownership becomes admin.</summary>
    public async Task<ServiceResult<MemberResponse>> TransferOwnershipAsync(
        string workspaceId, TransferOwnershipRequest request, Caller caller, WorkspaceRole callerRole, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(caller);
        if (string.IsNullOrEmpty(request.UserId))
        {
            return ServiceError.Validation("userId", "Is required: the member who becomes owner.");
        }

        if (callerRole != WorkspaceRole.Owner)
        {
            return ServiceError.Forbidden("Only an owner can transfer ownership.");
        }

        if (caller.IsUser && caller.ActorId == request.UserId)
        {
            return ServiceError.Validation("userId", "Is you; name another member.");
        }

        await using var transaction = await BeginLockedAsync(workspaceId, cancellationToken);
        var target = await db.WorkspaceMembers.FirstOrDefaultAsync(m => m.WorkspaceId == workspaceId && m.UserId == request.UserId, cancellationToken);
        if (target is null)
        {
            return ServiceError.Validation("userId", "Is not a member of this workspace; add or invite them first.");
        }

        var now = time.GetUtcNowTruncated();
        target.Role = WorkspaceRole.Owner;
        target.UpdatedAt = now;
        if (caller.IsUser && await db.WorkspaceMembers.FirstOrDefaultAsync(m => m.WorkspaceId == workspaceId && m.UserId == caller.ActorId, cancellationToken) is { Role: WorkspaceRole.Owner } self)
        {
            self.Role = WorkspaceRole.Admin;
            self.UpdatedAt = now;
        }

        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return (await GetAsync(workspaceId, target.UserId, cancellationToken))!;
    }

    /// <summary>
    /// Opens a transaction holding the workspace row's lock (an update that changes nothing): on
    /// PostgreSQL a row lock, on SQLite the database write lock. Membership changes of one workspace
    /// run one at a time, so owner counts stay true.
    /// </summary>
    private async Task<Microsoft.EntityFrameworkCore.Storage.IDbContextTransaction> BeginLockedAsync(string workspaceId, CancellationToken cancellationToken)
    {
        var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        await db.Workspaces.Where(w => w.Id == workspaceId)
            .ExecuteUpdateAsync(set => set.SetProperty(w => w.Version, w => w.Version), cancellationToken);
        return transaction;
    }

    private Task<bool> HasOtherOwnerAsync(string workspaceId, string userId, CancellationToken cancellationToken) =>
        db.WorkspaceMembers.AnyAsync(m => m.WorkspaceId == workspaceId && m.UserId != userId && m.Role == WorkspaceRole.Owner, cancellationToken);

    private static WorkspaceRole ParseRole(string? name, ValidationErrors errors)
    {
        if (WorkspaceRoles.TryParse(name, out var role))
        {
            return role;
        }

        errors.Add("role", $"Is required and must be one of: {string.Join(", ", WorkspaceRoles.Names)}.");
        return WorkspaceRole.Viewer;
    }

    internal static UserSummary Summarize(User user) => new(user.Id, user.Email, user.DisplayName, user.AvatarUrl, user.Status.ToWireName());

    private static MemberResponse ToResponse(WorkspaceMember member, IReadOnlyDictionary<string, Actor> actors) => new(
        Summarize(member.User!),
        member.Role.ToWireName(),
        actors.Find(member.AddedBy),
        member.CreatedAt,
        member.UpdatedAt);
}
