using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Cadre.Nodes;

/// <summary>
/// A Cadre process as the cluster knows it: registered when it starts, its heartbeat moved on every
/// <see cref="NodeOptions.HeartbeatInterval"/>, stopped when it shuts down cleanly. Its ID is the
/// owner written on the tasks it leases (<c>tasks.lease_owner</c>), which ties those leases to it.
/// </summary>
internal sealed class Node
{
    public const string IdPrefix = "node";

    public required string Id { get; init; }

    public required string Name { get; init; }

    /// <summary><c>all</c>, <c>api</c> or <c>worker</c>.</summary>
    public required string Role { get; init; }

    /// <summary>The build's informational version.</summary>
    public required string Version { get; init; }

    public DateTime StartedAt { get; init; }

    public DateTime LastHeartbeatAt { get; set; }

    /// <summary>Attempts its workers were running at the last heartbeat.</summary>
    public int TasksInFlight { get; set; }

    /// <summary>When it shut down cleanly (its leases handed back first); null while it runs or if it died.</summary>
    public DateTime? StoppedAt { get; set; }
}

internal sealed class NodeConfiguration : IEntityTypeConfiguration<Node>
{
    public void Configure(EntityTypeBuilder<Node> builder)
    {
        builder.ToTable("nodes");
        builder.HasKey(n => n.Id);
    }
}
