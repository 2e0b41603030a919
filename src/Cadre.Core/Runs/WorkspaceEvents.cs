using Cadre.Workspaces;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Cadre.Runs;

/// <summary>An event emitted into a workspace.</summary>
internal sealed class WorkspaceEvent
{
    public const string IdPrefix = "ev";

    public required string Id { get; init; }

    public required string WorkspaceId { get; init; }

    public required string Type { get; init; }

    public string? Source { get; init; }

    public required string Payload { get; init; }

    public string? EmittedByRun { get; init; }

    public string? EmittedByStep { get; init; }

    /// <summary>The same key in a workspace is the same event: emitting it again answers the first.</summary>
    public string? IdempotencyKey { get; init; }

    /// <summary><c>api</c>, <c>run</c> (an emit_event step or tool) or <c>cadre</c> (Cadre's own happenings).</summary>
    public string Origin { get; init; } = "run";

    /// <summary>When it happened, as its sender says (null: when it was recorded).</summary>
    public DateTime? OccurredAt { get; init; }

    /// <summary>Who sent it through the API.</summary>
    public string? ReceivedBy { get; init; }

    /// <summary>How many event-started runs led to it (0: none).</summary>
    public int Depth { get; init; }

    /// <summary>How many times it was replayed.</summary>
    public int Replays { get; set; }

    /// <summary>When the workflows it starts were all started; null while that is still to do.</summary>
    public DateTime? DispatchedAt { get; set; }

    public DateTime CreatedAt { get; init; }
}

/// <summary>A wait_for_event step waiting for an event of a type whose payload passes its filters.</summary>
internal sealed class EventWait
{
    public required string RunId { get; init; }

    public required string StepId { get; init; }

    public int Iteration { get; init; }

    public int Attempt { get; init; }

    public required string WorkspaceId { get; init; }

    public required string EventType { get; init; }

    /// <summary>The filter over <c>event</c>, its operands already rendered against the run (JSON), or null for any event of the type.</summary>
    public string? Filters { get; init; }

    /// <summary>The event that matched, claimed by the emitting commit.</summary>
    public string? EventId { get; set; }

    public DateTime? Deadline { get; init; }

    public DateTime CreatedAt { get; init; }
}

internal sealed class WorkspaceEventConfiguration : IEntityTypeConfiguration<WorkspaceEvent>
{
    public void Configure(EntityTypeBuilder<WorkspaceEvent> builder)
    {
        builder.ToTable("events");
        builder.HasKey(e => e.Id);
        builder.HasOne<Workspace>().WithMany().HasForeignKey(e => e.WorkspaceId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class EventWaitConfiguration : IEntityTypeConfiguration<EventWait>
{
    public void Configure(EntityTypeBuilder<EventWait> builder)
    {
        builder.HasKey(w => new { w.RunId, w.StepId, w.Iteration });
        builder.HasOne<Run>().WithMany().HasForeignKey(w => w.RunId).OnDelete(DeleteBehavior.Cascade);
    }
}
