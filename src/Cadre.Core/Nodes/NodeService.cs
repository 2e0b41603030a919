using Cadre.Common;
using Cadre.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Cadre.Nodes;

/// <summary>A node of the cluster, as <c>GET /api/v1/admin/nodes</c> lists it.</summary>
/// <param name="Id">The node's ID, also the owner written on the tasks it leases.</param>
/// <param name="Name">Its <c>Cadre:Node:Name</c>, or its host name and process ID.</param>
/// <param name="Role"><c>all</c>, <c>api</c> or <c>worker</c>.</param>
/// <param name="Version">The Cadre build it runs.</param>
/// <param name="TasksInFlight">Attempts its workers were running at its last heartbeat.</param>
/// <param name="Status"><c>live</c> (heartbeating), <c>dead</c> (no heartbeat for <c>Cadre:Node:DeadAfter</c>: its tasks go back to the queue) or <c>stopped</c> (shut down cleanly).</param>
/// <param name="StoppedAt">When it shut down cleanly.</param>
public sealed record NodeResponse(
    string Id, string Name, string Role, string Version, DateTime StartedAt, DateTime LastHeartbeatAt, int TasksInFlight, string Status, DateTime? StoppedAt);

/// <summary>The registry of nodes as the API and housekeeping see it.</summary>
internal sealed class NodeService(CadreDbContext db, TimeProvider time, IOptions<NodeOptions> options)
{
    /// <summary>How long the row of a stopped or dead node is kept, for the record.</summary>
    public static readonly TimeSpan KeptFor = TimeSpan.FromDays(1);

    /// <summary>The nodes, newest first; <paramref name="status"/> keeps one status.</summary>
    public async Task<ServiceResult<Page<NodeResponse>>> ListAsync(string? status, PageRequest page, CancellationToken cancellationToken)
    {
        // Dead is judged by this node's clock and threshold, as the workers that return dead nodes' tasks judge it by theirs.
        var cutoff = time.GetUtcNowTruncated() - options.Value.EffectiveDeadAfter;
        var query = db.Nodes.AsNoTracking();
        switch (status)
        {
            case null:
                break;
            case "live":
                query = query.Where(n => n.StoppedAt == null && n.LastHeartbeatAt >= cutoff);
                break;
            case "dead":
                query = query.Where(n => n.StoppedAt == null && n.LastHeartbeatAt < cutoff);
                break;
            case "stopped":
                query = query.Where(n => n.StoppedAt != null);
                break;
            default:
                return ServiceError.Validation("status", "Must be 'live', 'dead' or 'stopped'.");
        }

        return (await query.ToPageAsync(n => n.Id, page, cancellationToken)).Map(n => new NodeResponse(
            n.Id, n.Name, n.Role, n.Version, n.StartedAt, n.LastHeartbeatAt, n.TasksInFlight,
            n.StoppedAt is not null ? "stopped" : n.LastHeartbeatAt < cutoff ? "dead" : "live", n.StoppedAt));
    }

    /// <summary>Deletes the rows of nodes stopped, or silent, for longer than <see cref="KeptFor"/>.</summary>
    public Task<int> PruneAsync(CancellationToken cancellationToken)
    {
        var before = time.GetUtcNowTruncated() - KeptFor;
        return db.Nodes.Where(n => (n.StoppedAt ?? n.LastHeartbeatAt) < before).ExecuteDeleteAsync(cancellationToken);
    }
}
