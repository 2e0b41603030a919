using Cadre.Common;
using Cadre.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Microsoft.Extensions.Logging;

namespace Cadre.Auth;

/// <summary>
/// Makes sure a new installation can be used at once: an instance admin key exists, taken from
/// configuration or generated on the first start of an empty database.
/// </summary>
internal sealed class InstanceAdminKeys(
    IDbContextFactory<CadreDbContext> contexts,
    StorageProvider storage,
    IdGenerator ids,
    TimeProvider time,
    ILogger<InstanceAdminKeys> logger)
{
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
