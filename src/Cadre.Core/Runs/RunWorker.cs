using Cadre.Common;
using Cadre.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Cadre.Runs;

/// <summary>
/// This node's worker pool: leases ready tasks while it has free slots (woken at once by local
/// commits, else polling for timers and other nodes' work), runs each in its own scope, and
/// returns tasks whose lease lapsed (a dead or stalled worker) to the queue.
/// </summary>
internal sealed partial class RunWorker(
    IServiceScopeFactory scopes,
    StorageProvider storage,
    Nodes.ThisNode node,
    RunNotifier notifier,
    TimeProvider time,
    IOptions<EngineOptions> options,
    ILogger<RunWorker> logger) : BackgroundService
{
    /// <summary>This process's name on the leases it holds: its node's ID, so the registry ties leases to nodes.</summary>
    public string Owner => node.Id;

    /// <summary>Attempts running on this node now (the node's heartbeat reports it).</summary>
    internal int InFlight
    {
        get
        {
            lock (_running)
            {
                return _running.Count;
            }
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        if (!settings.Enabled)
        {
            return;
        }

        await Task.Yield();
        var slots = _slots = new SemaphoreSlim(settings.Workers, settings.Workers);
        var running = _running;
        _stopping = stoppingToken;
        // SQLite is one node by design: a lease in the file at start-up belongs to a process that is gone.
        var recoverAll = storage.Kind == DatabaseKind.Sqlite;
        var nextSweep = DateTime.MinValue;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var now = time.GetUtcNowTruncated();
                if (now >= nextSweep)
                {
                    await ReturnLapsedLeasesAsync(recoverAll ? DateTime.MaxValue : now, owner: null, stoppingToken);
                    await AdmitQueuedRunsAsync(stoppingToken);
                    recoverAll = false;
                    nextSweep = now + settings.PollInterval;
                }

                await slots.WaitAsync(stoppingToken);
                var free = 1;
                while (free < settings.Workers && slots.Wait(0, CancellationToken.None))
                {
                    free++;
                }

                List<RunTask> leased;
                try
                {
                    leased = await LeaseAsync(free, stoppingToken);
                }
                catch
                {
                    slots.Release(free);
                    throw;
                }

                // Slots the lease did not fill go back at once.
                if (free > leased.Count)
                {
                    slots.Release(free - leased.Count);
                }

                foreach (var task in leased)
                {
                    Track(RunOneAsync(task, stoppingToken));
                }

                if (leased.Count == 0)
                {
                    await notifier.WaitForWorkAsync(settings.PollInterval, stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex)
            {
                // The database is down or busy: nothing was lost (leases lapse and return); try again shortly.
                LogWorkerLoopFailed(logger, ex);
                await notifier.WaitForWorkAsync(settings.PollInterval, stoppingToken);
            }
        }

        Task[] remaining;
        lock (running)
        {
            remaining = [.. running];
        }

        await Task.WhenAll(remaining);
        // Hand back what this node held so another node need not wait for the leases to lapse.
        try
        {
            using var release = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await ReturnLapsedLeasesAsync(DateTime.MaxValue, Owner, release.Token);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            LogWorkerLoopFailed(logger, ex);
        }
    }

    private readonly HashSet<Task> _running = [];
    private SemaphoreSlim? _slots;
    private CancellationToken _stopping;

    /// <summary>Keeps a running task in view (shutdown waits for it) and frees its slot when it ends.</summary>
    private void Track(Task work)
    {
        lock (_running)
        {
            _running.Add(work);
        }

        _ = work.ContinueWith(
            done =>
            {
                lock (_running)
                {
                    _running.Remove(done);
                }

                _slots!.Release();
            },
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
    }

    /// <summary>
    /// Reserves a free slot for an attempt a commit is about to lease to this node itself (the first
    /// step of a run just started), sparing it the wake-up, the lease and the start commit; null when
    /// the pool is not running here or is full, and the task then waits in the queue as usual.
    /// Dispose the reservation if nothing was handed over.
    /// </summary>
    internal SlotReservation? TryReserveSlot() =>
        _slots is { } slots && !_stopping.IsCancellationRequested && slots.Wait(0) ? new SlotReservation(this) : null;

    /// <summary>Runs an attempt its commit leased to this node and marked started, in the reserved slot.</summary>
    internal void RunHandedOver(SlotReservation slot, RunTask task, RunState started, IActivity activity)
    {
        slot.Use();
        Track(RunHandedOverAsync(task, started, activity, _stopping));
    }

    private async Task RunHandedOverAsync(RunTask task, RunState started, IActivity activity, CancellationToken stoppingToken)
    {
        await Task.Yield();
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            await scope.ServiceProvider.GetRequiredService<TaskRunner>().RunStartedAsync(task, Owner, started, activity, stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        catch (Exception ex)
        {
            LogTaskFailed(logger, ex, task.Id, task.RunId, task.StepId);
        }
    }

    /// <summary>A worker slot held for a hand-over; released on dispose unless used.</summary>
    internal sealed class SlotReservation(RunWorker worker) : IDisposable
    {
        private bool _used;

        public string Owner => worker.Owner;

        public void Use() => _used = true;

        public void Dispose()
        {
            if (!_used)
            {
                _used = true;
                worker._slots!.Release();
            }
        }
    }

    // Where this node's next lease starts the workspaces' rotation (only the worker loop leases).
    private string _turnAfter = "";

    private async Task<List<RunTask>> LeaseAsync(int max, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<CadreDbContext>();
        var now = time.GetUtcNowTruncated();
        var leased = await storage.LeaseTasksAsync(db, Owner, max, now, now + options.Value.LeaseDuration, _turnAfter, cancellationToken);
        _turnAfter = StorageProvider.NextTurnAfter(_turnAfter, leased);
        return leased;
    }

    private async Task RunOneAsync(RunTask task, CancellationToken stoppingToken)
    {
        await Task.Yield();
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            await scope.ServiceProvider.GetRequiredService<TaskRunner>().RunAsync(task, Owner, stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        catch (Exception ex)
        {
            // The lease is still held; when it lapses the attempt returns to the queue, counted.
            LogTaskFailed(logger, ex, task.Id, task.RunId, task.StepId);
        }
    }

    /// <summary>
    /// Returns leased tasks whose lease ended before <paramref name="cutoff"/> (of one owner, or any) to
    /// the queue, an attempt counted. Every node does it at every poll: each return is a commit on the
    /// run that first checks the task is still leased by the same owner with a lapsed lease, so nodes
    /// racing on one task return it once.
    /// </summary>
    internal async Task ReturnLapsedLeasesAsync(DateTime cutoff, string? owner, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<CadreDbContext>();
        var lapsed = await db.Tasks.AsNoTracking()
            .Where(t => t.Status == "leased" && t.LeaseExpiresAt < cutoff && (owner == null || t.LeaseOwner == owner))
            .OrderBy(t => t.Id).Take(500).ToListAsync(cancellationToken);
        var engine = scope.ServiceProvider.GetRequiredService<RunEngine>();
        foreach (var task in lapsed)
        {
            await engine.ReturnLapsedAsync(task, cutoff, cancellationToken);
        }
    }

    /// <summary>
    /// Admits runs queued for a concurrency slot whose slot was freed without the admission following.
    /// Every node does it at every poll: <see cref="RunEngine.AdmitQueuedAsync"/> takes the workflow's
    /// counter lock, so admissions racing on two nodes take turns and admit each run once.
    /// (Children their parents abandoned are <see cref="AbandonedChildrenSweep"/>'s, one node at a time.)
    /// </summary>
    private async Task AdmitQueuedRunsAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<CadreDbContext>();
        var workspaces = await db.Runs.AsNoTracking().Where(r => r.Status == "queued").Select(r => r.WorkspaceId).Distinct().Take(100).ToListAsync(cancellationToken);
        var engine = scope.ServiceProvider.GetRequiredService<RunEngine>();
        foreach (var workspaceId in workspaces)
        {
            await engine.AdmitQueuedAsync(workspaceId, cancellationToken);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The worker loop failed; retrying")]
    private static partial void LogWorkerLoopFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Error, Message = "Task {TaskId} of run {RunId}, step {StepId} could not be run; its lease will lapse and it will be retried")]
    private static partial void LogTaskFailed(ILogger logger, Exception exception, long taskId, string runId, string stepId);
}
