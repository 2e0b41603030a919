using Cadre.Common;
using Cadre.Runs;
using Cadre.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Cadre.Nodes;

/// <summary>
/// Keeps this node's <c>nodes</c> row: written when the node starts, its heartbeat (and the attempts
/// its workers run) moved on every <see cref="NodeOptions.HeartbeatInterval"/>, marked stopped on a
/// clean shutdown, after the worker pool has handed its leases back. A node running workers also
/// looks, at each heartbeat, for tasks leased by nodes that are dead (no heartbeat for
/// <see cref="NodeOptions.DeadAfter"/>) or stopped, and returns them to the queue at once instead of
/// waiting for their leases to lapse.
/// </summary>
internal sealed partial class NodeRegistry(
    ThisNode node, RunWorker worker, IServiceScopeFactory scopes, TimeProvider time, IOptions<NodeOptions> options, ILogger<NodeRegistry> logger)
    : BackgroundService
{
    private DateTime? _lastBeat;

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        // Registered before the workers lease anything, when the database allows; otherwise the next heartbeat registers it.
        try
        {
            await BeatAsync(cancellationToken);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            LogBeatFailed(logger, ex);
        }

        await base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.HeartbeatInterval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    await BeatAsync(stoppingToken);
                    if (node.RunsWorkers)
                    {
                        await ReturnDeadNodesTasksAsync(stoppingToken);
                    }
                }
                catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
                {
                    // The database is down or busy: the next heartbeat tries again (and says if this node was missed meanwhile).
                    LogBeatFailed(logger, ex);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<CadreDbContext>();
            var now = time.GetUtcNowTruncated();
            await db.Nodes.Where(n => n.Id == node.Id).ExecuteUpdateAsync(
                set => set.SetProperty(n => n.StoppedAt, now).SetProperty(n => n.LastHeartbeatAt, now).SetProperty(n => n.TasksInFlight, 0), cancellationToken);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // Left unmarked, the row turns dead after the threshold: the same for the others, a little later.
            LogBeatFailed(logger, ex);
        }
    }

    /// <summary>Moves this node's heartbeat on, registering it if its row is missing (the first beat, or pruned after a long pause).</summary>
    private async Task BeatAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<CadreDbContext>();
        var now = time.GetUtcNowTruncated();
        var inFlight = worker.InFlight;
        var updated = await db.Nodes.Where(n => n.Id == node.Id).ExecuteUpdateAsync(
            set => set.SetProperty(n => n.LastHeartbeatAt, now).SetProperty(n => n.TasksInFlight, inFlight), cancellationToken);
        if (updated == 0)
        {
            db.Nodes.Add(new Node
            {
                Id = node.Id,
                Name = node.Name,
                Role = NodeOptions.WireName(node.Role),
                Version = ThisNode.Version,
                StartedAt = now,
                LastHeartbeatAt = now,
                TasksInFlight = inFlight,
            });
            await db.SaveChangesAsync(cancellationToken);
        }

        if (_lastBeat is { } last && now - last > options.Value.EffectiveDeadAfter)
        {
            LogMissed(logger, now - last);
        }

        _lastBeat = now;
    }

    /// <summary>
    /// Returns to the queue the tasks leased by nodes that are dead or stopped, as a lapsed lease is
    /// returned (<see cref="RunEngine.ReturnLapsedAsync"/>: the attempt counts, the same attempt is
    /// delivered again). Safe if such a node was only slow: its attempt's row is no longer leased to it,
    /// so its lease renewal stops the attempt and its result is refused at commit.
    /// </summary>
    internal async Task<int> ReturnDeadNodesTasksAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<CadreDbContext>();
        var cutoff = time.GetUtcNowTruncated() - options.Value.EffectiveDeadAfter;
        var self = node.Id;
        // Scans only leased rows (their partial index), each checked against its owner's row.
        var orphaned = await db.Tasks.AsNoTracking()
            .Where(t => t.Status == "leased"
                && db.Nodes.Any(n => n.Id == t.LeaseOwner && n.Id != self && (n.StoppedAt != null || n.LastHeartbeatAt < cutoff)))
            .OrderBy(t => t.Id).Take(500).ToListAsync(cancellationToken);
        if (orphaned.Count == 0)
        {
            return 0;
        }

        var owners = orphaned.Select(t => t.LeaseOwner!).Distinct().ToList();
        foreach (var owner in await db.Nodes.AsNoTracking().Where(n => owners.Contains(n.Id)).ToListAsync(cancellationToken))
        {
            LogReturning(logger, owner.Id, owner.Name, owner.StoppedAt is null ? "dead" : "stopped", owner.LastHeartbeatAt, orphaned.Count(t => t.LeaseOwner == owner.Id));
        }

        var engine = scope.ServiceProvider.GetRequiredService<RunEngine>();
        foreach (var task in orphaned)
        {
            // Whatever the lease's expiry: the node that holds it is gone.
            await engine.ReturnLapsedAsync(task, DateTime.MaxValue, cancellationToken);
        }

        return orphaned.Count;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not write this node's heartbeat; trying again at the next")]
    private static partial void LogBeatFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "This node wrote no heartbeat for {Gap}: other nodes may have taken it for dead and returned its tasks to the queue (its results for those are refused)")]
    private static partial void LogMissed(ILogger logger, TimeSpan gap);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Node {NodeId} ({NodeName}) is {Status}, last heartbeat at {LastHeartbeat:o}: returning its {Count} leased tasks to the queue")]
    private static partial void LogReturning(ILogger logger, string nodeId, string nodeName, string status, DateTime lastHeartbeat, int count);
}
