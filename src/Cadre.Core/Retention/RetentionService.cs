using System.Diagnostics;
using Cadre.Common;
using Cadre.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Cadre.Retention;

/// <summary>What one retention pass deleted.</summary>
internal sealed record RetentionResult(int Runs, int Events, int Deliveries, int AuditEntries = 0)
{
    public static RetentionResult operator +(RetentionResult a, RetentionResult b) =>
        new(a.Runs + b.Runs, a.Events + b.Events, a.Deliveries + b.Deliveries, a.AuditEntries + b.AuditEntries);
}

/// <summary>
/// Deletes, workspace by workspace, what has outlived its retention (the workspace's <c>retention</c>
/// setting, else <see cref="RetentionOptions"/>): runs that ended before the cutoff, with every row
/// of theirs (steps, tasks, events, approvals, checkpoints, event waits, session notes, file
/// references: all reference the run with <c>ON DELETE CASCADE</c>); workspace events recorded
/// before it and dispatched; webhook deliveries delivered or given up before it, with their attempts.
/// A singleton duty: one node at a time does it. Deletes go in batches of
/// <see cref="RetentionOptions.BatchSize"/>, one statement (one transaction) each, with a pause
/// after each at least as long as the batch took, so SQLite's single writer lock is the engine's at
/// least half the time.
/// </summary>
internal sealed partial class RetentionService(
    IServiceScopeFactory scopes, StorageProvider storage, IOptions<RetentionOptions> options, TimeProvider time, ILogger<RetentionService> logger)
    : SingletonService(storage, time, logger)
{
    private static readonly TimeSpan MinimumPause = TimeSpan.FromMilliseconds(20);

    private const int WorkspacePage = 100;

    protected override SingletonLock Lock => SingletonLock.Retention;

    protected override TimeSpan Interval => options.Value.Interval;

    protected override async Task RunAsync(CancellationToken cancellationToken)
    {
        var deleted = await SweepAsync(cancellationToken);
        if (deleted.Runs + deleted.Events + deleted.Deliveries > 0)
        {
            LogDeleted(Logger, deleted.Runs, deleted.Events, deleted.Deliveries);
        }

        if (deleted.AuditEntries > 0)
        {
            LogAuditDeleted(Logger, deleted.AuditEntries);
        }
    }

    /// <summary>One pass over every workspace.</summary>
    internal async Task<RetentionResult> SweepAsync(CancellationToken cancellationToken)
    {
        var instance = RetentionPolicy.Of(options.Value);
        var total = new RetentionResult(0, 0, 0);
        string? after = null;
        while (true)
        {
            List<(string Id, string Settings)> workspaces;
            await using (var scope = scopes.CreateAsyncScope())
            {
                var db = scope.ServiceProvider.GetRequiredService<CadreDbContext>();
#pragma warning disable CA1309 // Translated to SQL >, which compares IDs bytewise (their columns use the C collation).
                workspaces = [.. (await db.Workspaces.AsNoTracking()
                        .Where(w => after == null || string.Compare(w.Id, after) > 0)
                        .OrderBy(w => w.Id).Take(WorkspacePage).Select(w => new { w.Id, w.Settings }).ToListAsync(cancellationToken))
                    .Select(w => (w.Id, w.Settings))];
#pragma warning restore CA1309
            }

            foreach (var (id, settings) in workspaces)
            {
                total += await SweepWorkspaceAsync(id, RetentionPolicy.Of(settings, instance), cancellationToken);
            }

            if (workspaces.Count < WorkspacePage)
            {
                return total + await SweepAuditAsync(cancellationToken);
            }

            after = workspaces[^1].Id;
        }
    }

    private async Task<RetentionResult> SweepWorkspaceAsync(string workspaceId, RetentionPolicy policy, CancellationToken cancellationToken)
    {
        var runs = policy.Runs is { } keepRuns && Cutoff(keepRuns) is { } runCutoff
            ? await InBatchesAsync((db, batch) => DeleteRunsAsync(db, workspaceId, runCutoff, batch, cancellationToken), cancellationToken)
            : 0;
        var events = policy.Events is { } keepEvents && Cutoff(keepEvents) is { } eventCutoff
            ? await InBatchesAsync((db, batch) => DeleteEventsAsync(db, workspaceId, eventCutoff, batch, cancellationToken), cancellationToken)
            : 0;
        var deliveries = policy.Deliveries is { } keepDeliveries && Cutoff(keepDeliveries) is { } deliveryCutoff
            ? await InBatchesAsync((db, batch) => DeleteDeliveriesAsync(db, workspaceId, deliveryCutoff, batch, cancellationToken), cancellationToken)
            : 0;
        return new RetentionResult(runs, events, deliveries);
    }

    /// <summary>The audit log's old entries, instance-wide: one period for every workspace (none may shorten its own trail).</summary>
    private async Task<RetentionResult> SweepAuditAsync(CancellationToken cancellationToken)
    {
        if (!RetentionPolicy.TryParse(options.Value.Audit, out var keep) || keep is not { } period || Cutoff(period) is not { } cutoff)
        {
            return new RetentionResult(0, 0, 0);
        }

        return new RetentionResult(0, 0, 0, await InBatchesAsync((db, batch) => DeleteAuditEntriesAsync(db, cutoff, batch, cancellationToken), cancellationToken));
    }

    /// <summary>
    /// The oldest audit entries written before the cutoff. The table refuses deletes (a trigger on
    /// either engine) unless the deleting transaction holds the row in <c>audit_retention_pass</c>,
    /// taken here and removed again before the commit, so no other transaction ever sees it.
    /// </summary>
    private static async Task<(int, int)> DeleteAuditEntriesAsync(CadreDbContext db, DateTime cutoff, int batch, CancellationToken cancellationToken)
    {
        var ids = await db.AuditEntries.AsNoTracking().Where(e => e.At < cutoff).OrderBy(e => e.At).Select(e => e.Id).Take(batch).ToListAsync(cancellationToken);
        if (ids.Count == 0)
        {
            return (0, 0);
        }

        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        await db.Database.ExecuteSqlRawAsync("INSERT INTO audit_retention_pass (id) VALUES (1)", cancellationToken);
        var deleted = await db.AuditEntries.Where(e => ids.Contains(e.Id)).ExecuteDeleteAsync(cancellationToken);
        await db.Database.ExecuteSqlRawAsync("DELETE FROM audit_retention_pass", cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return (ids.Count, deleted);
    }

    /// <summary>The time before which things go; null when the period reaches past the calendar (nothing is that old).</summary>
    private DateTime? Cutoff(TimeSpan period)
    {
        var now = Time.GetUtcNowTruncated();
        return period < now - DateTime.MinValue ? now - period : null;
    }

    /// <summary>
    /// Runs one delete per batch, each in a scope (and statement) of its own, until a batch finds nothing;
    /// pauses between batches as long as the last took (at least a moment), so other writers take turns.
    /// </summary>
    private async Task<int> InBatchesAsync(Func<CadreDbContext, int, Task<(int Found, int Deleted)>> deleteBatch, CancellationToken cancellationToken)
    {
        var batch = options.Value.BatchSize;
        var total = 0;
        while (true)
        {
            var clock = Stopwatch.StartNew();
            (int Found, int Deleted) done;
            await using (var scope = scopes.CreateAsyncScope())
            {
                done = await deleteBatch(scope.ServiceProvider.GetRequiredService<CadreDbContext>(), batch);
            }

            total += done.Deleted;
            // Nothing left, or only rows that changed under the batch (a run retried meanwhile): this kind is done for now.
            if (done.Found == 0 || done.Deleted == 0)
            {
                return total;
            }

            // Real time, not the injected clock: the pause is room for other writers, not part of any schedule.
            await Task.Delay(clock.Elapsed > MinimumPause ? clock.Elapsed : MinimumPause, cancellationToken);
        }
    }

    private static readonly string[] Ended = ["succeeded", "failed", "compensated"];

    /// <summary>
    /// Ended runs of the workspace that finished before the cutoff and have no child run left (a
    /// child, running or not, reports to its parent when it ends: the parent goes after its children).
    /// Every condition is checked again by the delete itself, so a run retried or resumed since it was
    /// read stays.
    /// </summary>
    private static async Task<(int, int)> DeleteRunsAsync(CadreDbContext db, string workspaceId, DateTime cutoff, int batch, CancellationToken cancellationToken)
    {
        var due = db.Runs.Where(r => r.WorkspaceId == workspaceId && r.FinishedAt < cutoff && Ended.Contains(r.Status) && !db.Runs.Any(c => c.ParentRunId == r.Id));
        var ids = await due.AsNoTracking().OrderBy(r => r.FinishedAt).Select(r => r.Id).Take(batch).ToListAsync(cancellationToken);
        return ids.Count == 0 ? (0, 0) : (ids.Count, await due.Where(r => ids.Contains(r.Id)).ExecuteDeleteAsync(cancellationToken));
    }

    /// <summary>
    /// Dispatched events of the workspace recorded before the cutoff, except those a waiting step has
    /// claimed and not read yet (it reads the event when it wakes, which a halted run may do much later).
    /// </summary>
    private static async Task<(int, int)> DeleteEventsAsync(CadreDbContext db, string workspaceId, DateTime cutoff, int batch, CancellationToken cancellationToken)
    {
        var due = db.WorkspaceEvents.Where(e => e.WorkspaceId == workspaceId && e.CreatedAt < cutoff && e.DispatchedAt != null && !db.EventWaits.Any(w => w.EventId == e.Id));
        var ids = await due.AsNoTracking().OrderBy(e => e.CreatedAt).Select(e => e.Id).Take(batch).ToListAsync(cancellationToken);
        return ids.Count == 0 ? (0, 0) : (ids.Count, await due.Where(e => ids.Contains(e.Id)).ExecuteDeleteAsync(cancellationToken));
    }

    /// <summary>Deliveries of the workspace that were delivered or given up before the cutoff (their attempts go by cascade); pending ones stay.</summary>
    private static async Task<(int, int)> DeleteDeliveriesAsync(CadreDbContext db, string workspaceId, DateTime cutoff, int batch, CancellationToken cancellationToken)
    {
        var due = db.WebhookDeliveries.Where(d => d.WorkspaceId == workspaceId && d.FinishedAt < cutoff && (d.Status == "delivered" || d.Status == "dead"));
        var ids = await due.AsNoTracking().OrderBy(d => d.FinishedAt).Select(d => d.Id).Take(batch).ToListAsync(cancellationToken);
        return ids.Count == 0 ? (0, 0) : (ids.Count, await due.Where(d => ids.Contains(d.Id)).ExecuteDeleteAsync(cancellationToken));
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Retention deleted {Runs} runs, {Events} events and {Deliveries} webhook deliveries")]
    private static partial void LogDeleted(ILogger logger, int runs, int events, int deliveries);

    [LoggerMessage(Level = LogLevel.Information, Message = "Retention deleted {Entries} audit log entries")]
    private static partial void LogAuditDeleted(ILogger logger, int entries);
}
