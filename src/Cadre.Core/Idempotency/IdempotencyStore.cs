using System.Text.Json;
using Cadre.Common;
using Cadre.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Cadre.Idempotency;

/// <summary>What to do with a request that carries an <c>Idempotency-Key</c>.</summary>
internal abstract record IdempotencyDecision
{
    /// <summary>First use of the key: run the request, then <see cref="IdempotencyStore.CompleteAsync"/> or <see cref="IdempotencyStore.ReleaseAsync"/>.</summary>
    public sealed record Proceed : IdempotencyDecision;

    /// <summary>The same request already finished: send its stored response again.</summary>
    public sealed record Replay(int StatusCode, IReadOnlyDictionary<string, string> Headers, byte[] Body) : IdempotencyDecision;

    /// <summary>The key was used with a different request.</summary>
    public sealed record Mismatch : IdempotencyDecision;

    /// <summary>The first request with this key is still running.</summary>
    public sealed record InProgress(TimeSpan RetryAfter) : IdempotencyDecision;
}

/// <summary>
/// Stripe-style idempotency keys: the first request with a key runs and its response is stored;
/// a retry with the same key and request gets that response again; the same key with another
/// request is refused. Records live in the database, so replays work across restarts and nodes.
/// </summary>
internal sealed class IdempotencyStore(
    IDbContextFactory<CadreDbContext> contexts,
    StorageProvider storage,
    TimeProvider time,
    IOptions<IdempotencyOptions> options)
{
    private const int MaxAttempts = 5;

    public async Task<IdempotencyDecision> BeginAsync(string scope, string key, byte[] requestHash, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        for (var attempt = 0; attempt < MaxAttempts; attempt++)
        {
            var now = time.GetUtcNowTruncated();
            await using var db = await contexts.CreateDbContextAsync(cancellationToken);
            db.IdempotencyRecords.Add(new IdempotencyRecord
            {
                Scope = scope,
                IdempotencyKey = key,
                RequestHash = requestHash,
                CreatedAt = now,
                LockedUntil = now + settings.LockTimeout,
                ExpiresAt = now + settings.Retention,
            });
            try
            {
                await db.SaveChangesAsync(cancellationToken);
                return new IdempotencyDecision.Proceed();
            }
            catch (DbUpdateException ex) when (storage.IsUniqueViolation(ex))
            {
                // The key is taken: decide from the record that holds it.
            }

            await using var readDb = await contexts.CreateDbContextAsync(cancellationToken);
            var existing = await readDb.IdempotencyRecords.AsNoTracking()
                .FirstOrDefaultAsync(r => r.Scope == scope && r.IdempotencyKey == key, cancellationToken);
            if (existing is null)
            {
                continue;
            }

            if (existing.ExpiresAt <= now)
            {
                await readDb.IdempotencyRecords
                    .Where(r => r.Scope == scope && r.IdempotencyKey == key && r.ExpiresAt <= now)
                    .ExecuteDeleteAsync(cancellationToken);
                continue;
            }

            if (!existing.RequestHash.AsSpan().SequenceEqual(requestHash))
            {
                return new IdempotencyDecision.Mismatch();
            }

            if (existing.StatusCode is { } status)
            {
                var headers = JsonSerializer.Deserialize<Dictionary<string, string>>(existing.ResponseHeaders ?? "{}") ?? [];
                return new IdempotencyDecision.Replay(status, headers, existing.ResponseBody ?? []);
            }

            if (existing.LockedUntil > now)
            {
                return new IdempotencyDecision.InProgress(existing.LockedUntil - now);
            }

            // The first request's process died before finishing: take the key over, once.
            var taken = await readDb.IdempotencyRecords
                .Where(r => r.Scope == scope && r.IdempotencyKey == key && r.StatusCode == null && r.LockedUntil == existing.LockedUntil)
                .ExecuteUpdateAsync(set => set.SetProperty(r => r.LockedUntil, now + settings.LockTimeout), cancellationToken);
            if (taken == 1)
            {
                return new IdempotencyDecision.Proceed();
            }
        }

        throw new InvalidOperationException($"Idempotency key '{key}' kept changing hands; gave up after {MaxAttempts} attempts.");
    }

    /// <summary>Stores the response of a finished request for replay.</summary>
    public async Task CompleteAsync(
        string scope, string key, int statusCode, IReadOnlyDictionary<string, string> headers, byte[] body, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var headersJson = JsonSerializer.Serialize(headers);
        await db.IdempotencyRecords
            .Where(r => r.Scope == scope && r.IdempotencyKey == key)
            .ExecuteUpdateAsync(set => set
                .SetProperty(r => r.StatusCode, statusCode)
                .SetProperty(r => r.ResponseHeaders, headersJson)
                .SetProperty(r => r.ResponseBody, body), cancellationToken);
    }

    /// <summary>Frees the key of a request that failed without a response worth keeping, so a retry runs again.</summary>
    public async Task ReleaseAsync(string scope, string key, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        await db.IdempotencyRecords
            .Where(r => r.Scope == scope && r.IdempotencyKey == key && r.StatusCode == null)
            .ExecuteDeleteAsync(cancellationToken);
    }

    /// <summary>Deletes records past their retention; returns how many.</summary>
    public async Task<int> PurgeExpiredAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNowTruncated();
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        return await db.IdempotencyRecords.Where(r => r.ExpiresAt <= now).ExecuteDeleteAsync(cancellationToken);
    }
}
