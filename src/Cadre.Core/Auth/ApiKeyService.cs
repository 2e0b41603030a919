using System.Globalization;
using Cadre.Common;
using Cadre.Storage;
using Cadre.Users;
using Microsoft.EntityFrameworkCore;

namespace Cadre.Auth;

/// <summary>Creates, lists, revokes and checks API keys, each owned by a user or a service account.</summary>
internal sealed class ApiKeyService(CadreDbContext db, IdGenerator ids, TimeProvider time, AccessService access, ActorService actors)
{
    /// <summary>How stale <c>lastUsedAt</c> may get: at most one write per key per interval, not one per request.</summary>
    internal static readonly TimeSpan LastUsedResolution = TimeSpan.FromMinutes(1);

    /// <summary>Creates a key for a service account of the workspace; its role is capped by the account's and the creator's.</summary>
    public async Task<ServiceResult<CreatedApiKeyResponse>> CreateForServiceAccountAsync(
        string workspaceId, string serviceAccountId, Caller creator, WorkspaceRole creatorRole, CreateApiKeyRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(creator);
        ArgumentNullException.ThrowIfNull(request);
        var account = await db.ServiceAccounts.AsNoTracking()
            .FirstOrDefaultAsync(s => s.Id == serviceAccountId && s.WorkspaceId == workspaceId, cancellationToken);
        if (account is null)
        {
            return ServiceError.NotFound($"Service account '{serviceAccountId}' not found.");
        }

        var errors = Validate(request.Name, request.Role, request.ExpiresAt, out var role);
        if (!errors.IsEmpty)
        {
            return ServiceError.Validation(errors);
        }

        role ??= account.Role;
        if (role > account.Role)
        {
            return ServiceError.Validation("role", $"Must be at most the service account's role '{account.Role.ToWireName()}'.");
        }

        if (role > creatorRole)
        {
            return ServiceError.Forbidden($"A caller with role '{creatorRole.ToWireName()}' cannot create a key with the higher role '{role.Value.ToWireName()}'.");
        }

        return await AddAsync(workspaceId, null, account.Id, role.Value, request.Name!, request.ExpiresAt, creator, cancellationToken);
    }

    /// <summary>Creates a key that acts as the calling person, in one workspace or in all of theirs.</summary>
    public async Task<ServiceResult<CreatedApiKeyResponse>> CreatePersonalAsync(
        Caller user, CreatePersonalApiKeyRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(user);
        ArgumentNullException.ThrowIfNull(request);
        var errors = Validate(request.Name, request.Role, request.ExpiresAt, out var role);
        string? workspaceId = null;
        WorkspaceRole ownRole = WorkspaceRole.Owner;
        if (request.Workspace is not null)
        {
            workspaceId = await db.Workspaces.AsNoTracking().Where(w => w.Name == request.Workspace).Select(w => w.Id).FirstOrDefaultAsync(cancellationToken);
            var memberRole = workspaceId is null ? null : await access.RoleInAsync(user, workspaceId, cancellationToken);
            if (memberRole is null)
            {
                errors.Add("workspace", $"You are not a member of a workspace named '{request.Workspace}'.");
            }
            else
            {
                ownRole = memberRole.Value;
            }
        }

        if (!errors.IsEmpty)
        {
            return ServiceError.Validation(errors);
        }

        role ??= ownRole;
        if (role > ownRole)
        {
            return ServiceError.Forbidden($"Your role is '{ownRole.ToWireName()}'; a key of yours cannot have the higher role '{role.Value.ToWireName()}'.");
        }

        return await AddAsync(workspaceId, user.ActorId, null, role.Value, request.Name!, request.ExpiresAt, user, cancellationToken);
    }

    public async Task<ServiceResult<Page<ApiKeyResponse>>> ListAsync(
        string workspaceId, ApiKeyListFilter filter, PageRequest page, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(filter);
        var now = time.GetUtcNowTruncated();
        var query = db.ApiKeys.AsNoTracking().Where(k => k.WorkspaceId == workspaceId);
        var errors = new ValidationErrors();
        if (filter.Role is not null)
        {
            if (WorkspaceRoles.TryParse(filter.Role, out var role))
            {
                query = query.Where(k => k.Role == role);
            }
            else
            {
                errors.Add("role", $"Must be one of: {string.Join(", ", WorkspaceRoles.Names)}.");
            }
        }

        switch (filter.Status)
        {
            case null:
                break;
            case "active":
                query = query.Where(k => k.RevokedAt == null && (k.ExpiresAt == null || k.ExpiresAt > now));
                break;
            case "revoked":
                query = query.Where(k => k.RevokedAt != null);
                break;
            case "expired":
                query = query.Where(k => k.RevokedAt == null && k.ExpiresAt != null && k.ExpiresAt <= now);
                break;
            default:
                errors.Add("status", "Must be one of: active, expired, revoked.");
                break;
        }

        if (!errors.IsEmpty)
        {
            return ServiceError.Validation(errors);
        }

        return await ToResponsesAsync(await query.ToPageAsync(k => k.Id, page, cancellationToken), now, cancellationToken);
    }

    public async Task<Page<ApiKeyResponse>> ListPersonalAsync(string userId, PageRequest page, CancellationToken cancellationToken) =>
        await ToResponsesAsync(
            await db.ApiKeys.AsNoTracking().Where(k => k.UserId == userId).ToPageAsync(k => k.Id, page, cancellationToken),
            time.GetUtcNowTruncated(),
            cancellationToken);

    public Task<ApiKeyResponse?> GetAsync(string workspaceId, string keyId, CancellationToken cancellationToken) =>
        GetWhereAsync(k => k.Id == keyId && k.WorkspaceId == workspaceId, cancellationToken);

    public Task<ApiKeyResponse?> GetPersonalAsync(string userId, string keyId, CancellationToken cancellationToken) =>
        GetWhereAsync(k => k.Id == keyId && k.UserId == userId, cancellationToken);

    /// <summary>Revokes a key of the workspace at once; revoking a revoked key changes nothing and succeeds.</summary>
    public async Task<ServiceResult<ApiKeyResponse>> RevokeAsync(
        string workspaceId, string keyId, WorkspaceRole callerRole, CancellationToken cancellationToken)
    {
        var key = await db.ApiKeys.FirstOrDefaultAsync(k => k.Id == keyId && k.WorkspaceId == workspaceId, cancellationToken);
        if (key is null)
        {
            return ServiceError.NotFound($"API key '{keyId}' not found.");
        }

        if (key.Role > callerRole)
        {
            return ServiceError.Forbidden($"A caller with role '{callerRole.ToWireName()}' cannot revoke a key with the higher role '{key.Role.ToWireName()}'.");
        }

        return await RevokeAsync(key, cancellationToken);
    }

    /// <summary>Revokes one of the calling person's own keys.</summary>
    public async Task<ServiceResult<ApiKeyResponse>> RevokePersonalAsync(string userId, string keyId, CancellationToken cancellationToken)
    {
        var key = await db.ApiKeys.FirstOrDefaultAsync(k => k.Id == keyId && k.UserId == userId, cancellationToken);
        return key is null ? ServiceError.NotFound($"API key '{keyId}' not found.") : await RevokeAsync(key, cancellationToken);
    }

    /// <summary>Checks a presented key against the key and its owner as they are now, and records the key's use.</summary>
    public async Task<ApiKeyCheck> AuthenticateAsync(string presentedKey, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(presentedKey);
        const string Unknown = "The API key is not valid.";
        if (presentedKey.Length is 0 or > ApiKeySecret.MaxPresentedLength)
        {
            return new ApiKeyCheck(null, Unknown);
        }

        var hash = ApiKeySecret.Hash(presentedKey);
        var found = await (
            from k in db.ApiKeys.AsNoTracking()
            where k.KeyHash == hash
            join u in db.Users on k.UserId equals u.Id into users
            from u in users.DefaultIfEmpty()
            join s in db.ServiceAccounts on k.ServiceAccountId equals s.Id into accounts
            from s in accounts.DefaultIfEmpty()
            select new
            {
                Key = k,
                UserStatus = (UserStatus?)u.Status,
                UserRole = u.InstanceRole,
                AccountStatus = (UserStatus?)s.Status,
                AccountRole = (WorkspaceRole?)s.Role,
            }).FirstOrDefaultAsync(cancellationToken);
        if (found is null)
        {
            return new ApiKeyCheck(null, Unknown);
        }

        var key = found.Key;
        var now = time.GetUtcNowTruncated();
        if (key.RevokedAt is not null)
        {
            return new ApiKeyCheck(null, "The API key has been revoked.");
        }

        if (key.ExpiresAt <= now)
        {
            return new ApiKeyCheck(null, $"The API key expired at {key.ExpiresAt.Value.ToString("O", CultureInfo.InvariantCulture)}.");
        }

        Caller caller;
        if (key.UserId is { } userId)
        {
            if (found.UserStatus != UserStatus.Active)
            {
                return new ApiKeyCheck(null, "The API key's owner is disabled.");
            }

            caller = new Caller(CallerKind.User, userId, key.Id, null, key.WorkspaceId, key.Role, null, found.UserRole);
            if (key.WorkspaceId is { } workspaceId && await access.RoleInAsync(caller with { RoleCap = null }, workspaceId, cancellationToken) is null)
            {
                return new ApiKeyCheck(null, "The API key's owner is no longer a member of its workspace.");
            }
        }
        else if (key.ServiceAccountId is { } accountId)
        {
            if (found.AccountStatus != UserStatus.Active)
            {
                return new ApiKeyCheck(null, "The API key's service account is disabled.");
            }

            caller = new Caller(CallerKind.ServiceAccount, accountId, key.Id, null, key.WorkspaceId, key.Role, found.AccountRole, null);
        }
        else if (key.WorkspaceId is null)
        {
            caller = new Caller(CallerKind.InstanceKey, key.Id, key.Id, null, null, null, null, InstanceRole.Owner);
        }
        else
        {
            return new ApiKeyCheck(null, Unknown);
        }

        if (key.LastUsedAt is null || now - key.LastUsedAt >= LastUsedResolution)
        {
            var staleBefore = now - LastUsedResolution;
            // Conditional, so concurrent requests of one key write once per interval.
            await db.ApiKeys
                .Where(k => k.Id == key.Id && (k.LastUsedAt == null || k.LastUsedAt <= staleBefore))
                .ExecuteUpdateAsync(set => set.SetProperty(k => k.LastUsedAt, now), cancellationToken);
        }

        return new ApiKeyCheck(caller);
    }

    private ValidationErrors Validate(string? name, string? roleName, DateTimeOffset? expiresAt, out WorkspaceRole? role)
    {
        var errors = new ValidationErrors();
        Text.ValidateLabel(name, "name", 100, errors);
        role = null;
        if (roleName is not null)
        {
            if (WorkspaceRoles.TryParse(roleName, out var parsed))
            {
                role = parsed;
            }
            else
            {
                errors.Add("role", $"Must be one of: {string.Join(", ", WorkspaceRoles.Names)}.");
            }
        }

        if (expiresAt is { } expires && expires.ToStorageTime() <= time.GetUtcNowTruncated())
        {
            errors.Add("expiresAt", "Must be in the future.");
        }

        return errors;
    }

    private async Task<ServiceResult<CreatedApiKeyResponse>> AddAsync(
        string? workspaceId, string? userId, string? serviceAccountId, WorkspaceRole role, string name, DateTimeOffset? expiresAt,
        Caller creator, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNowTruncated();
        var secret = ApiKeySecret.Generate();
        var key = new ApiKey
        {
            Id = ids.NewId(ApiKey.IdPrefix),
            WorkspaceId = workspaceId,
            UserId = userId,
            ServiceAccountId = serviceAccountId,
            Name = name.Trim(),
            Role = role,
            KeyPrefix = ApiKeySecret.DisplayPrefix(secret),
            KeyHash = ApiKeySecret.Hash(secret),
            CreatedByKeyId = creator.KeyId,
            CreatedBy = creator.ActorId,
            CreatedAt = now,
            ExpiresAt = expiresAt?.ToStorageTime(),
        };
        db.ApiKeys.Add(key);
        await db.SaveChangesAsync(cancellationToken);
        var resolved = await actors.ResolveAsync([OwnerOf(key), key.CreatedBy], cancellationToken);
        return new CreatedApiKeyResponse(ToResponse(key, now, resolved), secret);
    }

    private async Task<ServiceResult<ApiKeyResponse>> RevokeAsync(ApiKey key, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNowTruncated();
        if (key.RevokedAt is null)
        {
            key.RevokedAt = now;
            await db.SaveChangesAsync(cancellationToken);
        }

        return ToResponse(key, now, await actors.ResolveAsync([OwnerOf(key), key.CreatedBy], cancellationToken));
    }

    private async Task<ApiKeyResponse?> GetWhereAsync(System.Linq.Expressions.Expression<Func<ApiKey, bool>> predicate, CancellationToken cancellationToken)
    {
        var key = await db.ApiKeys.AsNoTracking().FirstOrDefaultAsync(predicate, cancellationToken);
        return key is null ? null : ToResponse(key, time.GetUtcNowTruncated(), await actors.ResolveAsync([OwnerOf(key), key.CreatedBy], cancellationToken));
    }

    private async Task<Page<ApiKeyResponse>> ToResponsesAsync(Page<ApiKey> keys, DateTime now, CancellationToken cancellationToken)
    {
        var resolved = await actors.ResolveAsync(keys.Items.SelectMany(k => new[] { OwnerOf(k), k.CreatedBy }), cancellationToken);
        return keys.Map(k => ToResponse(k, now, resolved));
    }

    private static string OwnerOf(ApiKey key) => key.UserId ?? key.ServiceAccountId ?? key.Id;

    private static ApiKeyResponse ToResponse(ApiKey key, DateTime now, IReadOnlyDictionary<string, Actor> resolved) => new(
        key.Id,
        key.Name,
        key.Role.ToWireName(),
        key.KeyPrefix,
        key.RevokedAt is not null ? "revoked" : key.ExpiresAt <= now ? "expired" : "active",
        key.WorkspaceId,
        resolved[OwnerOf(key)],
        resolved.Find(key.CreatedBy),
        key.CreatedAt,
        key.ExpiresAt,
        key.RevokedAt,
        key.LastUsedAt);
}
