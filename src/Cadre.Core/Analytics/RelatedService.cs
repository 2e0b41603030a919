using System.Text.Json.Nodes;
using Cadre.Common;
using Cadre.Llm;
using Cadre.Personas;
using Cadre.Storage;
using Cadre.Workflows;
using Microsoft.EntityFrameworkCore;

namespace Cadre.Analytics;

/// <summary>A workflow's connections: personas by version, skills, event types, child and parent workflows, and how persona edits reached its runs.</summary>
internal sealed class RelatedService(CadreDbContext db, StorageProvider storage, WorkflowService workflows)
{
    private const int RecentRuns = 20;
    private const int RunsForChanges = 200;

    public async Task<ServiceResult<RelatedResponse>> ForWorkflowAsync(string workspaceId, string idOrName, CancellationToken cancellationToken)
    {
        var workflow = await workflows.FindAsync(workspaceId, idOrName, tracking: false, cancellationToken);
        if (workflow is null)
        {
            return ServiceError.NotFound($"No workflow '{idOrName}' in this workspace.");
        }

        var spec = WorkflowJson.Deserialize(workflow.Definition);
        var steps = spec.Steps ?? [];
        var named = new HashSet<string>(StringComparer.Ordinal);
        AddIfStatic(named, spec.ExecutingAgent);
        foreach (var stage in new[] { spec.PersonaPipeline?.Designer, spec.PersonaPipeline?.Checker, spec.PersonaPipeline?.Optimizer })
        {
            AddIfStatic(named, stage?.Persona);
        }

        foreach (var step in steps)
        {
            AddIfStatic(named, (step.Input as JsonObject)?["persona"] is JsonValue persona && persona.TryGetValue<string>(out var reference) ? reference : null);
        }

        // The versions runs used, per persona, from the rollups (kept after retention deletes the runs) plus the facts not
        // folded yet, read in one snapshot as the analytics endpoints do, so a run that just ended counts at once.
        // Summed by the database: a year of a busy workflow is tens of thousands of quarter-hour rows per version.
        await using var snapshot = await storage.BeginSnapshotAsync(db, cancellationToken);
        var versionRows = await db.AnalyticsRollups.AsNoTracking().Where(r => r.ScopeId == workflow.Id && r.Dim == Dims.Version)
            .GroupBy(r => r.DimKey)
            .Select(g => new VersionSums(
                g.Key,
                g.Sum(r => r.Succeeded),
                g.Sum(r => r.Failed),
                g.Sum(r => r.Compensated),
                g.Sum(r => r.Halted),
                g.Sum(r => r.DurationMs),
                g.Sum(r => r.Calls),
                g.Sum(r => r.CostNanos),
                g.Where(r => r.Succeeded + r.Failed + r.Compensated + r.Halted != 0 || r.Calls != 0).Min(r => (DateTime?)r.Bucket),
                g.Where(r => r.Succeeded + r.Failed + r.Compensated + r.Halted != 0 || r.Calls != 0).Max(r => (DateTime?)r.Bucket)))
            .ToListAsync(cancellationToken);
        var pending = await db.AnalyticsFacts.AsNoTracking().Where(f => f.WorkspaceId == workflow.WorkspaceId && f.WorkflowId == workflow.Id).ToListAsync(cancellationToken);
        await snapshot.CommitAsync(cancellationToken);
        var uses = WithUnfolded(versionRows, pending, workflow.Id).ToDictionary(v => v.Key, Use, StringComparer.Ordinal);
        var usedIds = uses.Keys.Select(k => Contributions.ParseVersionKey(k).PersonaId).ToHashSet(StringComparer.Ordinal);

        var personaRows = await db.Personas.AsNoTracking()
            .Where(p => p.WorkspaceId == workflow.WorkspaceId && (named.Contains(p.Name) || named.Contains(p.Id) || usedIds.Contains(p.Id)))
            .ToListAsync(cancellationToken);
        var namedIds = personaRows.Where(p => named.Contains(p.Id) || (named.Contains(p.Name) && p.DeletedAt == null)).Select(p => p.Id).ToHashSet(StringComparer.Ordinal);
        var byId = personaRows.ToDictionary(p => p.Id, StringComparer.Ordinal);
        var related = namedIds.Union(usedIds).Order(StringComparer.Ordinal).Select(id => new RelatedPersona(
            id,
            byId.GetValueOrDefault(id)?.Name,
            byId.GetValueOrDefault(id)?.Version,
            namedIds.Contains(id),
            [.. uses.Where(u => Contributions.ParseVersionKey(u.Key).PersonaId == id).Select(u => u.Value).OrderBy(v => v.Version)])).ToList();

        var skills = new SortedSet<string>(spec.SkillIds ?? [], StringComparer.Ordinal);
        foreach (var persona in personaRows.Where(p => namedIds.Contains(p.Id)))
        {
            foreach (var skill in PersonaJson.Deserialize(persona.Definition).Skills ?? [])
            {
                if (skill.Ref is { } reference)
                {
                    skills.Add(reference);
                }
            }
        }

        var eventTypes = new SortedSet<string>(StringComparer.Ordinal);
        if (workflow.TriggerEventType is { } triggerType)
        {
            eventTypes.Add(triggerType);
        }

        foreach (var step in steps.Where(s => s.Activity?.UniqueIdentifier is "emit_event" or "wait_for_event"))
        {
            AddIfStatic(eventTypes, StaticString(step.Input, "type"));
        }

        return new RelatedResponse(
            related,
            [.. skills],
            [.. eventTypes],
            await ChildrenAsync(workflow, steps, cancellationToken),
            await ParentsAsync(workflow, cancellationToken),
            await RecentAsync(workflow.Id, cancellationToken),
            await ChangesAsync(workflow.Id, uses, byId, cancellationToken));
    }

    private async Task<List<RelatedWorkflow>> ChildrenAsync(Workflow workflow, IReadOnlyList<WorkflowStep> steps, CancellationToken cancellationToken)
    {
        var calls = steps.Where(s => s.Activity?.UniqueIdentifier == "run_workflow" && StaticString(s.Input, "workflow") is not null)
            .GroupBy(s => StaticString(s.Input, "workflow")!, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Select(s => s.Id!).ToList(), StringComparer.Ordinal);
        if (calls.Count == 0)
        {
            return [];
        }

        var references = calls.Keys.ToList();
        var children = await db.Workflows.AsNoTracking()
            .Where(w => w.WorkspaceId == workflow.WorkspaceId && (references.Contains(w.Id) || (references.Contains(w.Name) && w.DeletedAt == null)))
            .Select(w => new { w.Id, w.Name }).ToListAsync(cancellationToken);
        return [.. children.OrderBy(c => c.Name, StringComparer.Ordinal)
            .Select(c => new RelatedWorkflow(c.Id, c.Name, [.. calls.GetValueOrDefault(c.Id, []).Concat(calls.GetValueOrDefault(c.Name, [])).Order(StringComparer.Ordinal)]))];
    }

    private async Task<List<RelatedWorkflow>> ParentsAsync(Workflow workflow, CancellationToken cancellationToken)
    {
        // Only definitions that mention run_workflow and this workflow at all are read whole.
        var candidates = await db.Workflows.AsNoTracking()
            .Where(w => w.WorkspaceId == workflow.WorkspaceId && w.Id != workflow.Id && w.DeletedAt == null
                && w.Definition.Contains("run_workflow") && (w.Definition.Contains(workflow.Name) || w.Definition.Contains(workflow.Id)))
            .Select(w => new { w.Id, w.Name, w.Definition }).ToListAsync(cancellationToken);
        var parents = new List<RelatedWorkflow>();
        foreach (var candidate in candidates.OrderBy(c => c.Name, StringComparer.Ordinal))
        {
            var callers = (WorkflowJson.Deserialize(candidate.Definition).Steps ?? [])
                .Where(s => s.Activity?.UniqueIdentifier == "run_workflow" && StaticString(s.Input, "workflow") is { } target && (target == workflow.Name || target == workflow.Id))
                .Select(s => s.Id!).Order(StringComparer.Ordinal).ToList();
            if (callers.Count > 0)
            {
                parents.Add(new RelatedWorkflow(candidate.Id, candidate.Name, callers));
            }
        }

        return parents;
    }

    private async Task<List<RelatedRun>> RecentAsync(string workflowId, CancellationToken cancellationToken)
    {
        var runs = await db.Runs.AsNoTracking().Where(r => r.WorkflowId == workflowId).OrderByDescending(r => r.Number).Take(RecentRuns)
            .Select(r => new { r.Id, r.DisplayId, r.Status, r.CreatedAt, r.FinishedAt, r.CostNanos, r.Personas }).ToListAsync(cancellationToken);
        return [.. runs.Select(r => new RelatedRun(
            r.Id, r.DisplayId, r.Status, r.CreatedAt, r.FinishedAt, Money.Usd(r.CostNanos),
            [.. Contributions.PersonaVersions(r.Personas).Select(v => new RunPersonaVersion(v.PersonaId, v.Version))]))];
    }

    private async Task<List<PersonaVersionChange>> ChangesAsync(
        string workflowId, Dictionary<string, PersonaVersionUse> uses, Dictionary<string, Persona> personas, CancellationToken cancellationToken)
    {
        var runs = await db.Runs.AsNoTracking().Where(r => r.WorkflowId == workflowId && r.Personas != null).OrderByDescending(r => r.Number).Take(RunsForChanges)
            .Select(r => new { r.Id, r.DisplayId, r.CreatedAt, r.Personas }).ToListAsync(cancellationToken);
        runs.Reverse();
        var last = new Dictionary<string, int>(StringComparer.Ordinal);
        var changes = new List<PersonaVersionChange>();
        foreach (var run in runs)
        {
            foreach (var (personaId, version) in Contributions.PersonaVersions(run.Personas))
            {
                if (last.TryGetValue(personaId, out var before) && before != version)
                {
                    changes.Add(new PersonaVersionChange(
                        personaId, personas.GetValueOrDefault(personaId)?.Name, before, version, run.Id, run.DisplayId, run.CreatedAt,
                        uses.GetValueOrDefault(Contributions.VersionKey(personaId, before)), uses.GetValueOrDefault(Contributions.VersionKey(personaId, version))));
                }

                last[personaId] = version;
            }
        }

        changes.Reverse();
        return changes;
    }

    private sealed record VersionSums(
        string Key, long Succeeded, long Failed, long Compensated, long Halted, long DurationMs, long Calls, long CostNanos, DateTime? FirstSeen, DateTime? LastSeen);

    /// <summary>The rollups' sums per version with the unfolded facts' contributions added, by the drain's own rules.</summary>
    private static List<VersionSums> WithUnfolded(List<VersionSums> folded, List<AnalyticsFact> pending, string workflowId)
    {
        var unfolded = new Dictionary<RollupKey, RollupSums>();
        foreach (var fact in pending)
        {
            Contributions.Add(fact, unfolded);
        }

        var byKey = folded.ToDictionary(v => v.Key, StringComparer.Ordinal);
        foreach (var (key, sums) in unfolded.Where(u => u.Key.ScopeId == workflowId && u.Key.Dim == Dims.Version))
        {
            var active = sums.Runs != 0 || sums.Calls != 0;
            byKey[key.DimKey] = byKey.TryGetValue(key.DimKey, out var rows)
                ? new VersionSums(
                    key.DimKey, rows.Succeeded + sums.Succeeded, rows.Failed + sums.Failed, rows.Compensated + sums.Compensated, rows.Halted + sums.Halted,
                    rows.DurationMs + sums.DurationMs, rows.Calls + sums.Calls, rows.CostNanos + sums.CostNanos,
                    active && (rows.FirstSeen is null || key.Bucket < rows.FirstSeen) ? key.Bucket : rows.FirstSeen,
                    active && (rows.LastSeen is null || key.Bucket > rows.LastSeen) ? key.Bucket : rows.LastSeen)
                : new VersionSums(
                    key.DimKey, sums.Succeeded, sums.Failed, sums.Compensated, sums.Halted, sums.DurationMs, sums.Calls, sums.CostNanos,
                    active ? key.Bucket : null, active ? key.Bucket : null);
        }

        return [.. byKey.Values];
    }

    private static PersonaVersionUse Use(VersionSums rows)
    {
        var sums = new RollupSums
        {
            Succeeded = rows.Succeeded, Failed = rows.Failed, Compensated = rows.Compensated, Halted = rows.Halted,
            DurationMs = rows.DurationMs, Calls = rows.Calls, CostNanos = rows.CostNanos,
        };
        var version = Contributions.ParseVersionKey(rows.Key).Version;
        return new PersonaVersionUse(
            version, sums.Runs, sums.Succeeded, sums.Failed, sums.Ended > 0 ? (double)sums.Succeeded / sums.Ended : null,
            sums.Runs > 0 ? sums.DurationMs / 1000.0 / sums.Runs : null, Money.Usd(sums.CostNanos), sums.Calls,
            rows.FirstSeen, rows.LastSeen);
    }

    private static string? StaticString(JsonNode? input, string member) =>
        (input as JsonObject)?[member] is JsonValue value && value.TryGetValue<string>(out var text) ? text : null;

    /// <summary>Adds a reference written as plain text; a template (<c>{{ … }}</c>) is only known at run time.</summary>
    private static void AddIfStatic(ISet<string> set, string? reference)
    {
        if (!string.IsNullOrEmpty(reference) && !reference.Contains("{{", StringComparison.Ordinal))
        {
            set.Add(reference);
        }
    }
}
