namespace Cadre.Common;

/// <summary>What an import did, or would do in a dry run, to one item.</summary>
/// <param name="Action"><c>create</c>, <c>update</c>, <c>unchanged</c> or <c>error</c>.</param>
/// <param name="Changes">For an update: the fields that change, with their values before and after.</param>
public sealed record ImportItemResult(int Index, string? Name, string Action, string? Id, int Status, IReadOnlyList<FieldChange>? Changes, BulkItemError? Error);

public sealed record ImportSummary(int Create, int Update, int Unchanged, int Error);

public sealed record ImportResponse(bool DryRun, string Mode, ImportSummary Summary, IReadOnlyList<ImportItemResult> Results)
{
    /// <summary>The report of a run over items, counted by action.</summary>
    public static ImportResponse Of(bool dryRun, string mode, IReadOnlyList<ImportItemResult> results)
    {
        ArgumentNullException.ThrowIfNull(results);
        var summary = new ImportSummary(
            results.Count(r => r.Action == "create"),
            results.Count(r => r.Action == "update"),
            results.Count(r => r.Action == "unchanged"),
            results.Count(r => r.Action == "error"));
        return new ImportResponse(dryRun, mode, summary, results);
    }
}
