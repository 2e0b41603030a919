using Cadre.Common;
using Cadre.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Microsoft.Extensions.Logging;

namespace Cadre.Auth;

/// <summary>
/// Makes sure a new installation can be used at once: an instance admin key exists, taken from
/// configuration or generated on the first start of an empty database. Also what an operator does
/// to instance keys from the server's machine (<c>cadre admin</c>), with no API key to hand.
/// </summary>
internal sealed class InstanceAdminKeys(
    IDbContextFactory<CadreDbContext> contexts,
    StorageProvider storage,
    IdGenerator ids,
    TimeProvider time,
    ILogger<InstanceAdminKeys> logger)
{
    // A personal key not limited to a workspace has no workspace either: an instance key belongs to nobody.
    private static readonly System.Linq.Expressions.Expression<Func<ApiKey, bool>> IsInstanceKey =
        k => k.WorkspaceId == null && k.UserId == null && k.ServiceAccountId == null;

    /// <summary>
    /// Registers <paramref name="configuredKey"/> if it is not known yet; otherwise, if the
    /// database has no instance key at all, generates one. Returns the generated key, which the
    /// caller must show once, or null.
    /// </summary>
    public async Task<string?> EnsureAsync(string? configuredKey, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        // Several nodes may start at once on an empty database: only one may generate the key.
        await storage.LockForSetupAsync(db.Database.GetDbConnection(), transaction.GetDbTransaction(), cancellationToken);

        string? generated = null;
        if (!string.IsNullOrEmpty(configuredKey))
        {
            var hash = ApiKeySecret.Hash(configuredKey);
            if (!await db.ApiKeys.AnyAsync(k => k.KeyHash == hash, cancellationToken))
            {
                db.ApiKeys.Add(NewInstanceKey("Admin key from configuration (CADRE_ADMIN_KEY)", configuredKey));
                logger.LogInformation("Registered the instance admin key from configuration");
            }
        }
        else if (!await db.ApiKeys.AnyAsync(k => k.WorkspaceId == null, cancellationToken))
        {
            generated = ApiKeySecret.Generate();
            db.ApiKeys.Add(NewInstanceKey("Admin key generated on first start", generated));
        }

        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return generated;
    }

    /// <summary>Adds an instance admin key named <paramref name="name"/>; answers it and its secret, which the caller shows once.</summary>
    public async Task<(ApiKey Key, string Secret)> CreateAsync(string name, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        var secret = ApiKeySecret.Generate();
        var key = NewInstanceKey(name.Trim(), secret);
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        db.ApiKeys.Add(key);
        await db.SaveChangesAsync(cancellationToken);
        logger.LogInformation("Added instance admin key {KeyId} ({Name}) from the command line", key.Id, key.Name);
        return (key, secret);
    }

    /// <summary>Every instance admin key, revoked ones too, oldest first.</summary>
    public async Task<List<ApiKey>> ListAsync(CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        return await db.ApiKeys.AsNoTracking().Where(IsInstanceKey).OrderBy(k => k.CreatedAt).ThenBy(k => k.Id).ToListAsync(cancellationToken);
    }

    /// <summary>
    /// Revokes the instance admin key <paramref name="id"/>; answers it and whether this call revoked it
    /// (false: it already was), or null when there is no such key.
    /// </summary>
    public async Task<(ApiKey Key, bool Revoked)?> RevokeAsync(string id, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var key = await db.ApiKeys.Where(IsInstanceKey).FirstOrDefaultAsync(k => k.Id == id, cancellationToken);
        if (key is null)
        {
            return null;
        }

        if (key.RevokedAt is not null)
        {
            return (key, false);
        }

        key.RevokedAt = time.GetUtcNowTruncated();
        await db.SaveChangesAsync(cancellationToken);
        logger.LogInformation("Revoked instance admin key {KeyId} ({Name}) from the command line", key.Id, key.Name);
        return (key, true);
    }

    private ApiKey NewInstanceKey(string name, string secret) => new()
    {
        Id = ids.NewId(ApiKey.IdPrefix),
        WorkspaceId = null,
        Name = name,
        Role = WorkspaceRole.Owner,
        KeyPrefix = ApiKeySecret.DisplayPrefix(secret),
        KeyHash = ApiKeySecret.Hash(secret),
        CreatedAt = time.GetUtcNowTruncated(),
    };
}
