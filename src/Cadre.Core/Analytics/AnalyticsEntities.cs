using Cadre.Workspaces;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Cadre.Analytics;

/// <summary>
/// Something analytics counts, written in the same commit as the change it records and folded into
/// <see cref="AnalyticsRollup"/> rows soon after (<see cref="RollupDrain"/>). Until then queries read it
/// here, so figures are exact at every instant.
/// </summary>
internal sealed class AnalyticsFact
{
    public long Id { get; init; }

    public required string WorkspaceId { get; init; }

    public required string WorkflowId { get; init; }

    public required string RunId { get; init; }

    /// <summary><c>run</c> (the run came to rest, or with <see cref="Sign"/> -1 left its rest), <c>usage</c> (a model call), <c>approval</c> (an approval settled).</summary>
    public required string Kind { get; init; }

    /// <summary>When it happened: the bucket it counts in.</summary>
    public DateTime At { get; init; }

    /// <summary>+1, or -1 to take back an earlier rest of the run (it was resumed or retried).</summary>
    public int Sign { get; init; } = 1;

    /// <summary>The run's status at rest (<c>run</c>).</summary>
    public string? Status { get; init; }

    /// <summary>The run's time from start to rest (<c>run</c>), or the approval's wait (<c>approval</c>), in milliseconds.</summary>
    public long DurationMs { get; init; }

    /// <summary>The persona versions the run had used (<c>run</c>), as on <see cref="Runs.Run.Personas"/>.</summary>
    public string? Personas { get; init; }

    public string? StepId { get; init; }

    public string? Model { get; init; }

    public string? PersonaId { get; init; }

    public int? PersonaVersion { get; init; }

    public long InputTokens { get; init; }

    public long OutputTokens { get; init; }

    public long CachedInputTokens { get; init; }

    /// <summary>Billionths of a US dollar, at the price in force when the call was made.</summary>
    public long CostNanos { get; init; }
}

/// <summary>
/// Sums over a quarter of an hour (UTC) for one scope (a workflow, a persona or the workspace) and one
/// dimension of it: the scope's total (<see cref="DimKey"/> empty), or one model, persona, persona
/// version, workflow or step. Quarter hours, because every time zone's midnight falls on one, so days,
/// weeks and months of any zone are exact unions of them.
/// </summary>
internal sealed class AnalyticsRollup
{
    public required string ScopeId { get; init; }

    public required string Dim { get; init; }

    public DateTime Bucket { get; init; }

    public required string DimKey { get; init; }

    public required string WorkspaceId { get; init; }

    public long Succeeded { get; set; }

    public long Failed { get; set; }

    public long Compensated { get; set; }

    public long Halted { get; set; }

    /// <summary>Total time from start to rest of the runs counted, in milliseconds.</summary>
    public long DurationMs { get; set; }

    /// <summary>Those times as a <see cref="DurationSketch"/> (total rows only).</summary>
    public string? Durations { get; set; }

    public long Calls { get; set; }

    public long InputTokens { get; set; }

    public long OutputTokens { get; set; }

    public long CachedInputTokens { get; set; }

    public long CostNanos { get; set; }

    public long Approvals { get; set; }

    public long ApprovalWaitMs { get; set; }

    /// <summary>Guards against two drains folding into the row at once (a duty's holder changing hands mid-pass).</summary>
    public int Version { get; set; }
}

internal sealed class AnalyticsFactConfiguration : IEntityTypeConfiguration<AnalyticsFact>
{
    public void Configure(EntityTypeBuilder<AnalyticsFact> builder)
    {
        builder.ToTable("analytics_facts");
        builder.HasKey(f => f.Id);
        builder.Property(f => f.Id).ValueGeneratedOnAdd();
        builder.HasIndex(f => f.WorkspaceId);
        builder.HasOne<Workspace>().WithMany().HasForeignKey(f => f.WorkspaceId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class AnalyticsRollupConfiguration : IEntityTypeConfiguration<AnalyticsRollup>
{
    public void Configure(EntityTypeBuilder<AnalyticsRollup> builder)
    {
        builder.ToTable("analytics_rollups");
        builder.HasKey(r => new { r.ScopeId, r.Dim, r.Bucket, r.DimKey });
        builder.Property(r => r.Version).IsConcurrencyToken();
        builder.HasIndex(r => r.WorkspaceId);
        builder.HasOne<Workspace>().WithMany().HasForeignKey(r => r.WorkspaceId).OnDelete(DeleteBehavior.Cascade);
    }
}
