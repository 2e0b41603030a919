using Cadre.Common;
using Cadre.Storage;
using Microsoft.EntityFrameworkCore;

namespace Cadre.Auth;

/// <summary>Creates, lists, revokes and checks API keys.</summary>
internal sealed class ApiKeyService(CadreDbContext db, IdGenerator ids, TimeProvider time)
{
    /// <summary>How stale <c>lastUsedAt</c> may get: at most one write per key per interval, not one per request.</summary>
    internal static readonly TimeSpan LastUsedResolution = TimeSpan.FromMinutes(1);

    public async Task<ServiceResult<CreatedApiKeyResponse>> CreateAsync(
        string workspaceId, ApiKeyIdentity creator, CreateApiKeyRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(creator);
        ArgumentNullException.ThrowIfNull(request);
        var now = time.GetUtcNowTruncated();
        var errors = new ValidationErrors();
        Text.ValidateLabel(request.Name, "name", 100, errors);
        if (!WorkspaceRoles.TryParse(request.Role, out var role))
        {
            errors.Add("role", $"Is required and must be one of: {string.Join(", ", WorkspaceRoles.Names)}.");
        }

        if (request.ExpiresAt is { } expiresAt && expiresAt.ToStorageTime() <= now)
        {
            errors.Add("expiresAt", "Must be in the future.");
        }

        if (!errors.IsEmpty)
        {
            return ServiceError.Validation(errors);
        }

        var creatorRole = creator.RoleIn(workspaceId) ?? throw new InvalidOperationException("The creator has no role in this workspace.");
        if (role > creatorRole)
        {
            return ServiceError.Forbidden($"A key with role '{creatorRole.ToWireName()}' cannot create a key with the higher role '{role.ToWireName()}'.");
        }

        var secret = ApiKeySecret.Generate();
        var key = new ApiKey
        {
            Id = ids.NewId(ApiKey.IdPrefix),
            WorkspaceId = workspaceId,
            Name = request.Name!.Trim(),
            Role = role,
            KeyPrefix = ApiKeySecret.DisplayPrefix(secret),
            KeyHash = ApiKeySecret.Hash(secret),
            CreatedByKeyId = creator.KeyId,
            CreatedAt = now,
            ExpiresAt = request.ExpiresAt?.ToStorageTime(),
        };
        db.ApiKeys.Add(key);
        await db.SaveChangesAsync(cancellationToken);
        return new CreatedApiKeyResponse(ToResponse(key, now), secret);
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

        var keys = await query.ToPageAsync(k => k.Id, page, cancellationToken);
        return keys.Map(k => ToResponse(k, now));
    }

    public async Task<ApiKeyResponse?> GetAsync(string workspaceId, string keyId, CancellationToken cancellationToken)
    {
        var key = await db.ApiKeys.AsNoTracking()
            .FirstOrDefaultAsync(k => k.Id == keyId && k.WorkspaceId == workspaceId, cancellationToken);
        return key is null ? null : ToResponse(key, time.GetUtcNowTruncated());
    }

    /// <summary>Revokes a key at once; revoking a revoked key changes nothing and succeeds.</summary>
    public async Task<ServiceResult<ApiKeyResponse>> RevokeAsync(
        string workspaceId, string keyId, ApiKeyIdentity caller, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(caller);
        var key = await db.ApiKeys.FirstOrDefaultAsync(k => k.Id == keyId && k.WorkspaceId == workspaceId, cancellationToken);
        if (key is null)
        {
            return ServiceError.NotFound($"API key '{keyId}' not found.");
        }

        var callerRole = caller.RoleIn(workspaceId) ?? throw new InvalidOperationException("The caller has no role in this workspace.");
        if (key.Role > callerRole)
        {
            return ServiceError.Forbidden($"A key with role '{callerRole.ToWireName()}' cannot revoke a key with the higher role '{key.Role.ToWireName()}'.");
        }

        var now = time.GetUtcNowTruncated();
        if (key.RevokedAt is null)
        {
            key.RevokedAt = now;
            await db.SaveChangesAsync(cancellationToken);
        }

        return ToResponse(key, now);
    }

    /// <summary>Checks a key presented by a caller and records its use.</summary>
    public async Task<ApiKeyCheck> AuthenticateAsync(string presentedKey, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(presentedKey);
        if (presentedKey.Length is 0 or > ApiKeySecret.MaxPresentedLength)
        {
            return new ApiKeyCheck(null, ApiKeyRejection.Unknown);
        }

        var hash = ApiKeySecret.Hash(presentedKey);
        var key = await db.ApiKeys.AsNoTracking()
            .Where(k => k.KeyHash == hash)
            .Select(k => new { k.Id, k.WorkspaceId, k.Role, k.ExpiresAt, k.RevokedAt, k.LastUsedAt })
            .FirstOrDefaultAsync(cancellationToken);
        if (key is null)
        {
            return new ApiKeyCheck(null, ApiKeyRejection.Unknown);
        }

        if (key.RevokedAt is not null)
        {
            return new ApiKeyCheck(null, ApiKeyRejection.Revoked);
        }

        var now = time.GetUtcNowTruncated();
        if (key.ExpiresAt <= now)
        {
            return new ApiKeyCheck(null, ApiKeyRejection.Expired, key.ExpiresAt);
        }

        if (key.LastUsedAt is null || now - key.LastUsedAt >= LastUsedResolution)
        {
            var staleBefore = now - LastUsedResolution;
            // Conditional, so concurrent requests of one key write once per interval.
            await db.ApiKeys
                .Where(k => k.Id == key.Id && (k.LastUsedAt == null || k.LastUsedAt <= staleBefore))
                .ExecuteUpdateAsync(set => set.SetProperty(k => k.LastUsedAt, now), cancellationToken);
        }

        return new ApiKeyCheck(new ApiKeyIdentity(key.Id, key.WorkspaceId, key.Role));
    }

    private static ApiKeyResponse ToResponse(ApiKey key, DateTime now) => new(
        key.Id,
        key.Name,
        key.Role.ToWireName(),
        key.KeyPrefix,
        key.RevokedAt is not null ? "revoked" : key.ExpiresAt <= now ? "expired" : "active",
        key.CreatedAt,
        key.ExpiresAt,
        key.RevokedAt,
        key.LastUsedAt);
}
