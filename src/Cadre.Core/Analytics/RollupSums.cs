namespace Cadre.Analytics;

/// <summary>The dimensions a scope's rollups are cut by.</summary>
internal static class Dims
{
    public const string Total = "total";
    public const string Model = "model";
    public const string Persona = "persona";

    /// <summary>A persona version: <c>personaId@version</c> under a workflow, the version number under its persona.</summary>
    public const string Version = "version";
    public const string Workflow = "workflow";
    public const string Step = "step";

    /// <summary>The same dimension summed over whole UTC days (<c>total/day</c>): the drain keeps both levels.</summary>
    public static string Daily(string dim) => dim + "/day";
}

/// <summary>Where a rollup row sits: scope, dimension, quarter hour, dimension value.</summary>
internal readonly record struct RollupKey(string ScopeId, string Dim, DateTime Bucket, string DimKey);

/// <summary>Figures that add up: a rollup row's, a fact's share of one, or many rows summed for an answer.</summary>
internal sealed class RollupSums
{
    public long Succeeded { get; set; }

    public long Failed { get; set; }

    public long Compensated { get; set; }

    public long Halted { get; set; }

    public long DurationMs { get; set; }

    /// <summary>Kept on total rows only; null elsewhere.</summary>
    public DurationSketch? Durations { get; set; }

    public long Calls { get; set; }

    public long InputTokens { get; set; }

    public long OutputTokens { get; set; }

    public long CachedInputTokens { get; set; }

    public long CostNanos { get; set; }

    public long Approvals { get; set; }

    public long ApprovalWaitMs { get; set; }

    /// <summary>Runs that came to rest: ended (succeeded, failed, compensated) or halted.</summary>
    public long Runs => Succeeded + Failed + Compensated + Halted;

    /// <summary>Runs that ended: the base of the success rate (a halted run has not decided yet).</summary>
    public long Ended => Succeeded + Failed + Compensated;

    public void AddRun(string status, long sign, long durationMs, bool withSketch)
    {
        switch (status)
        {
            case "succeeded": Succeeded += sign; break;
            case "failed": Failed += sign; break;
            case "compensated": Compensated += sign; break;
            default: Halted += sign; break;
        }

        DurationMs += sign * durationMs;
        if (withSketch)
        {
            (Durations ??= new DurationSketch()).Add(durationMs, sign);
        }
    }

    public void AddUsage(AnalyticsFact fact)
    {
        Calls++;
        InputTokens += fact.InputTokens;
        OutputTokens += fact.OutputTokens;
        CachedInputTokens += fact.CachedInputTokens;
        CostNanos += fact.CostNanos;
    }

    public void Add(RollupSums other)
    {
        Succeeded += other.Succeeded;
        Failed += other.Failed;
        Compensated += other.Compensated;
        Halted += other.Halted;
        DurationMs += other.DurationMs;
        if (other.Durations is not null)
        {
            (Durations ??= new DurationSketch()).Merge(other.Durations);
        }

        Calls += other.Calls;
        InputTokens += other.InputTokens;
        OutputTokens += other.OutputTokens;
        CachedInputTokens += other.CachedInputTokens;
        CostNanos += other.CostNanos;
        Approvals += other.Approvals;
        ApprovalWaitMs += other.ApprovalWaitMs;
    }

    public void Add(AnalyticsRollup row)
    {
        Succeeded += row.Succeeded;
        Failed += row.Failed;
        Compensated += row.Compensated;
        Halted += row.Halted;
        DurationMs += row.DurationMs;
        if (row.Durations is not null)
        {
            (Durations ??= new DurationSketch()).MergeText(row.Durations);
        }

        Calls += row.Calls;
        InputTokens += row.InputTokens;
        OutputTokens += row.OutputTokens;
        CachedInputTokens += row.CachedInputTokens;
        CostNanos += row.CostNanos;
        Approvals += row.Approvals;
        ApprovalWaitMs += row.ApprovalWaitMs;
    }

    /// <summary>Folds these sums into a stored row.</summary>
    public void ApplyTo(AnalyticsRollup row)
    {
        row.Succeeded += Succeeded;
        row.Failed += Failed;
        row.Compensated += Compensated;
        row.Halted += Halted;
        row.DurationMs += DurationMs;
        if (Durations is not null)
        {
            var merged = DurationSketch.Parse(row.Durations);
            merged.Merge(Durations);
            row.Durations = merged.Serialize();
        }

        row.Calls += Calls;
        row.InputTokens += InputTokens;
        row.OutputTokens += OutputTokens;
        row.CachedInputTokens += CachedInputTokens;
        row.CostNanos += CostNanos;
        row.Approvals += Approvals;
        row.ApprovalWaitMs += ApprovalWaitMs;
        row.Version++;
    }
}
