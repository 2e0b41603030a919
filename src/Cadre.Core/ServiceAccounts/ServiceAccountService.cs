using Cadre.Auth;
using Cadre.Common;
using Cadre.Storage;
using Cadre.Users;
using Microsoft.EntityFrameworkCore;

namespace Cadre.ServiceAccounts;

/// <summary>A workspace's machine identities. Deleting one deletes its keys; disabling one stops them.</summary>
internal sealed class ServiceAccountService(CadreDbContext db, StorageProvider storage, IdGenerator ids, TimeProvider time, ActorService actors)
{
    public async Task<ServiceResult<ServiceAccountResponse>> CreateAsync(
        string workspaceId, CreateServiceAccountRequest request, Caller caller, WorkspaceRole callerRole, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(caller);
        var errors = new ValidationErrors();
        Text.ValidateLabel(request.Name, "name", 100, errors);
        ValidateDescription(request.Description, errors);
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
            return ServiceError.Forbidden($"A caller with role '{callerRole.ToWireName()}' cannot create an account with the higher role '{role.ToWireName()}'.");
        }

        var now = time.GetUtcNowTruncated();
        var account = new ServiceAccount
        {
            Id = ids.NewId(ServiceAccount.IdPrefix),
            WorkspaceId = workspaceId,
            Name = request.Name!.Trim(),
            Description = request.Description,
            Role = role,
            Status = UserStatus.Active,
            CreatedBy = caller.ActorId,
            UpdatedBy = caller.ActorId,
            Version = 1,
            CreatedAt = now,
            UpdatedAt = now,
        };
        db.ServiceAccounts.Add(account);
        return await SaveAsync(account, cancellationToken);
    }

    public async Task<Page<ServiceAccountResponse>> ListAsync(string workspaceId, PageRequest page, CancellationToken cancellationToken)
    {
        var accounts = await db.ServiceAccounts.AsNoTracking().Where(s => s.WorkspaceId == workspaceId).ToPageAsync(s => s.Id, page, cancellationToken);
        return await ToResponsesAsync(accounts, cancellationToken);
    }

    public async Task<ServiceAccountResponse?> GetAsync(string workspaceId, string id, CancellationToken cancellationToken)
    {
        var account = await db.ServiceAccounts.AsNoTracking().FirstOrDefaultAsync(s => s.Id == id && s.WorkspaceId == workspaceId, cancellationToken);
        return account is null ? null : (await ToResponsesAsync(new Page<ServiceAccount>([account], 1, null, null), cancellationToken)).Items[0];
    }

    public async Task<ServiceResult<ServiceAccountResponse>> UpdateAsync(
        string workspaceId, string id, UpdateServiceAccountRequest request, Caller caller, WorkspaceRole callerRole, VersionPrecondition? precondition, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(caller);
        var account = await db.ServiceAccounts.FirstOrDefaultAsync(s => s.Id == id && s.WorkspaceId == workspaceId, cancellationToken);
        if (account is null)
        {
            return ServiceError.NotFound($"Service account '{id}' not found.");
        }

        if (precondition is not null && !precondition.IsMetBy(account.Version))
        {
            return ServiceError.PreconditionFailed($"{precondition.Describe()}, but the service account is at version {account.Version}.");
        }

        var errors = new ValidationErrors();
        if (request.Name is not null)
        {
            Text.ValidateLabel(request.Name, "name", 100, errors);
        }

        ValidateDescription(request.Description, errors);
        WorkspaceRole? role = null;
        if (request.Role is not null)
        {
            if (WorkspaceRoles.TryParse(request.Role, out var parsed))
            {
                role = parsed;
            }
            else
            {
                errors.Add("role", $"Must be one of: {string.Join(", ", WorkspaceRoles.Names)}.");
            }
        }

        UserStatus? status = null;
        if (request.Status is not null)
        {
            if (WireNames.TryParseUserStatus(request.Status, out var parsed))
            {
                status = parsed;
            }
            else
            {
                errors.Add("status", "Must be 'active' or 'disabled'.");
            }
        }

        if (!errors.IsEmpty)
        {
            return ServiceError.Validation(errors);
        }

        if (account.Role > callerRole || role > callerRole)
        {
            return ServiceError.Forbidden($"A caller with role '{callerRole.ToWireName()}' cannot change an account with role '{account.Role.ToWireName()}' or grant a higher one.");
        }

        account.Name = request.Name?.Trim() ?? account.Name;
        account.Description = request.Description is null ? account.Description : request.Description.Length == 0 ? null : request.Description;
        account.Role = role ?? account.Role;
        account.Status = status ?? account.Status;
        if (db.Entry(account).Properties.Any(p => p.IsModified))
        {
            account.Version++;
            account.UpdatedAt = time.GetUtcNowTruncated();
            account.UpdatedBy = caller.ActorId;
        }

        return await SaveAsync(account, cancellationToken);
    }

    /// <summary>Deletes the account and, with it, its keys.</summary>
    public async Task<ServiceResult<bool>> DeleteAsync(string workspaceId, string id, WorkspaceRole callerRole, CancellationToken cancellationToken)
    {
        var account = await db.ServiceAccounts.FirstOrDefaultAsync(s => s.Id == id && s.WorkspaceId == workspaceId, cancellationToken);
        if (account is null)
        {
            return ServiceError.NotFound($"Service account '{id}' not found.");
        }

        if (account.Role > callerRole)
        {
            return ServiceError.Forbidden($"A caller with role '{callerRole.ToWireName()}' cannot delete an account with role '{account.Role.ToWireName()}'.");
        }

        db.ServiceAccounts.Remove(account);
        await db.SaveChangesAsync(cancellationToken);
        return true;
    }

    private async Task<ServiceResult<ServiceAccountResponse>> SaveAsync(ServiceAccount account, CancellationToken cancellationToken)
    {
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateConcurrencyException)
        {
            return ServiceError.Conflict("The service account was changed by another request at the same time. Retry.");
        }
        catch (DbUpdateException ex) when (storage.IsUniqueViolation(ex))
        {
            return ServiceError.Conflict($"A service account named '{account.Name}' already exists in this workspace.");
        }

        return (await GetAsync(account.WorkspaceId, account.Id, cancellationToken))!;
    }

    private async Task<Page<ServiceAccountResponse>> ToResponsesAsync(Page<ServiceAccount> accounts, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNowTruncated();
        var accountIds = accounts.Items.Select(a => a.Id).ToList();
        var activeKeys = await db.ApiKeys.AsNoTracking()
            .Where(k => k.ServiceAccountId != null && accountIds.Contains(k.ServiceAccountId) && k.RevokedAt == null && (k.ExpiresAt == null || k.ExpiresAt > now))
            .GroupBy(k => k.ServiceAccountId!)
            .Select(g => new { Id = g.Key, Count = g.Count() })
            .ToDictionaryAsync(g => g.Id, g => g.Count, cancellationToken);
        var resolved = await actors.ResolveAsync(accounts.Items.SelectMany(a => new[] { a.CreatedBy, a.UpdatedBy }), cancellationToken);
        return accounts.Map(a => new ServiceAccountResponse(
            a.Id, a.WorkspaceId, a.Name, a.Description, a.Role.ToWireName(), a.Status.ToWireName(),
            activeKeys.GetValueOrDefault(a.Id), resolved.Find(a.CreatedBy), resolved.Find(a.UpdatedBy), a.Version, a.CreatedAt, a.UpdatedAt));
    }

    private static void ValidateDescription(string? description, ValidationErrors errors)
    {
        if (description is { Length: > 1000 })
        {
            errors.Add("description", "Must be at most 1000 characters.");
        }
    }
}
