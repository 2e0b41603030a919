using Cadre.Common;
using Cadre.Storage;
using Microsoft.EntityFrameworkCore;

namespace Cadre.Auth;

/// <summary>The outcome of redeeming a one-time token.</summary>
internal sealed record TokenRedemption(bool Succeeded, string? UserId, string? Failure)
{
    public static TokenRedemption Invalid { get; } = new(false, null, "The link or code is not valid.");
}

/// <summary>Issues and redeems single-use, expiring secrets (setup codes, password reset links). Only hashes are stored.</summary>
internal sealed class OneTimeTokenService(CadreDbContext db, IdGenerator ids, TimeProvider time)
{
    public async Task<(string Token, DateTime ExpiresAt)> IssueAsync(
        OneTimeTokenPurpose purpose, string? userId, TimeSpan lifetime, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNowTruncated();
        var token = ApiKeySecret.GenerateToken();
        var record = new OneTimeToken
        {
            Id = ids.NewId(OneTimeToken.IdPrefix),
            Purpose = purpose,
            UserId = userId,
            TokenHash = ApiKeySecret.Hash(token),
            CreatedAt = now,
            ExpiresAt = now + lifetime,
        };
        db.OneTimeTokens.Add(record);
        await db.SaveChangesAsync(cancellationToken);
        return (token, record.ExpiresAt);
    }

    /// <summary>Marks the token used, exactly once even under concurrent redemptions; says why when it cannot.</summary>
    public async Task<TokenRedemption> RedeemAsync(OneTimeTokenPurpose purpose, string? token, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(token) || token.Length > ApiKeySecret.MaxPresentedLength)
        {
            return TokenRedemption.Invalid;
        }

        var hash = ApiKeySecret.Hash(token);
        var record = await db.OneTimeTokens.AsNoTracking().FirstOrDefaultAsync(t => t.TokenHash == hash && t.Purpose == purpose, cancellationToken);
        var now = time.GetUtcNowTruncated();
        if (record is null)
        {
            return TokenRedemption.Invalid;
        }

        if (record.UsedAt is not null)
        {
            return new TokenRedemption(false, null, "The link or code has already been used.");
        }

        if (record.ExpiresAt <= now)
        {
            return new TokenRedemption(false, null, "The link or code has expired; ask for a new one.");
        }

        var claimed = await db.OneTimeTokens
            .Where(t => t.Id == record.Id && t.UsedAt == null)
            .ExecuteUpdateAsync(set => set.SetProperty(t => t.UsedAt, now), cancellationToken);
        return claimed == 1 ? new TokenRedemption(true, record.UserId, null) : new TokenRedemption(false, null, "The link or code has already been used.");
    }

    /// <summary>Voids every unused token of a purpose (for one user, or all): a newer one replaces them.</summary>
    public Task RevokeAllAsync(OneTimeTokenPurpose purpose, string? userId, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNowTruncated();
        return db.OneTimeTokens
            .Where(t => t.Purpose == purpose && t.UsedAt == null && (userId == null || t.UserId == userId))
            .ExecuteUpdateAsync(set => set.SetProperty(t => t.UsedAt, now), cancellationToken);
    }
}
