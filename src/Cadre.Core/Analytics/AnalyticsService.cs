using System.Linq.Expressions;
using Cadre.Common;
using Cadre.Llm;
using Cadre.Personas;
using Cadre.Storage;
using Cadre.Workflows;
using Cadre.Workspaces;
using Microsoft.EntityFrameworkCore;

namespace Cadre.Analytics;

/// <summary>The query parameters every analytics answer takes.</summary>
/// <param name="Days">How many local days up to today (1–366; default 30).</param>
/// <param name="Granularity"><c>daily</c> (default), <c>weekly</c> or <c>monthly</c>.</param>
/// <param name="TimeZone">Overrides the workspace's <c>settings.timeZone</c>.</param>
public sealed record AnalyticsQuery(int? Days = null, string? Granularity = null, string? TimeZone = null);

/// <summary>
/// Answers analytics from rollups (<see cref="AnalyticsRollup"/>) plus the facts not folded yet, both
/// read in one snapshot, so an answer costs rows per quarter hour of the window rather than per run.
/// </summary>
internal sealed class AnalyticsService(
    CadreDbContext db, StorageProvider storage, TimeProvider time, WorkflowService workflows, PersonaService personas)
{
    public const int MaxDays = 366;
    private const int TopCount = 5;

    public async Task<ServiceResult<AnalyticsResponse>> ForWorkflowAsync(string workspaceId, string idOrName, AnalyticsQuery query, CancellationToken cancellationToken)
    {
        var workflow = await workflows.FindAsync(workspaceId, idOrName, tracking: false, cancellationToken);
        if (workflow is null)
        {
            return ServiceError.NotFound($"No workflow '{idOrName}' in this workspace.");
        }

        return await AnswerAsync(
            workspaceId, "workflow", workflow.Id, workflow.Name, query, [Dims.Model, Dims.Persona, Dims.Step, Dims.Version], cancellationToken);
    }

    public async Task<ServiceResult<AnalyticsResponse>> ForPersonaAsync(string workspaceId, string idOrName, AnalyticsQuery query, CancellationToken cancellationToken)
    {
        var persona = await personas.FindAsync(workspaceId, idOrName, tracking: false, cancellationToken);
        if (persona is null)
        {
            return ServiceError.NotFound($"No persona '{idOrName}' in this workspace.");
        }

        return await AnswerAsync(workspaceId, "persona", persona.Id, persona.Name, query, [Dims.Model, Dims.Workflow, Dims.Version], cancellationToken);
    }

    public async Task<ServiceResult<AnalyticsResponse>> ForWorkspaceAsync(WorkspaceRef workspace, AnalyticsQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(workspace);
        return await AnswerAsync(workspace.Id, "workspace", workspace.Id, workspace.Name, query, [Dims.Model, Dims.Persona, Dims.Workflow], cancellationToken);
    }

    private async Task<ServiceResult<AnalyticsResponse>> AnswerAsync(
        string workspaceId, string scope, string scopeId, string name, AnalyticsQuery query, string[] dims, CancellationToken cancellationToken)
    {
        var errors = new ValidationErrors();
        var days = query.Days ?? 30;
        if (days is < 1 or > MaxDays)
        {
            errors.Add("days", $"Must be a whole number from 1 to {MaxDays}.");
        }

        if (!AnalyticsCalendar.TryParseGranularity(query.Granularity, out var granularity))
        {
            errors.Add("granularity", "Must be daily, weekly or monthly.");
        }

        var zoneId = query.TimeZone ?? await WorkspaceTimeZoneAsync(workspaceId, cancellationToken);
        var zone = AnalyticsCalendar.FindZone(zoneId);
        if (zone is null)
        {
            errors.Add(query.TimeZone is null ? "settings.timeZone" : "timeZone", $"'{zoneId}' is not a time zone this server knows (use IANA names such as Europe/Paris, or UTC).");
        }

        if (!errors.IsEmpty)
        {
            return ServiceError.Validation(errors);
        }

        var periods = AnalyticsCalendar.Periods(time.GetUtcNow().UtcDateTime, zone!, days, granularity);
        var from = periods[0].Start;
        var to = periods[^1].End;

        // One snapshot: a drain that commits between the two reads would otherwise move facts out of one and into the other unseen.
        // Whole UTC days inside a period come from day rows; the rest (a period's ends, in a zone whose
        // midnight is not UTC's) from quarter-hour rows. A year by month reads ~400 rows rather than 35 000.
        var (dayRanges, quarterRanges) = Levels(periods);
        await using var snapshot = await storage.BeginSnapshotAsync(db, cancellationToken);
        var totals = await RowsAsync(scopeId, Dims.Daily(Dims.Total), dayRanges, cancellationToken);
        totals.AddRange(await RowsAsync(scopeId, Dims.Total, quarterRanges, cancellationToken));
        var (windowDays, windowQuarters) = Levels([new Period(periods[0].Label, from, to)]);
        var slices = new Dictionary<string, Dictionary<string, RollupSums>>(StringComparer.Ordinal);
        foreach (var dim in dims)
        {
            var slice = await SliceAsync(scopeId, Dims.Daily(dim), windowDays, cancellationToken);
            foreach (var (key, sums) in await SliceAsync(scopeId, dim, windowQuarters, cancellationToken))
            {
                AddTo(slice, key, sums);
            }

            slices[dim] = slice;
        }

        var facts = db.AnalyticsFacts.AsNoTracking().Where(f => f.WorkspaceId == workspaceId && f.At >= from && f.At < to);
        // A workflow's figures come from its own facts alone; a persona's and the workspace's from any workflow's.
        var pending = await (scope == "workflow" ? facts.Where(f => f.WorkflowId == scopeId) : facts).ToListAsync(cancellationToken);
        await snapshot.CommitAsync(cancellationToken);

        var series = periods.Select(_ => new RollupSums()).ToArray();
        var starts = periods.Select(p => p.Start).ToArray();
        RollupSums PeriodOf(DateTime bucket)
        {
            var index = Array.BinarySearch(starts, bucket);
            return series[index >= 0 ? index : ~index - 1];
        }

        foreach (var row in totals)
        {
            PeriodOf(row.Bucket).Add(row);
        }

        var unfolded = new Dictionary<RollupKey, RollupSums>();
        foreach (var fact in pending)
        {
            Contributions.Add(fact, unfolded);
        }

        foreach (var (key, sums) in unfolded.Where(u => u.Key.ScopeId == scopeId))
        {
            if (key.Dim == Dims.Total)
            {
                PeriodOf(key.Bucket).Add(sums);
            }
            else if (slices.TryGetValue(key.Dim, out var slice))
            {
                AddTo(slice, key.DimKey, sums);
            }
        }

        var whole = new RollupSums();
        foreach (var period in series)
        {
            whole.Add(period);
        }

        var names = await NamesAsync(workspaceId, slices, cancellationToken);
        AnalyticsSlice[]? Listed(string dim) => slices.TryGetValue(dim, out var slice)
            ? [.. slice.Select(s => Slice(s.Key, names.GetValueOrDefault(NameKey(dim, s.Key)), s.Value, whole.CostNanos))
                .Where(s => s.Runs != 0 || s.ModelCalls != 0)
                .OrderByDescending(s => s.CostUsd).ThenByDescending(s => s.Runs).ThenBy(s => s.Key, StringComparer.Ordinal)]
            : null;
        var byWorkflow = Listed(Dims.Workflow);
        var top = scope == "workspace"
            ? new TopWorkflows(
                [.. byWorkflow!.Where(w => w.CostUsd > 0).Take(TopCount)],
                [.. byWorkflow!.Where(w => w.Failed > 0).OrderByDescending(w => w.Failed).ThenBy(w => w.Key, StringComparer.Ordinal).Take(TopCount)],
                [.. byWorkflow!.Where(w => w.Runs > 0).OrderByDescending(w => w.Runs * (w.AverageDurationSeconds ?? 0)).ThenBy(w => w.Key, StringComparer.Ordinal).Take(TopCount)])
            : null;
        return new AnalyticsResponse(
            scope,
            scopeId,
            name,
            new AnalyticsWindow(from, to, days, granularity.ToString().ToLowerInvariant(), zoneId!),
            Kpis(whole),
            new AnalyticsBreakdown(Listed(Dims.Model)!, Listed(Dims.Persona), Listed(Dims.Step), byWorkflow, Listed(Dims.Version)),
            [.. periods.Select((p, i) => Point(p, series[i]))],
            top);
    }

    /// <summary>
    /// The ranges each rollup level answers for: whole UTC days inside a period from day rows, every other
    /// stretch from quarter-hour rows. Adjacent ranges are joined, so a daily series in a zone whose midnight
    /// is not UTC's is one quarter-hour range, and a monthly year in UTC is one day range.
    /// </summary>
    internal static (List<(DateTime From, DateTime To)> Days, List<(DateTime From, DateTime To)> Quarters) Levels(IReadOnlyList<Period> periods)
    {
        var days = new List<(DateTime From, DateTime To)>();
        var quarters = new List<(DateTime From, DateTime To)>();
        static void Append(List<(DateTime From, DateTime To)> ranges, DateTime from, DateTime to)
        {
            if (from >= to)
            {
                return;
            }

            if (ranges.Count > 0 && ranges[^1].To == from)
            {
                ranges[^1] = (ranges[^1].From, to);
            }
            else
            {
                ranges.Add((from, to));
            }
        }

        foreach (var period in periods)
        {
            var firstDay = Contributions.DayOf(period.Start) == period.Start ? period.Start : Contributions.DayOf(period.Start).AddDays(1);
            var lastDay = Contributions.DayOf(period.End);
            if (firstDay >= lastDay)
            {
                Append(quarters, period.Start, period.End);
                continue;
            }

            Append(quarters, period.Start, firstDay);
            Append(days, firstDay, lastDay);
            Append(quarters, lastDay, period.End);
        }

        return (days, quarters);
    }

    /// <summary>A level's rows of one dimension over some ranges, in one query.</summary>
    private Task<List<AnalyticsRollup>> RowsAsync(string scopeId, string dim, List<(DateTime From, DateTime To)> ranges, CancellationToken cancellationToken) =>
        ranges.Count == 0
            ? Task.FromResult(new List<AnalyticsRollup>())
            : db.AnalyticsRollups.AsNoTracking().Where(InRanges(scopeId, dim, ranges)).ToListAsync(cancellationToken);

    /// <summary>
    /// Rows of the scope's dimension with <c>bucket</c> within any of the ranges, each range a whole
    /// condition on the primary key (so SQLite and PostgreSQL read each range as its own index range, not
    /// the dimension's every row), each value a query parameter (a captured field, as EF Core reads
    /// closures), so the statement's shape depends only on how many ranges there are.
    /// </summary>
    private static Expression<Func<AnalyticsRollup, bool>> InRanges(string scopeId, string dim, List<(DateTime From, DateTime To)> ranges)
    {
        var row = Expression.Parameter(typeof(AnalyticsRollup), "r");
        Expression Equal<T>(string property, T value) =>
            Expression.Equal(Expression.Property(row, property), Expression.Field(Expression.Constant(new Bound<T>(value)), nameof(Bound<T>.Value)));
        var bucket = Expression.Property(row, nameof(AnalyticsRollup.Bucket));
        Expression? any = null;
        foreach (var (from, to) in ranges)
        {
            var within = Expression.AndAlso(
                Expression.AndAlso(Equal(nameof(AnalyticsRollup.ScopeId), scopeId), Equal(nameof(AnalyticsRollup.Dim), dim)),
                Expression.AndAlso(
                    Expression.GreaterThanOrEqual(bucket, Expression.Field(Expression.Constant(new Bound<DateTime>(from)), nameof(Bound<DateTime>.Value))),
                    Expression.LessThan(bucket, Expression.Field(Expression.Constant(new Bound<DateTime>(to)), nameof(Bound<DateTime>.Value)))));
            any = any is null ? within : Expression.OrElse(any, within);
        }

        return Expression.Lambda<Func<AnalyticsRollup, bool>>(any!, row);
    }

    private sealed class Bound<T>(T value)
    {
        public readonly T Value = value;
    }

    /// <summary>A dimension's rows over some ranges, summed per value by the database.</summary>
    private async Task<Dictionary<string, RollupSums>> SliceAsync(string scopeId, string dim, List<(DateTime From, DateTime To)> ranges, CancellationToken cancellationToken)
    {
        var slice = new Dictionary<string, RollupSums>(StringComparer.Ordinal);
        if (ranges.Count > 0)
        {
            var rows = await db.AnalyticsRollups.AsNoTracking()
                .Where(InRanges(scopeId, dim, ranges))
                .GroupBy(r => r.DimKey)
                .Select(g => new
                {
                    g.Key,
                    Succeeded = g.Sum(r => r.Succeeded),
                    Failed = g.Sum(r => r.Failed),
                    Compensated = g.Sum(r => r.Compensated),
                    Halted = g.Sum(r => r.Halted),
                    DurationMs = g.Sum(r => r.DurationMs),
                    Calls = g.Sum(r => r.Calls),
                    InputTokens = g.Sum(r => r.InputTokens),
                    OutputTokens = g.Sum(r => r.OutputTokens),
                    CachedInputTokens = g.Sum(r => r.CachedInputTokens),
                    CostNanos = g.Sum(r => r.CostNanos),
                })
                .ToListAsync(cancellationToken);
            foreach (var r in rows)
            {
                var sums = new RollupSums
                {
                    Succeeded = r.Succeeded, Failed = r.Failed, Compensated = r.Compensated, Halted = r.Halted, DurationMs = r.DurationMs, Calls = r.Calls,
                    InputTokens = r.InputTokens, OutputTokens = r.OutputTokens, CachedInputTokens = r.CachedInputTokens, CostNanos = r.CostNanos,
                };
                AddTo(slice, r.Key, sums);
            }
        }

        return slice;
    }

    /// <summary>Adds a slice value's sums into a breakdown, taking the first as it is.</summary>
    private static void AddTo(Dictionary<string, RollupSums> slice, string key, RollupSums sums)
    {
        if (slice.TryGetValue(key, out var into))
        {
            into.Add(sums);
        }
        else
        {
            slice[key] = sums;
        }
    }

    private async Task<string?> WorkspaceTimeZoneAsync(string workspaceId, CancellationToken cancellationToken)
    {
        var settings = await db.Workspaces.AsNoTracking().Where(w => w.Id == workspaceId).Select(w => w.Settings).FirstOrDefaultAsync(cancellationToken);
        return WorkspaceService.TimeZone(settings);
    }

    private static string NameKey(string dim, string key) => dim == Dims.Version && key.Contains('@', StringComparison.Ordinal)
        ? Contributions.ParseVersionKey(key).PersonaId
        : key;

    /// <summary>The names of the personas and workflows the breakdowns mention (those that still exist).</summary>
    private async Task<Dictionary<string, string>> NamesAsync(string workspaceId, Dictionary<string, Dictionary<string, RollupSums>> slices, CancellationToken cancellationToken)
    {
        var ids = slices.Where(s => s.Key is Dims.Persona or Dims.Workflow or Dims.Version)
            .SelectMany(s => s.Value.Keys.Select(k => NameKey(s.Key, k)))
            .ToHashSet(StringComparer.Ordinal);
        var personaIds = ids.Where(i => i.StartsWith(Persona.IdPrefix + "_", StringComparison.Ordinal)).ToList();
        var workflowIds = ids.Where(i => i.StartsWith(Workflow.IdPrefix + "_", StringComparison.Ordinal)).ToList();
        var names = new Dictionary<string, string>(StringComparer.Ordinal);
        if (personaIds.Count > 0)
        {
            foreach (var p in await db.Personas.AsNoTracking().Where(p => p.WorkspaceId == workspaceId && personaIds.Contains(p.Id)).Select(p => new { p.Id, p.Name }).ToListAsync(cancellationToken))
            {
                names[p.Id] = p.Name;
            }
        }

        if (workflowIds.Count > 0)
        {
            foreach (var w in await db.Workflows.AsNoTracking().Where(w => w.WorkspaceId == workspaceId && workflowIds.Contains(w.Id)).Select(w => new { w.Id, w.Name }).ToListAsync(cancellationToken))
            {
                names[w.Id] = w.Name;
            }
        }

        return names;
    }

    internal static AnalyticsKpis Kpis(RollupSums sums) => new(
        sums.Runs,
        sums.Succeeded,
        sums.Failed,
        sums.Compensated,
        sums.Halted,
        Rate(sums),
        sums.Durations?.Quantile(0.5) / 1000,
        sums.Durations?.Quantile(0.95) / 1000,
        sums.Runs > 0 ? sums.DurationMs / 1000.0 / sums.Runs : null,
        Money.Usd(sums.CostNanos),
        sums.Runs > 0 ? decimal.Round(Money.Usd(sums.CostNanos) / sums.Runs, 9) : null,
        sums.Calls,
        sums.InputTokens,
        sums.OutputTokens,
        sums.CachedInputTokens,
        sums.Approvals,
        sums.ApprovalWaitMs / 1000.0,
        sums.Approvals > 0 ? sums.ApprovalWaitMs / 1000.0 / sums.Approvals : null);

    private static AnalyticsPoint Point(Period period, RollupSums sums) => new(
        AnalyticsCalendar.Label(period.Label),
        period.Start,
        period.End,
        sums.Runs,
        sums.Succeeded,
        sums.Failed,
        sums.Compensated,
        sums.Halted,
        Rate(sums),
        Money.Usd(sums.CostNanos),
        sums.InputTokens,
        sums.OutputTokens,
        sums.CachedInputTokens,
        sums.Approvals);

    private static AnalyticsSlice Slice(string key, string? name, RollupSums sums, long scopeCostNanos) => new(
        key,
        name,
        sums.Runs,
        sums.Succeeded,
        sums.Failed,
        Rate(sums),
        sums.Runs > 0 ? sums.DurationMs / 1000.0 / sums.Runs : null,
        Money.Usd(sums.CostNanos),
        scopeCostNanos > 0 ? (double)sums.CostNanos / scopeCostNanos : null,
        sums.Calls,
        sums.InputTokens,
        sums.OutputTokens,
        sums.CachedInputTokens);

    private static double? Rate(RollupSums sums) => sums.Ended > 0 ? (double)sums.Succeeded / sums.Ended : null;
}
