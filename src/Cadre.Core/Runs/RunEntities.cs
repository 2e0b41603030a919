using Cadre.Workflows;
using Cadre.Workspaces;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Cadre.Runs;

/// <summary>One execution of a workflow version.</summary>
internal sealed class Run
{
    public const string IdPrefix = "run";

    /// <summary>A detached copy (every field is a value or an immutable string).</summary>
    public Run Copy() => (Run)MemberwiseClone();

    public required string Id { get; init; }

    public required string WorkspaceId { get; init; }

    public required string WorkflowId { get; init; }

    /// <summary>The version the run started on and keeps to.</summary>
    public int WorkflowVersion { get; init; }

    /// <summary>Sequential per workflow, from 1.</summary>
    public int Number { get; init; }

    /// <summary>Readable: the workflow's name in capitals and the number (<c>TRIAGE-42</c>).</summary>
    public required string DisplayId { get; init; }

    public required string Status { get; set; }

    public required string TriggerType { get; init; }

    public string? StartedBy { get; init; }

    public required string Input { get; init; }

    /// <summary>What templates read as <c>context</c>: the trigger's input (as <c>body</c>), prompt, config, repo, annotations.</summary>
    public required string Context { get; set; }

    public string? Output { get; set; }

    public string? Error { get; set; }

    public required string Links { get; set; }

    public string? ParentRunId { get; init; }

    public string? ParentStepId { get; init; }

    /// <summary>The start request's Idempotency-Key: a retried start finds this run instead of making another.</summary>
    public string? IdempotencyKey { get; init; }

    /// <summary>The event that started the run (trigger <c>event</c>), if one did.</summary>
    public string? EventId { get; init; }

    public bool HaltRequested { get; set; }

    /// <summary>
    /// The W3C <c>traceparent</c> of the span that created the run: every span of the run (its attempts
    /// on any node, its own when it comes to rest) is started under it, so one trace holds them all.
    /// </summary>
    public string? TraceParent { get; init; }

    /// <summary>Tokens the run's model calls read, in all (cached ones included).</summary>
    public long InputTokens { get; set; }

    public long OutputTokens { get; set; }

    /// <summary>Of <see cref="InputTokens"/>, those the provider served from its prompt cache.</summary>
    public long CachedInputTokens { get; set; }

    /// <summary>What the model calls cost, in billionths of a US dollar.</summary>
    public long CostNanos { get; set; }

    public DateTime CreatedAt { get; init; }

    public DateTime? StartedAt { get; set; }

    public DateTime? FinishedAt { get; set; }

    /// <summary>When the run last came to rest (ended, or halted); analytics counts it then.</summary>
    public DateTime? RestedAt { get; set; }

    /// <summary>The persona versions the run's model calls used, as a JSON array of <c>personaId@version</c>, in order of first use.</summary>
    public string? Personas { get; set; }

    public DateTime UpdatedAt { get; set; }

    public int Version { get; set; }
}

/// <summary>The state of one step in one run.</summary>
internal sealed class RunStep
{
    /// <summary>A detached copy (every field is a value or an immutable string).</summary>
    public RunStep Copy() => (RunStep)MemberwiseClone();

    public required string RunId { get; init; }

    public required string StepId { get; init; }

    public required string Status { get; set; }

    public int Attempts { get; set; }

    /// <summary>For steps in a loop body: the pass it is on (from 1).</summary>
    public int Iteration { get; set; }

    public string? Output { get; set; }

    public string? Error { get; set; }

    /// <summary>The order steps succeeded in, for unwinding compensations in reverse.</summary>
    public int? CompletedOrder { get; set; }

    public DateTime? StartedAt { get; set; }

    public DateTime? FinishedAt { get; set; }
}

/// <summary>An attempt in the task queue: queued until its time, leased by a worker, then finished for the record.</summary>
internal sealed class RunTask
{
    public long Id { get; init; }

    public required string RunId { get; init; }

    public required string WorkspaceId { get; init; }

    public required string StepId { get; init; }

    /// <summary><c>step</c> (run the step), <c>timer</c> (a sleep or deadline fires), <c>compensation</c> (undo the step).</summary>
    public required string Kind { get; init; }

    public int Attempt { get; init; }

    /// <summary>The loop pass the attempt belongs to (1 outside loops).</summary>
    public int Iteration { get; init; }

    public required string Status { get; set; }

    public DateTime AvailableAt { get; set; }

    public string? LeaseOwner { get; set; }

    public DateTime? LeaseExpiresAt { get; set; }

    public DateTime? StartedAt { get; set; }

    public DateTime? FinishedAt { get; set; }

    public string? Error { get; set; }

    public DateTime CreatedAt { get; init; }

    /// <summary>What the attempt hands to side effects: <c>runId/stepId/attempt</c>, with <c>/iteration</c> after a loop's first pass.</summary>
    public string IdempotencyKey => ActivityContext.KeyFor(RunId, StepId, Attempt, Iteration, Kind == "compensation");
}

/// <summary>One entry of a run's append-only history; its ID orders the stream.</summary>
internal sealed class RunEvent
{
    public long Id { get; init; }

    public required string RunId { get; init; }

    public required string WorkspaceId { get; init; }

    public required string Type { get; init; }

    public required string Data { get; set; }

    public DateTime CreatedAt { get; init; }
}

internal sealed class WorkflowRunCounter
{
    public required string WorkflowId { get; init; }

    public int LastNumber { get; set; }
}

internal sealed class RunConfiguration : IEntityTypeConfiguration<Run>
{
    public void Configure(EntityTypeBuilder<Run> builder)
    {
        builder.HasKey(r => r.Id);
        builder.HasIndex(r => new { r.WorkflowId, r.Number }).IsUnique();
        builder.Property(r => r.Version).IsConcurrencyToken();
        builder.HasOne<Workspace>().WithMany().HasForeignKey(r => r.WorkspaceId).OnDelete(DeleteBehavior.Cascade);
        builder.HasOne<Workflow>().WithMany().HasForeignKey(r => r.WorkflowId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class RunStepConfiguration : IEntityTypeConfiguration<RunStep>
{
    public void Configure(EntityTypeBuilder<RunStep> builder)
    {
        builder.HasKey(s => new { s.RunId, s.StepId });
        builder.HasOne<Run>().WithMany().HasForeignKey(s => s.RunId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class RunTaskConfiguration : IEntityTypeConfiguration<RunTask>
{
    public void Configure(EntityTypeBuilder<RunTask> builder)
    {
        builder.ToTable("tasks");
        builder.HasKey(t => t.Id);
        builder.Property(t => t.Id).ValueGeneratedOnAdd();
        builder.HasOne<Run>().WithMany().HasForeignKey(t => t.RunId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class RunEventConfiguration : IEntityTypeConfiguration<RunEvent>
{
    public void Configure(EntityTypeBuilder<RunEvent> builder)
    {
        builder.HasKey(e => e.Id);
        builder.Property(e => e.Id).ValueGeneratedOnAdd();
        builder.HasOne<Run>().WithMany().HasForeignKey(e => e.RunId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class WorkflowRunCounterConfiguration : IEntityTypeConfiguration<WorkflowRunCounter>
{
    public void Configure(EntityTypeBuilder<WorkflowRunCounter> builder)
    {
        builder.HasKey(c => c.WorkflowId);
        builder.HasOne<Workflow>().WithMany().HasForeignKey(c => c.WorkflowId).OnDelete(DeleteBehavior.Cascade);
    }
}

/// <summary>An attempt's saved progress inside its step (see <see cref="IRunStream.CheckpointAsync"/>).</summary>
internal sealed class StepCheckpoint
{
    public required string RunId { get; init; }

    public required string AttemptKey { get; init; }

    public required string State { get; set; }

    public DateTime UpdatedAt { get; set; }
}

internal sealed class StepCheckpointConfiguration : IEntityTypeConfiguration<StepCheckpoint>
{
    public void Configure(EntityTypeBuilder<StepCheckpoint> builder)
    {
        builder.ToTable("step_checkpoints");
        builder.HasKey(c => new { c.RunId, c.AttemptKey });
        builder.HasOne<Run>().WithMany().HasForeignKey(c => c.RunId).OnDelete(DeleteBehavior.Cascade);
    }
}
