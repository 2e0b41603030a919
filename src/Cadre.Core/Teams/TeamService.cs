using Cadre.Auth;
using Cadre.Common;
using Cadre.Members;
using Cadre.Storage;
using Microsoft.EntityFrameworkCore;

namespace Cadre.Teams;

/// <summary>Teams of a workspace's members. A team member who leaves the workspace leaves its teams (a database cascade).</summary>
internal sealed class TeamService(CadreDbContext db, StorageProvider storage, IdGenerator ids, TimeProvider time, ActorService actors)
{
    public async Task<ServiceResult<TeamResponse>> CreateAsync(string workspaceId, CreateTeamRequest request, Caller caller, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(caller);
        var errors = new ValidationErrors();
        Text.ValidateLabel(request.Name, "name", 100, errors);
        ValidateDescription(request.Description, errors);
        var memberIds = request.Members?.Distinct(StringComparer.Ordinal).ToList() ?? [];
        await ValidateMembersAsync(workspaceId, memberIds, "members", errors, cancellationToken);
        if (!errors.IsEmpty)
        {
            return ServiceError.Validation(errors);
        }

        var now = time.GetUtcNowTruncated();
        var team = new Team
        {
            Id = ids.NewId(Team.IdPrefix),
            WorkspaceId = workspaceId,
            Name = request.Name!.Trim(),
            Description = string.IsNullOrEmpty(request.Description) ? null : request.Description,
            CreatedBy = caller.ActorId,
            UpdatedBy = caller.ActorId,
            Version = 1,
            CreatedAt = now,
            UpdatedAt = now,
        };
        db.Teams.Add(team);
        foreach (var userId in memberIds)
        {
            db.TeamMembers.Add(new TeamMember { TeamId = team.Id, UserId = userId, WorkspaceId = workspaceId, AddedBy = caller.ActorId, CreatedAt = now });
        }

        return await SaveAsync(team, cancellationToken);
    }

    public async Task<ServiceResult<Page<TeamResponse>>> ListAsync(
        string workspaceId, TeamListFilter filter, Caller caller, PageRequest page, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(filter);
        ArgumentNullException.ThrowIfNull(caller);
        var query = db.Teams.AsNoTracking().Where(t => t.WorkspaceId == workspaceId);
        if (filter.Member is not null)
        {
            if (filter.Member == "me" && !caller.IsUser)
            {
                return ServiceError.Validation("member", "'me' needs a person signed in or a personal key.");
            }

            var member = filter.Member == "me" ? caller.ActorId : filter.Member;
            query = query.Where(t => db.TeamMembers.Any(m => m.TeamId == t.Id && m.UserId == member));
        }

        if (!string.IsNullOrWhiteSpace(filter.Search))
        {
            var term = filter.Search.Trim().ToLowerInvariant();
#pragma warning disable CA1304, CA1311, CA1862 // Translated to SQL lower()/LIKE by EF Core; the culture-aware overloads do not translate.
            query = query.Where(t => t.Name.ToLower().Contains(term));
#pragma warning restore CA1304, CA1311, CA1862
        }

        return await ToResponsesAsync(await query.ToPageAsync(t => t.Id, page, cancellationToken), cancellationToken);
    }

    public async Task<TeamResponse?> GetAsync(string workspaceId, string teamId, CancellationToken cancellationToken)
    {
        var team = await db.Teams.AsNoTracking().FirstOrDefaultAsync(t => t.Id == teamId && t.WorkspaceId == workspaceId, cancellationToken);
        return team is null ? null : (await ToResponsesAsync(new Page<Team>([team], 1, null, null), cancellationToken)).Items[0];
    }

    public async Task<ServiceResult<TeamResponse>> UpdateAsync(
        string workspaceId, string teamId, UpdateTeamRequest request, Caller caller, VersionPrecondition? precondition, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(caller);
        var team = await db.Teams.FirstOrDefaultAsync(t => t.Id == teamId && t.WorkspaceId == workspaceId, cancellationToken);
        if (team is null)
        {
            return ServiceError.NotFound($"Team '{teamId}' not found.");
        }

        if (precondition is not null && !precondition.IsMetBy(team.Version))
        {
            return ServiceError.PreconditionFailed($"{precondition.Describe()}, but the team is at version {team.Version}.");
        }

        var errors = new ValidationErrors();
        if (request.Name is not null)
        {
            Text.ValidateLabel(request.Name, "name", 100, errors);
        }

        ValidateDescription(request.Description, errors);
        if (!errors.IsEmpty)
        {
            return ServiceError.Validation(errors);
        }

        team.Name = request.Name?.Trim() ?? team.Name;
        team.Description = request.Description is null ? team.Description : request.Description.Length == 0 ? null : request.Description;
        if (db.Entry(team).Properties.Any(p => p.IsModified))
        {
            team.Version++;
            team.UpdatedAt = time.GetUtcNowTruncated();
            team.UpdatedBy = caller.ActorId;
        }

        return await SaveAsync(team, cancellationToken);
    }

    public async Task<ServiceResult<bool>> DeleteAsync(string workspaceId, string teamId, CancellationToken cancellationToken)
    {
        var deleted = await db.Teams.Where(t => t.Id == teamId && t.WorkspaceId == workspaceId).ExecuteDeleteAsync(cancellationToken);
        return deleted == 1 ? true : ServiceError.NotFound($"Team '{teamId}' not found.");
    }

    public async Task<ServiceResult<Page<TeamMemberResponse>>> ListMembersAsync(string workspaceId, string teamId, PageRequest page, CancellationToken cancellationToken)
    {
        if (!await db.Teams.AnyAsync(t => t.Id == teamId && t.WorkspaceId == workspaceId, cancellationToken))
        {
            return ServiceError.NotFound($"Team '{teamId}' not found.");
        }

        var members = await (
            from m in db.TeamMembers.AsNoTracking()
            join u in db.Users.AsNoTracking() on m.UserId equals u.Id
            where m.TeamId == teamId
            select new { m.UserId, m.AddedBy, m.CreatedAt, User = u }).ToPageAsync(m => m.UserId, page, cancellationToken);
        var resolved = await actors.ResolveAsync(members.Items.Select(m => m.AddedBy), cancellationToken);
        return members.Map(m => new TeamMemberResponse(MembershipService.Summarize(m.User), resolved.Find(m.AddedBy), m.CreatedAt));
    }

    /// <summary>Puts a workspace member in the team; adding someone already in it succeeds and changes nothing.</summary>
    public async Task<ServiceResult<TeamMemberResponse>> AddMemberAsync(
        string workspaceId, string teamId, string userId, Caller caller, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(caller);
        if (!await db.Teams.AnyAsync(t => t.Id == teamId && t.WorkspaceId == workspaceId, cancellationToken))
        {
            return ServiceError.NotFound($"Team '{teamId}' not found.");
        }

        var errors = new ValidationErrors();
        await ValidateMembersAsync(workspaceId, [userId], "userId", errors, cancellationToken);
        if (!errors.IsEmpty)
        {
            return ServiceError.Validation(errors);
        }

        if (!await db.TeamMembers.AnyAsync(m => m.TeamId == teamId && m.UserId == userId, cancellationToken))
        {
            db.TeamMembers.Add(new TeamMember { TeamId = teamId, UserId = userId, WorkspaceId = workspaceId, AddedBy = caller.ActorId, CreatedAt = time.GetUtcNowTruncated() });
            try
            {
                await db.SaveChangesAsync(cancellationToken);
            }
            catch (DbUpdateException ex) when (storage.IsUniqueViolation(ex))
            {
                // Added by a concurrent request: the outcome the caller asked for.
            }
        }

        var member = await (
            from m in db.TeamMembers.AsNoTracking()
            join u in db.Users.AsNoTracking() on m.UserId equals u.Id
            where m.TeamId == teamId && m.UserId == userId
            select new { m.AddedBy, m.CreatedAt, User = u }).SingleAsync(cancellationToken);
        return new TeamMemberResponse(MembershipService.Summarize(member.User), await actors.ResolveAsync(member.AddedBy, cancellationToken), member.CreatedAt);
    }

    public async Task<ServiceResult<bool>> RemoveMemberAsync(string workspaceId, string teamId, string userId, CancellationToken cancellationToken)
    {
        if (!await db.Teams.AnyAsync(t => t.Id == teamId && t.WorkspaceId == workspaceId, cancellationToken))
        {
            return ServiceError.NotFound($"Team '{teamId}' not found.");
        }

        var removed = await db.TeamMembers.Where(m => m.TeamId == teamId && m.UserId == userId).ExecuteDeleteAsync(cancellationToken);
        return removed == 1 ? true : ServiceError.NotFound($"User '{userId}' is not in this team.");
    }

    private async Task ValidateMembersAsync(string workspaceId, List<string> userIds, string field, ValidationErrors errors, CancellationToken cancellationToken)
    {
        if (userIds.Count == 0)
        {
            return;
        }

        var known = await db.WorkspaceMembers.AsNoTracking()
            .Where(m => m.WorkspaceId == workspaceId && userIds.Contains(m.UserId)).Select(m => m.UserId).ToListAsync(cancellationToken);
        foreach (var missing in userIds.Except(known, StringComparer.Ordinal))
        {
            errors.Add(field, $"'{missing}' is not a member of this workspace.");
        }
    }

    private async Task<ServiceResult<TeamResponse>> SaveAsync(Team team, CancellationToken cancellationToken)
    {
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateConcurrencyException)
        {
            return ServiceError.Conflict("The team was changed by another request at the same time. Retry.");
        }
        catch (DbUpdateException ex) when (storage.IsUniqueViolation(ex))
        {
            return ServiceError.Conflict($"A team named '{team.Name}' already exists in this workspace.");
        }

        return (await GetAsync(team.WorkspaceId, team.Id, cancellationToken))!;
    }

    private async Task<Page<TeamResponse>> ToResponsesAsync(Page<Team> teams, CancellationToken cancellationToken)
    {
        var teamIds = teams.Items.Select(t => t.Id).ToList();
        var counts = await db.TeamMembers.AsNoTracking().Where(m => teamIds.Contains(m.TeamId))
            .GroupBy(m => m.TeamId).Select(g => new { Id = g.Key, Count = g.Count() })
            .ToDictionaryAsync(g => g.Id, g => g.Count, cancellationToken);
        var resolved = await actors.ResolveAsync(teams.Items.SelectMany(t => new[] { t.CreatedBy, t.UpdatedBy }), cancellationToken);
        return teams.Map(t => new TeamResponse(t.Id, t.WorkspaceId, t.Name, t.Description, counts.GetValueOrDefault(t.Id),
            resolved.Find(t.CreatedBy), resolved.Find(t.UpdatedBy), t.Version, t.CreatedAt, t.UpdatedAt));
    }

    private static void ValidateDescription(string? description, ValidationErrors errors)
    {
        if (description is { Length: > 1000 })
        {
            errors.Add("description", "Must be at most 1000 characters.");
        }
    }
}
