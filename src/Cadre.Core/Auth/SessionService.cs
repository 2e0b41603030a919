using Cadre.Common;
using Cadre.Storage;
using Cadre.Users;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Cadre.Auth;

/// <summary>
/// Browser sessions kept in the database: created at sign-in, checked on every request against
/// the session and the user as they are now, extended while used, ended by sign-out.
/// </summary>
internal sealed class SessionService(IDbContextFactory<CadreDbContext> contexts, IdGenerator ids, TimeProvider time, IOptions<AuthOptions> options)
{
    /// <summary>How often a session in use has its expiry pushed out: once a minute, not on every request.</summary>
    internal static readonly TimeSpan RenewResolution = TimeSpan.FromMinutes(1);

    public async Task<string> CreateAsync(string userId, string? userAgent, string? ipAddress, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var stamp = await db.Users.Where(u => u.Id == userId).Select(u => u.SecurityStamp).SingleAsync(cancellationToken);
        var now = time.GetUtcNowTruncated();
        var session = new Session
        {
            Id = ids.NewId(Session.IdPrefix),
            UserId = userId,
            SecurityStamp = stamp,
            UserAgent = userAgent is { Length: > 512 } ? userAgent[..512] : userAgent,
            IpAddress = ipAddress,
            CreatedAt = now,
            LastSeenAt = now,
            ExpiresAt = now + options.Value.SessionIdleTimeout,
        };
        db.Sessions.Add(session);
        await db.SaveChangesAsync(cancellationToken);
        return session.Id;
    }

    /// <summary>The caller behind a live session, or null when it ended, expired or its user was disabled or changed password.</summary>
    public async Task<Caller?> ValidateAsync(string sessionId, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var found = await (
            from s in db.Sessions.AsNoTracking()
            join u in db.Users.AsNoTracking() on s.UserId equals u.Id
            where s.Id == sessionId
            select new { Session = s, u.Status, u.SecurityStamp, u.InstanceRole }).FirstOrDefaultAsync(cancellationToken);
        var now = time.GetUtcNowTruncated();
        if (found is null || found.Session.RevokedAt is not null || found.Session.ExpiresAt <= now
            || found.Status != UserStatus.Active || found.SecurityStamp != found.Session.SecurityStamp)
        {
            return null;
        }

        if (now - found.Session.LastSeenAt >= RenewResolution)
        {
            var expires = now + options.Value.SessionIdleTimeout;
            await db.Sessions.Where(s => s.Id == sessionId && s.RevokedAt == null)
                .ExecuteUpdateAsync(set => set.SetProperty(s => s.LastSeenAt, now).SetProperty(s => s.ExpiresAt, expires), cancellationToken);
        }

        return new Caller(CallerKind.User, found.Session.UserId, null, sessionId, null, null, null, found.InstanceRole);
    }

    public async Task RevokeAsync(string sessionId, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var now = time.GetUtcNowTruncated();
        await db.Sessions.Where(s => s.Id == sessionId && s.RevokedAt == null)
            .ExecuteUpdateAsync(set => set.SetProperty(s => s.RevokedAt, now), cancellationToken);
    }

    /// <summary>Deletes sessions that ended or expired more than a day ago; returns how many.</summary>
    public async Task<int> PurgeAsync(CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var before = time.GetUtcNowTruncated().AddDays(-1);
        return await db.Sessions.Where(s => s.ExpiresAt < before || s.RevokedAt < before).ExecuteDeleteAsync(cancellationToken);
    }
}
