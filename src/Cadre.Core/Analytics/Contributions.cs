using System.Text.Json;

namespace Cadre.Analytics;

/// <summary>
/// What each fact adds to which rollup rows. The drain folds facts with it, and queries apply it to
/// facts not folded yet, so both read the same figures.
/// </summary>
internal static class Contributions
{
    /// <summary>The quarter hour (UTC) a moment falls in.</summary>
    public static DateTime QuarterOf(DateTime at)
    {
        const long quarter = TimeSpan.TicksPerMinute * 15;
        return new DateTime(at.Ticks - (at.Ticks % quarter), DateTimeKind.Utc);
    }

    /// <summary>The UTC day a moment falls in.</summary>
    public static DateTime DayOf(DateTime at) => new(at.Ticks - (at.Ticks % TimeSpan.TicksPerDay), DateTimeKind.Utc);

    /// <summary>
    /// Adds <paramref name="fact"/>'s shares into <paramref name="into"/>, by row: its quarter hour's rows,
    /// and with <paramref name="days"/> its UTC day's rows too (<see cref="Dims.Daily"/>), which the drain keeps
    /// so long windows read a row per day rather than 96.
    /// </summary>
    public static void Add(AnalyticsFact fact, Dictionary<RollupKey, RollupSums> into, bool days = false)
    {
        ArgumentNullException.ThrowIfNull(fact);
        ArgumentNullException.ThrowIfNull(into);
        if (!days)
        {
            AddQuarter(fact, into);
            return;
        }

        var shares = new Dictionary<RollupKey, RollupSums>();
        AddQuarter(fact, shares);
        foreach (var (key, share) in shares)
        {
            Into(into, key).Add(share);
            Into(into, key with { Dim = Dims.Daily(key.Dim), Bucket = DayOf(key.Bucket) }).Add(share);
        }
    }

    private static RollupSums Into(Dictionary<RollupKey, RollupSums> into, RollupKey key)
    {
        if (!into.TryGetValue(key, out var sums))
        {
            sums = new RollupSums();
            into[key] = sums;
        }

        return sums;
    }

    private static void AddQuarter(AnalyticsFact fact, Dictionary<RollupKey, RollupSums> into)
    {
        var bucket = QuarterOf(fact.At);
        RollupSums Row(string scope, string dim, string key = "") => Into(into, new RollupKey(scope, dim, bucket, key));

        switch (fact.Kind)
        {
            case "run":
                AddRun(fact, Row);
                break;
            case "usage":
                AddUsage(fact, Row);
                break;
            case "approval":
                foreach (var sums in new[] { Row(fact.WorkflowId, Dims.Total), Row(fact.WorkspaceId, Dims.Total), Row(fact.WorkspaceId, Dims.Workflow, fact.WorkflowId) })
                {
                    sums.Approvals++;
                    sums.ApprovalWaitMs += fact.DurationMs;
                }

                break;
        }
    }

    private static void AddRun(AnalyticsFact fact, Func<string, string, string, RollupSums> row)
    {
        void Count(RollupSums sums, bool sketch) => sums.AddRun(fact.Status!, fact.Sign, fact.DurationMs, sketch);
        Count(row(fact.WorkflowId, Dims.Total, ""), true);
        Count(row(fact.WorkspaceId, Dims.Total, ""), true);
        Count(row(fact.WorkspaceId, Dims.Workflow, fact.WorkflowId), false);
        var versions = PersonaVersions(fact.Personas);
        foreach (var persona in versions.Select(v => v.PersonaId).Distinct(StringComparer.Ordinal))
        {
            Count(row(persona, Dims.Total, ""), true);
            Count(row(persona, Dims.Workflow, fact.WorkflowId), false);
            Count(row(fact.WorkspaceId, Dims.Persona, persona), false);
            Count(row(fact.WorkflowId, Dims.Persona, persona), false);
        }

        foreach (var (persona, version) in versions)
        {
            Count(row(fact.WorkflowId, Dims.Version, VersionKey(persona, version)), false);
            Count(row(persona, Dims.Version, version.ToString(System.Globalization.CultureInfo.InvariantCulture)), false);
        }
    }

    private static void AddUsage(AnalyticsFact fact, Func<string, string, string, RollupSums> row)
    {
        var model = fact.Model ?? "";
        List<RollupSums> rows =
        [
            row(fact.WorkflowId, Dims.Total, ""),
            row(fact.WorkflowId, Dims.Model, model),
            row(fact.WorkspaceId, Dims.Total, ""),
            row(fact.WorkspaceId, Dims.Model, model),
            row(fact.WorkspaceId, Dims.Workflow, fact.WorkflowId),
        ];
        if (fact.StepId is { } step)
        {
            rows.Add(row(fact.WorkflowId, Dims.Step, step));
        }

        if (fact.PersonaId is { } persona)
        {
            var version = fact.PersonaVersion ?? 0;
            rows.Add(row(fact.WorkflowId, Dims.Persona, persona));
            rows.Add(row(fact.WorkflowId, Dims.Version, VersionKey(persona, version)));
            rows.Add(row(fact.WorkspaceId, Dims.Persona, persona));
            rows.Add(row(persona, Dims.Total, ""));
            rows.Add(row(persona, Dims.Model, model));
            rows.Add(row(persona, Dims.Workflow, fact.WorkflowId));
            rows.Add(row(persona, Dims.Version, version.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        }

        foreach (var sums in rows)
        {
            sums.AddUsage(fact);
        }
    }

    public static string VersionKey(string personaId, int version) =>
        string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{personaId}@{version}");

    /// <summary>A run's <c>personas</c> column read back: each persona version it used.</summary>
    public static IReadOnlyList<(string PersonaId, int Version)> PersonaVersions(string? personas)
    {
        if (personas is null)
        {
            return [];
        }

        var list = JsonSerializer.Deserialize<string[]>(personas) ?? [];
        return [.. list.Select(ParseVersionKey)];
    }

    public static (string PersonaId, int Version) ParseVersionKey(string key)
    {
        var at = key.LastIndexOf('@');
        return (key[..at], int.Parse(key.AsSpan(at + 1), System.Globalization.CultureInfo.InvariantCulture));
    }
}
