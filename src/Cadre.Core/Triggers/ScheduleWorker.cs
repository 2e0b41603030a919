using System.Globalization;
using System.Text.Json.Nodes;
using Cadre.Auth;
using Cadre.Common;
using Cadre.Runs;
using Cadre.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Cadre.Triggers;

/// <summary>
/// This node's scheduler. Every node that does background work runs one (an <c>api</c> node does not);
/// each tick still fires once across the cluster:
/// a node claims a due schedule row with a lease (a write conditional on the row's revision, so
/// one node wins), starts the tick's run under the idempotency key <c>schedule:&lt;tick&gt;</c> (unique
/// per workflow on runs, so a node that took over a lapsed lease, or a restarted one, finds the run
/// rather than making another), then advances the row, again conditionally. Misfires (ticks later
/// than <see cref="ScheduleOptions.MisfireThreshold"/>) follow the trigger's policy; the decision
/// is written before anything starts, so a crash in between cannot make a second decision.
/// </summary>
internal sealed partial class ScheduleWorker(
    IServiceScopeFactory scopes,
    StorageProvider storage,
    ScheduleSignal signal,
    TimeProvider time,
    IOptions<ScheduleOptions> options,
    IOptions<EngineOptions> engine,
    ILogger<ScheduleWorker> logger) : BackgroundService
{
    /// <summary>Who starts scheduled runs: their <c>trigger.startedBy</c>.</summary>
    public const string ActorId = "system:scheduler";

    private const int BatchSize = 50;

    // A schedule far behind (within the misfire threshold) catches up a few ticks per pass, so others get their turn.
    private const int TicksPerPass = 20;

    /// <summary>This process's name on the schedule leases it holds.</summary>
    public string Owner { get; } = $"{Environment.MachineName}/{Environment.ProcessId}/{Guid.NewGuid().ToString("N")[..8]}";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        if (!settings.Enabled)
        {
            return;
        }

        await Task.Yield();
        var repaired = false;
        while (!stoppingToken.IsCancellationRequested)
        {
            var changed = signal.Next;
            TimeSpan sleep;
            try
            {
                if (!repaired)
                {
                    await RepairAsync(stoppingToken);
                    repaired = true;
                }

                sleep = await FireDueAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex)
            {
                // The database is down or busy: a claimed tick's lease lapses and any node fires it later.
                LogLoopFailed(logger, ex);
                sleep = settings.PollInterval;
            }

            try
            {
                await ScheduleSignal.WaitAsync(changed, sleep, time, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
        }

        // Hand back what this node held so another node need not wait for the leases to lapse.
        try
        {
            using var release = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await ReleaseLeasesAsync(Owner, release.Token);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            LogLoopFailed(logger, ex);
        }
    }

    /// <summary>Fires every due tick it can claim; answers how long to sleep: until the earliest tick due, at most the poll interval.</summary>
    internal async Task<TimeSpan> FireDueAsync(CancellationToken cancellationToken)
    {
        var poll = options.Value.PollInterval;
        List<WorkflowSchedule> due;
        await using (var scope = scopes.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<CadreDbContext>();
            var now = time.GetUtcNowTruncated();
            due = await db.WorkflowSchedules.AsNoTracking()
                .Where(s => s.DueAt <= now && (s.LeaseExpiresAt == null || s.LeaseExpiresAt < now))
                .OrderBy(s => s.DueAt).Take(BatchSize).ToListAsync(cancellationToken);
        }

        foreach (var row in due)
        {
            await FireAsync(row, cancellationToken);
        }

        await using (var scope = scopes.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<CadreDbContext>();
            var now = time.GetUtcNowTruncated();
            // Rows another node is firing are its business until their lease lapses; the poll looks again.
            var earliest = await db.WorkflowSchedules.AsNoTracking()
                .Where(s => s.DueAt != null && (s.LeaseExpiresAt == null || s.LeaseExpiresAt < now))
                .MinAsync(s => s.DueAt, cancellationToken);
            return earliest is { } next ? TimeSpan.FromTicks(Math.Clamp((next - time.GetUtcNow().UtcDateTime).Ticks, 0, poll.Ticks)) : poll;
        }
    }

    /// <summary>Claims one due schedule and fires its due ticks (those of one pass), then hands the row back.</summary>
    private async Task FireAsync(WorkflowSchedule row, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<CadreDbContext>();
        var now = time.GetUtcNowTruncated();
        var read = row.Revision;
        row.LeaseOwner = Owner;
        row.LeaseExpiresAt = now + engine.Value.LeaseDuration;
        row.UpdatedAt = now;
        if (!await ScheduleSync.WriteStateAsync(db, row, read, cancellationToken))
        {
            return; // another node claimed it, or the workflow changed: the next look sees the new row
        }

        var workflow = await db.Workflows.AsNoTracking().FirstOrDefaultAsync(w => w.Id == row.WorkflowId, cancellationToken);
        if (workflow is null)
        {
            return;
        }

        if (workflow.Version != row.WorkflowVersion || workflow.Type != "schedule" || (workflow.IsActive && workflow.DeletedAt is null) != row.Enabled)
        {
            // Behind its workflow (a change whose schedule write was lost): compute it again rather than fire what it says.
            await ScheduleSync.SyncAsync(db, workflow, now, cancellationToken, row.Revision);
            return;
        }

        var schedule = ScheduleSync.Read(row);
        var threshold = options.Value.MisfireThreshold;
        var runs = scope.ServiceProvider.GetRequiredService<RunService>();
        for (var pass = 0; pass < TicksPerPass && row.NextFireAt is { } nextFire && row.DueAt is { } dueAt; pass++)
        {
            now = time.GetUtcNowTruncated();
            if (dueAt > now)
            {
                break;
            }

            var tick = new DateTimeOffset(nextFire, TimeSpan.Zero);
            var misfired = false;
            if (!row.CatchUp && now - dueAt > threshold)
            {
                row.UpdatedAt = now;
                if (row.MisfirePolicy == "skip")
                {
                    ScheduleSync.SetNext(row, schedule, new DateTimeOffset(now, TimeSpan.Zero));
                    LogSkipped(logger, row.WorkflowId, tick, threshold, row.NextFireAt);
                    break;
                }

                // run-once: the latest missed tick, written down before it starts so no later look picks another one.
                tick = schedule.LatestAtOrBefore(tick, new DateTimeOffset(now, TimeSpan.Zero));
                row.NextFireAt = tick.UtcDateTime;
                row.DueAt = now;
                row.CatchUp = true;
                if (!await ScheduleSync.WriteStateAsync(db, row, row.Revision, cancellationToken))
                {
                    return;
                }

                LogCaughtUp(logger, row.WorkflowId, new DateTimeOffset(nextFire, TimeSpan.Zero), tick);
                misfired = true;
            }
            else
            {
                misfired = row.CatchUp;
            }

            var scheduledAt = tick.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
            var details = new JsonObject
            {
                ["scheduledAt"] = scheduledAt,
                ["localTime"] = TimeZoneInfo.ConvertTime(tick, schedule.TimeZone).ToString("yyyy-MM-dd'T'HH:mm:sszzz", CultureInfo.InvariantCulture),
                ["timeZone"] = row.TimeZone,
                ["firedAt"] = now.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture),
            };
            if (misfired)
            {
                details["misfired"] = true;
            }

            var caller = new Caller(CallerKind.InstanceKey, ActorId, null, null, row.WorkspaceId, null, null, null);
            var started = await runs.StartAsync(row.WorkspaceId, row.WorkflowId, new StartRunRequest(), caller, "schedule:" + scheduledAt, "schedule", cancellationToken, details);
            if (started.Error is { Kind: ServiceErrorKind.NotFound })
            {
                return; // moved to the bin meanwhile: that change rewrote the row
            }

            if (started.Error is { } refused)
            {
                // A concurrency policy of reject: the tick passes without a run, as a manual start would be refused.
                LogRefused(logger, row.WorkflowId, tick, refused.Detail);
            }
            else
            {
                row.LastFireAt = tick.UtcDateTime;
                row.LastRunId = started.Value!.Run.Id;
                LogFired(logger, tick, row.WorkflowId, row.LastRunId, started.Value.Existing);
            }

            ScheduleSync.SetNext(row, schedule, tick);
            row.UpdatedAt = time.GetUtcNowTruncated();
            if (!await ScheduleSync.WriteStateAsync(db, row, row.Revision, cancellationToken))
            {
                return; // the workflow changed meanwhile; its write stands (a tick it kept finds its run by key)
            }
        }

        row.LeaseOwner = null;
        row.LeaseExpiresAt = null;
        await ScheduleSync.WriteStateAsync(db, row, row.Revision, cancellationToken);
    }

    /// <summary>
    /// At start-up: gives every schedule workflow its row (one missing after a crash or written by an
    /// older build), computes again rows behind their workflow, and drops rows of workflows that are no
    /// longer schedules. On SQLite, one node by design, leases in the file belong to a process that is gone.
    /// </summary>
    internal async Task RepairAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<CadreDbContext>();
        if (storage.Kind == DatabaseKind.Sqlite)
        {
            await ReleaseLeasesAsync(null, cancellationToken);
        }

        var now = time.GetUtcNowTruncated();
        var drifted = await db.Workflows.AsNoTracking()
            .Where(w => (w.Type == "schedule"
                    && !db.WorkflowSchedules.Any(s => s.WorkflowId == w.Id && s.WorkflowVersion == w.Version && s.Enabled == (w.IsActive && w.DeletedAt == null)))
                || (w.Type != "schedule" && db.WorkflowSchedules.Any(s => s.WorkflowId == w.Id)))
            .ToListAsync(cancellationToken);
        foreach (var workflow in drifted)
        {
            try
            {
                await ScheduleSync.SyncAsync(db, workflow, now, cancellationToken);
            }
            catch (DbUpdateException ex) when (storage.IsUniqueViolation(ex))
            {
                // Another node starting at the same time made the row first.
                db.ChangeTracker.Clear();
            }
        }

        if (drifted.Count > 0)
        {
            LogRepaired(logger, drifted.Count);
        }
    }

    /// <summary>Drops the leases of one owner (or of all) so the rows may be fired at once.</summary>
    private async Task ReleaseLeasesAsync(string? owner, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<CadreDbContext>();
        await db.WorkflowSchedules.Where(s => s.LeaseOwner != null && (owner == null || s.LeaseOwner == owner))
            .ExecuteUpdateAsync(
                set => set.SetProperty(s => s.LeaseOwner, (string?)null).SetProperty(s => s.LeaseExpiresAt, (DateTime?)null).SetProperty(s => s.Revision, s => s.Revision + 1),
                cancellationToken);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The scheduler loop failed; retrying")]
    private static partial void LogLoopFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "Workflow {WorkflowId} missed its ticks from {Tick} by more than {Threshold} (misfire policy skip); the next is {Next}")]
    private static partial void LogSkipped(ILogger logger, string workflowId, DateTimeOffset tick, TimeSpan threshold, DateTime? next);

    [LoggerMessage(Level = LogLevel.Information, Message = "Workflow {WorkflowId} missed its ticks from {Tick} (misfire policy run-once); starting one run for {Latest}")]
    private static partial void LogCaughtUp(ILogger logger, string workflowId, DateTimeOffset tick, DateTimeOffset latest);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The tick {Tick} of workflow {WorkflowId} started no run: {Reason}")]
    private static partial void LogRefused(ILogger logger, string workflowId, DateTimeOffset tick, string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Tick {Tick} of workflow {WorkflowId}: run {RunId} (already started before: {Existing})")]
    private static partial void LogFired(ILogger logger, DateTimeOffset tick, string workflowId, string runId, bool existing);

    [LoggerMessage(Level = LogLevel.Information, Message = "The scheduler brought {Count} schedule row(s) in step with their workflows")]
    private static partial void LogRepaired(ILogger logger, int count);
}
