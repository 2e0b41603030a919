using Cadre.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;

namespace Cadre.Analytics;

/// <summary>
/// Folds analytics facts into their rollup rows and deletes them, in one transaction per batch, so
/// each fact counts exactly once. A singleton duty: one node at a time drains, every
/// <see cref="PassInterval"/>, until no fact is left. Queries add the facts still waiting, so the drain's
/// pace never shows in the figures, only in how much a query reads.
/// </summary>
internal sealed partial class RollupDrain(
    IDbContextFactory<CadreDbContext> contexts, StorageProvider storage, TimeProvider time, ILogger<RollupDrain> logger)
    : SingletonService(storage, time, logger)
{
    public static readonly TimeSpan PassInterval = TimeSpan.FromSeconds(2);

    /// <summary>Facts per transaction: large enough to share rows between many facts, small enough to keep SQLite's write lock brief.</summary>
    public const int BatchSize = 1000;

    private const int Attempts = 20;

    protected override SingletonLock Lock => SingletonLock.Analytics;

    protected override TimeSpan Interval => PassInterval;

    // Folding is upkeep, and its pace never shows in the figures: a test clock moved a month ahead owes it no passes.
    protected override TimeProvider Cadence => TimeProvider.System;

    protected override async Task RunAsync(CancellationToken cancellationToken)
    {
        var folded = await DrainAsync(cancellationToken);
        if (folded > 0)
        {
            LogFolded(Logger, folded);
        }
    }

    /// <summary>Folds every fact there is; answers how many.</summary>
    internal async Task<long> DrainAsync(CancellationToken cancellationToken)
    {
        long total = 0;
        while (await FoldBatchAsync(cancellationToken) is > 0 and var folded)
        {
            total += folded;
            if (folded < BatchSize)
            {
                break;
            }
        }

        return total;
    }

    private async Task<int> FoldBatchAsync(CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await TryFoldBatchAsync(cancellationToken);
            }
            catch (Exception ex) when (attempt < Attempts && IsLostRace(ex))
            {
                // Another drain folded into the same rows first (the duty changed hands mid-pass), or the two
                // deadlocked: everything rolled back, so fold again from fresh rows after a short, uneven pause.
                await Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.Next(5, 20 * attempt)), TimeProvider.System, cancellationToken);
            }
        }
    }

    private bool IsLostRace(Exception ex) =>
        ex is DbUpdateConcurrencyException || (ex is DbUpdateException update && Storage.IsUniqueViolation(update)) || Storage.IsTransientFailure(ex);

    private async Task<int> TryFoldBatchAsync(CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var facts = await Storage.OldestAnalyticsFacts(db, BatchSize).ToListAsync(cancellationToken);
        if (facts.Count == 0)
        {
            return 0;
        }

        var sums = new Dictionary<RollupKey, RollupSums>();
        var workspaceOf = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var fact in facts)
        {
            var before = sums.Count;
            Contributions.Add(fact, sums, days: true);
            workspaceOf.TryAdd(fact.WorkflowId, fact.WorkspaceId);
            workspaceOf.TryAdd(fact.WorkspaceId, fact.WorkspaceId);
            foreach (var key in sums.Keys.Skip(before))
            {
                workspaceOf.TryAdd(key.ScopeId, fact.WorkspaceId);
            }
        }

        var scopes = sums.Keys.Select(k => k.ScopeId).Distinct(StringComparer.Ordinal).ToList();
        var buckets = sums.Keys.Select(k => k.Bucket).Distinct().ToList();
        var rows = (await db.AnalyticsRollups.Where(r => scopes.Contains(r.ScopeId) && buckets.Contains(r.Bucket)).ToListAsync(cancellationToken))
            .ToDictionary(r => new RollupKey(r.ScopeId, r.Dim, r.Bucket, r.DimKey));
        foreach (var (key, delta) in sums)
        {
            if (!rows.TryGetValue(key, out var row))
            {
                row = new AnalyticsRollup { ScopeId = key.ScopeId, Dim = key.Dim, Bucket = key.Bucket, DimKey = key.DimKey, WorkspaceId = workspaceOf[key.ScopeId] };
                db.AnalyticsRollups.Add(row);
            }

            delta.ApplyTo(row);
        }

        db.AnalyticsFacts.RemoveRange(facts);
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return facts.Count;
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Folded {Count} analytics facts into their rollups")]
    private static partial void LogFolded(ILogger logger, long count);
}
