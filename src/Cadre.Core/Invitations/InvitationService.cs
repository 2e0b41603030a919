using Cadre.Auth;
using Cadre.Common;
using Cadre.Members;
using Cadre.Notifications;
using Cadre.Storage;
using Cadre.Users;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Cadre.Invitations;

/// <summary>The outcome of accepting an invitation, with the account to sign in when the acceptor was not signed in.</summary>
internal sealed record AcceptOutcome(AcceptedInvitationResponse Response, User User);

/// <summary>Invitations to join a workspace: single-use, expiring tokens, mailed when SMTP is configured.</summary>
internal sealed class InvitationService(
    CadreDbContext db,
    IdGenerator ids,
    TimeProvider time,
    ActorService actors,
    UserService users,
    MembershipService members,
    IEmailSender email,
    IOptions<AuthOptions> options)
{
    public async Task<ServiceResult<CreatedInvitationResponse>> CreateAsync(
        string workspaceId, CreateInvitationRequest request, Caller caller, WorkspaceRole callerRole, string baseUrl, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(caller);
        var errors = new ValidationErrors();
        var address = EmailAddress.Validate(request.Email, out var emailError);
        if (emailError is not null)
        {
            errors.Add("email", emailError);
        }

        if (!WorkspaceRoles.TryParse(request.Role, out var role))
        {
            errors.Add("role", $"Is required and must be one of: {string.Join(", ", WorkspaceRoles.Names)}.");
        }

        if (!errors.IsEmpty)
        {
            return ServiceError.Validation(errors);
        }

        if (role > callerRole)
        {
            return ServiceError.Forbidden($"A caller with role '{callerRole.ToWireName()}' cannot invite with the higher role '{role.ToWireName()}'.");
        }

        var normalized = EmailAddress.Normalize(address!);
        if (await db.WorkspaceMembers.AnyAsync(m => m.WorkspaceId == workspaceId && m.User!.NormalizedEmail == normalized, cancellationToken))
        {
            return ServiceError.Conflict($"{address} is already a member of this workspace.");
        }

        var now = time.GetUtcNowTruncated();
        // A new invitation to the same address replaces the pending one: only the latest link works.
        await db.Invitations
            .Where(i => i.WorkspaceId == workspaceId && i.NormalizedEmail == normalized && i.AcceptedAt == null && i.RevokedAt == null)
            .ExecuteUpdateAsync(set => set.SetProperty(i => i.RevokedAt, now), cancellationToken);

        var token = ApiKeySecret.GenerateToken();
        var invitation = new Invitation
        {
            Id = ids.NewId(Invitation.IdPrefix),
            WorkspaceId = workspaceId,
            Email = address!,
            NormalizedEmail = normalized,
            Role = role,
            TokenHash = ApiKeySecret.Hash(token),
            CreatedBy = caller.ActorId,
            CreatedAt = now,
            ExpiresAt = now + options.Value.InvitationLifetime,
        };
        db.Invitations.Add(invitation);
        await db.SaveChangesAsync(cancellationToken);

        var link = $"{baseUrl.TrimEnd('/')}/invitations/accept?token={token}";
        var response = ToResponse(invitation, now, await actors.ResolveAsync([invitation.CreatedBy], cancellationToken));
        if (!email.IsConfigured)
        {
            return new CreatedInvitationResponse(response, "none", token, link);
        }

        var workspace = await db.Workspaces.AsNoTracking().Where(w => w.Id == workspaceId).Select(w => w.DisplayName).SingleAsync(cancellationToken);
        await email.SendAsync(new EmailMessage(address!, $"You are invited to {workspace} on Cadre",
            $"{response.InvitedBy?.Name ?? "Someone"} invited you to join the workspace {workspace} on Cadre as {role.ToWireName()}.\n\n" +
            $"Accept the invitation here:\n\n{link}\n\nThe link works once, until {invitation.ExpiresAt:u}."), cancellationToken);
        return new CreatedInvitationResponse(response, "email", null, null);
    }

    public async Task<ServiceResult<Page<InvitationResponse>>> ListAsync(string workspaceId, string? status, PageRequest page, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNowTruncated();
        var query = db.Invitations.AsNoTracking().Where(i => i.WorkspaceId == workspaceId);
        switch (status)
        {
            case null:
                break;
            case "pending":
                query = query.Where(i => i.AcceptedAt == null && i.RevokedAt == null && i.ExpiresAt > now);
                break;
            case "accepted":
                query = query.Where(i => i.AcceptedAt != null);
                break;
            case "revoked":
                query = query.Where(i => i.RevokedAt != null);
                break;
            case "expired":
                query = query.Where(i => i.AcceptedAt == null && i.RevokedAt == null && i.ExpiresAt <= now);
                break;
            default:
                return ServiceError.Validation("status", "Must be one of: pending, accepted, expired, revoked.");
        }

        var invitations = await query.ToPageAsync(i => i.Id, page, cancellationToken);
        var resolved = await actors.ResolveAsync(invitations.Items.SelectMany(i => new[] { i.CreatedBy, i.AcceptedBy }), cancellationToken);
        return invitations.Map(i => ToResponse(i, now, resolved));
    }

    public async Task<ServiceResult<InvitationResponse>> RevokeAsync(string workspaceId, string invitationId, CancellationToken cancellationToken)
    {
        var invitation = await db.Invitations.FirstOrDefaultAsync(i => i.Id == invitationId && i.WorkspaceId == workspaceId, cancellationToken);
        if (invitation is null)
        {
            return ServiceError.NotFound($"Invitation '{invitationId}' not found.");
        }

        if (invitation.AcceptedAt is not null)
        {
            return ServiceError.Conflict("The invitation was already accepted; remove the member instead.");
        }

        var now = time.GetUtcNowTruncated();
        invitation.RevokedAt ??= now;
        await db.SaveChangesAsync(cancellationToken);
        return ToResponse(invitation, now, await actors.ResolveAsync([invitation.CreatedBy, invitation.AcceptedBy], cancellationToken));
    }

    public async Task<ServiceResult<InvitationPreviewResponse>> PreviewAsync(string? token, CancellationToken cancellationToken)
    {
        var found = await FindUsableAsync(token, cancellationToken);
        if (found.Error is not null)
        {
            return found.Error;
        }

        var invitation = found.Value!;
        var workspace = await db.Workspaces.AsNoTracking().SingleAsync(w => w.Id == invitation.WorkspaceId, cancellationToken);
        var exists = await db.Users.AnyAsync(u => u.NormalizedEmail == invitation.NormalizedEmail, cancellationToken);
        return new InvitationPreviewResponse(workspace.Name, workspace.DisplayName, invitation.Email, invitation.Role.ToWireName(),
            await actors.ResolveAsync(invitation.CreatedBy, cancellationToken), invitation.ExpiresAt, exists);
    }

    /// <summary>
    /// Redeems an invitation: a signed-in person with the invited address joins; otherwise an
    /// existing account proves itself with its password, or a new account is made. Works once.
    /// </summary>
    public async Task<ServiceResult<AcceptOutcome>> AcceptAsync(AcceptInvitationRequest request, Caller? signedIn, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var found = await FindUsableAsync(request.Token, cancellationToken);
        if (found.Error is not null)
        {
            return found.Error;
        }

        var invitation = found.Value!;
        var existing = await db.Users.FirstOrDefaultAsync(u => u.NormalizedEmail == invitation.NormalizedEmail, cancellationToken);
        User user = null!;
        var created = false;
        if (signedIn is { IsUser: true })
        {
            if (existing?.Id != signedIn.ActorId)
            {
                return ServiceError.Forbidden($"This invitation is for {invitation.Email}; you are signed in with another account.");
            }

            user = existing;
        }
        else if (existing is not null)
        {
            var signIn = await users.SignInAsync(existing.Email, request.Password, cancellationToken);
            if (signIn.Status != SignInStatus.Succeeded)
            {
                return ServiceError.Validation("password", signIn.Status switch
                {
                    SignInStatus.LockedOut => "The account is locked after too many wrong passwords; retry later.",
                    SignInStatus.Disabled => "The account is disabled.",
                    _ => $"Is not the password of the existing account {invitation.Email}; sign in first or give its password.",
                });
            }

            user = signIn.User!;
        }

        // The account a new person gets is made in the same transaction that claims the
        // invitation, so a lost race leaves no account behind. (Checking an existing account's
        // password stays outside: its failure must count towards the lockout even then.)
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        if (existing is null)
        {
            var made = await users.CreateUserAsync(invitation.Email, request.DisplayName, request.Password, null, passwordRequired: true, new ValidationErrors(), cancellationToken);
            if (made.Error is not null)
            {
                return made.Error;
            }

            user = made.Value!;
            created = true;
        }

        if (user.Status != UserStatus.Active)
        {
            return ServiceError.Forbidden("The account is disabled.");
        }

        var now = time.GetUtcNowTruncated();
        var claimed = await db.Invitations
            .Where(i => i.Id == invitation.Id && i.AcceptedAt == null && i.RevokedAt == null)
            .ExecuteUpdateAsync(set => set.SetProperty(i => i.AcceptedAt, now).SetProperty(i => i.AcceptedBy, user.Id), cancellationToken);
        if (claimed != 1)
        {
            return ServiceError.Conflict("The invitation has already been used.");
        }

        await members.JoinAsync(invitation.WorkspaceId, user.Id, invitation.Role, invitation.CreatedBy, cancellationToken);
        await transaction.CommitAsync(cancellationToken);

        var workspace = await db.Workspaces.AsNoTracking().Where(w => w.Id == invitation.WorkspaceId).Select(w => w.Name).SingleAsync(cancellationToken);
        var role = await db.WorkspaceMembers.AsNoTracking()
            .Where(m => m.WorkspaceId == invitation.WorkspaceId && m.UserId == user.Id).Select(m => m.Role).SingleAsync(cancellationToken);
        return new AcceptOutcome(new AcceptedInvitationResponse(UserService.ToResponse(user), workspace, role.ToWireName(), created), user);
    }

    private async Task<ServiceResult<Invitation>> FindUsableAsync(string? token, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(token) || token.Length > ApiKeySecret.MaxPresentedLength)
        {
            return ServiceError.Validation("token", "Is required.");
        }

        var hash = ApiKeySecret.Hash(token);
        var invitation = await db.Invitations.AsNoTracking().FirstOrDefaultAsync(i => i.TokenHash == hash, cancellationToken);
        if (invitation is null || invitation.RevokedAt is not null)
        {
            return ServiceError.NotFound("The invitation is not valid (it may have been withdrawn or replaced by a newer one).");
        }

        if (invitation.AcceptedAt is not null)
        {
            return ServiceError.Conflict("The invitation has already been used.");
        }

        if (invitation.ExpiresAt <= time.GetUtcNowTruncated())
        {
            return ServiceError.Conflict("The invitation has expired; ask for a new one.");
        }

        return invitation;
    }

    private static InvitationResponse ToResponse(Invitation invitation, DateTime now, IReadOnlyDictionary<string, Actor> resolved) => new(
        invitation.Id,
        invitation.WorkspaceId,
        invitation.Email,
        invitation.Role.ToWireName(),
        invitation.AcceptedAt is not null ? "accepted" : invitation.RevokedAt is not null ? "revoked" : invitation.ExpiresAt <= now ? "expired" : "pending",
        resolved.Find(invitation.CreatedBy),
        invitation.CreatedAt,
        invitation.ExpiresAt,
        invitation.AcceptedAt,
        resolved.Find(invitation.AcceptedBy),
        invitation.RevokedAt);
}
