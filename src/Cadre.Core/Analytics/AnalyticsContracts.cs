namespace Cadre.Analytics;

/// <summary>What an analytics answer covers.</summary>
/// <param name="From">The window's first instant (local midnight of its first day, in UTC).</param>
/// <param name="To">The instant after its last (midnight ending today, local).</param>
/// <param name="TimeZone">The zone days, weeks and months are cut in: the request's <c>timeZone</c>, else the workspace's <c>settings.timeZone</c>, else UTC.</param>
public sealed record AnalyticsWindow(DateTime From, DateTime To, int Days, string Granularity, string TimeZone);

/// <summary>The window's headline figures.</summary>
/// <param name="Runs">Runs that came to rest in the window: succeeded, failed, compensated or halted.</param>
/// <param name="SuccessRate">Succeeded ÷ ended (succeeded + failed + compensated), 0–1; null when none ended. Halted runs have not ended.</param>
/// <param name="P50DurationSeconds">Median time from a run's start to its rest, within 1 %.</param>
/// <param name="P95DurationSeconds">95th percentile of that time, within 1 %.</param>
/// <param name="CostUsd">What the model calls made in the window cost, at the prices in force when each was made.</param>
/// <param name="AverageCostUsd">Cost ÷ runs; null without runs.</param>
/// <param name="InputTokens">Tokens read, cached ones included.</param>
/// <param name="Approvals">Approvals decided (or timed out) in the window.</param>
/// <param name="ApprovalWaitSeconds">The time those approvals waited, in all.</param>
public sealed record AnalyticsKpis(
    long Runs,
    long Succeeded,
    long Failed,
    long Compensated,
    long Halted,
    double? SuccessRate,
    double? P50DurationSeconds,
    double? P95DurationSeconds,
    double? AverageDurationSeconds,
    decimal CostUsd,
    decimal? AverageCostUsd,
    long ModelCalls,
    long InputTokens,
    long OutputTokens,
    long CachedInputTokens,
    long Approvals,
    double ApprovalWaitSeconds,
    double? AverageApprovalWaitSeconds);

/// <summary>One period of the series; every period of the window is present, empty ones as zeros.</summary>
/// <param name="Date">The local date the period starts on (clipped to the window).</param>
/// <param name="Start">The period's first instant, UTC.</param>
/// <param name="End">The instant after its last, UTC.</param>
public sealed record AnalyticsPoint(
    string Date,
    DateTime Start,
    DateTime End,
    long Runs,
    long Succeeded,
    long Failed,
    long Compensated,
    long Halted,
    double? SuccessRate,
    decimal CostUsd,
    long InputTokens,
    long OutputTokens,
    long CachedInputTokens,
    long Approvals);

/// <summary>One slice of a breakdown: a model, persona, persona version, workflow or step.</summary>
/// <param name="Key">The model's name, or the persona's, workflow's or step's ID; for versions, the version number (or <c>personaId@version</c> under a workflow).</param>
/// <param name="Name">The persona's or workflow's name when it still exists.</param>
/// <param name="Runs">Runs that came to rest having used it (not counted for models and steps).</param>
/// <param name="CostShare">Its part of the scope's cost, 0–1; null when the scope cost nothing.</param>
public sealed record AnalyticsSlice(
    string Key,
    string? Name,
    long Runs,
    long Succeeded,
    long Failed,
    double? SuccessRate,
    double? AverageDurationSeconds,
    decimal CostUsd,
    double? CostShare,
    long ModelCalls,
    long InputTokens,
    long OutputTokens,
    long CachedInputTokens);

/// <summary>Where the cost (and runs) went. Each list is there when it applies to the scope, most costly first.</summary>
public sealed record AnalyticsBreakdown(
    IReadOnlyList<AnalyticsSlice> ByModel,
    IReadOnlyList<AnalyticsSlice>? ByPersona,
    IReadOnlyList<AnalyticsSlice>? ByStep,
    IReadOnlyList<AnalyticsSlice>? ByWorkflow,
    IReadOnlyList<AnalyticsSlice>? ByVersion);

/// <summary>The workspace's workflows that cost most, failed most and ran longest in the window (five each).</summary>
/// <param name="ByDuration">By total run time (runs × average duration).</param>
public sealed record TopWorkflows(IReadOnlyList<AnalyticsSlice> ByCost, IReadOnlyList<AnalyticsSlice> ByFailures, IReadOnlyList<AnalyticsSlice> ByDuration);

/// <summary>Analytics of a workflow, a persona or a workspace.</summary>
/// <param name="Scope"><c>workflow</c>, <c>persona</c> or <c>workspace</c>.</param>
/// <param name="Top">Workspace analytics only.</param>
public sealed record AnalyticsResponse(
    string Scope,
    string Id,
    string Name,
    AnalyticsWindow Window,
    AnalyticsKpis Kpis,
    AnalyticsBreakdown Breakdown,
    IReadOnlyList<AnalyticsPoint> Series,
    TopWorkflows? Top);
