using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Cadre.Auth;
using Cadre.Common;
using Cadre.Storage;
using Cadre.Triggers;
using Microsoft.EntityFrameworkCore;

namespace Cadre.Workflows;

/// <summary>
/// Workflow definitions: create, read, list with filters, change (every change a new, snapshotted
/// version), rename, activate, the bin (soft delete, restore, purge), duplicates, history and
/// webhook tokens. Every change of a definition goes through <see cref="SaveAsync"/>.
/// </summary>
internal sealed partial class WorkflowService(
    CadreDbContext db, StorageProvider storage, IdGenerator ids, TimeProvider time, ActorService actors, ISecretProtector secrets, EventTypeService eventTypes,
    ScheduleSignal scheduleSignal)
{
    public const string WebhookPathPrefix = "/hooks/";

    public Task<ServiceResult<WorkflowResponse>> CreateAsync(string workspaceId, WorkflowSpec spec, Caller caller, CancellationToken cancellationToken) =>
        AddAsync(workspaceId, spec, caller, "created", cancellationToken);

    /// <summary>Adds a workflow at version 1 with a new webhook token; <paramref name="change"/> records why (created, imported).</summary>
    internal async Task<ServiceResult<WorkflowResponse>> AddAsync(string workspaceId, WorkflowSpec spec, Caller caller, string change, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(caller);
        var checkedSpec = await CheckAsync(workspaceId, spec, cancellationToken);
        if (checkedSpec.Error is { } invalid)
        {
            return invalid;
        }

        var (normalized, personaIds) = checkedSpec.Value;
        var now = time.GetUtcNowTruncated();
        var token = NewWebhookToken();
        var workflow = new Workflow
        {
            Id = ids.NewId(Workflow.IdPrefix),
            WorkspaceId = workspaceId,
            Name = normalized.Name!,
            Title = normalized.Title!,
            Type = normalized.Type!,
            SubType = normalized.SubType!,
            Definition = "",
            Version = 0,
            WebhookTokenHash = HashToken(token),
            WebhookTokenProtected = secrets.Protect(token),
            CreatedBy = caller.ActorId,
            UpdatedBy = caller.ActorId,
            CreatedAt = now,
            UpdatedAt = now,
        };
        db.Workflows.Add(workflow);
        return await SaveAsync(workflow, normalized, personaIds, caller, change, conditional: false, cancellationToken);
    }

    /// <summary>A workflow by ID (live or in the bin) or by name (live only), or null.</summary>
    public async Task<WorkflowResponse?> GetAsync(string workspaceId, string idOrName, CancellationToken cancellationToken) =>
        await FindAsync(workspaceId, idOrName, tracking: false, cancellationToken) is { } workflow
            ? await ToResponseAsync(workflow, cancellationToken)
            : null;

    public async Task<ServiceResult<Page<WorkflowSummary>>> ListAsync(string workspaceId, WorkflowQuery filter, PageRequest page, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(filter);
        var errors = new ValidationErrors();
        var query = await FilterAsync(workspaceId, filter, errors, cancellationToken);
        var sort = filter.Sort ?? "-createdAt";
        var descending = sort.StartsWith('-');
        if (sort.TrimStart('-') is not ("createdAt" or "updatedAt" or "name" or "title") || sort.StartsWith("--", StringComparison.Ordinal))
        {
            errors.Add("sort", "Must be createdAt, updatedAt, name or title, with a leading - for descending.");
        }

        if (!errors.IsEmpty)
        {
            return ServiceError.Validation(errors);
        }

        // IDs are time-ordered, so creation order is ID order.
        var found = sort.TrimStart('-') switch
        {
            "createdAt" => await query.ToSortedPageAsync(new SortKey<Workflow, string>(sort, w => w.Id, descending, SortKeys.Text, SortKeys.TryText), w => w.Id, page, cancellationToken),
            "name" => await query.ToSortedPageAsync(new SortKey<Workflow, string>(sort, w => w.Name, descending, SortKeys.Text, SortKeys.TryText), w => w.Id, page, cancellationToken),
            "title" => await query.ToSortedPageAsync(new SortKey<Workflow, string>(sort, w => w.Title, descending, SortKeys.Text, SortKeys.TryText), w => w.Id, page, cancellationToken),
            _ => await query.ToSortedPageAsync(new SortKey<Workflow, DateTime>(sort, w => w.UpdatedAt, descending, SortKeys.Time, SortKeys.TryTime), w => w.Id, page, cancellationToken),
        };
        if (found is null)
        {
            return ServiceError.Validation("cursor", "Belongs to another sort order; start again from the first page.");
        }

        var resolved = await actors.ResolveAsync(found.Items.SelectMany(w => new[] { w.CreatedBy, w.UpdatedBy }), cancellationToken);
        var lastRuns = await LastRunsAsync([.. found.Items.Select(w => w.Id)], cancellationToken);
        return found.Map(w => ToSummary(w, resolved, lastRuns.GetValueOrDefault(w.Id)));
    }

    /// <summary>Each workflow's latest run: one index probe per workflow on (workflow_id, id), then the runs by key.</summary>
    private async Task<Dictionary<string, LastRunSummary>> LastRunsAsync(IReadOnlyList<string> workflowIds, CancellationToken cancellationToken)
    {
        // A scalar subquery per workflow (ORDER BY id DESC LIMIT 1 on the index) rather than a GROUP BY, which would
        // read every run of each workflow; SQLite has no APPLY, so the runs themselves are a second read by key.
        var latestIds = await db.Workflows.AsNoTracking()
            .Where(w => workflowIds.Contains(w.Id))
            .Select(w => db.Runs.Where(r => r.WorkflowId == w.Id).OrderByDescending(r => r.Id).Select(r => r.Id).FirstOrDefault())
            .Where(id => id != null)
            .ToListAsync(cancellationToken);
        return await db.Runs.AsNoTracking()
            .Where(r => latestIds.Contains(r.Id))
            .Select(r => new { r.WorkflowId, Summary = new LastRunSummary(r.Id, r.Number, r.Status, r.CreatedAt, r.FinishedAt) })
            .ToDictionaryAsync(r => r.WorkflowId, r => r.Summary, cancellationToken);
    }

    /// <summary>Every workflow a filter matches (no paging), by name, for export.</summary>
    internal async Task<ServiceResult<List<Workflow>>> AllAsync(string workspaceId, WorkflowQuery filter, CancellationToken cancellationToken)
    {
        var errors = new ValidationErrors();
        var query = await FilterAsync(workspaceId, filter, errors, cancellationToken);
        return errors.IsEmpty
            ? await query.OrderBy(w => w.Name).ThenBy(w => w.Id).ToListAsync(cancellationToken)
            : ServiceError.Validation(errors);
    }

    /// <summary>Applies a JSON Merge Patch to the definition and saves the result as a new version.</summary>
    public async Task<ServiceResult<WorkflowResponse>> PatchAsync(
        string workspaceId, string idOrName, JsonObject patch, Caller caller, VersionPrecondition? precondition, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(patch);
        var workflow = await FindAsync(workspaceId, idOrName, tracking: true, cancellationToken);
        if (workflow is null)
        {
            return NotFound(idOrName);
        }

        // The graph is laid out from the steps when absent: a patch that changes the steps without a graph gets a fresh layout.
        if ((patch.ContainsKey("steps") || patch.ContainsKey("personaPipeline")) && !patch.ContainsKey("graph"))
        {
            patch = patch.DeepClone().AsObject();
            patch["graph"] = null;
        }

        var merged = ApplyPatch(workflow.Definition, patch);
        return merged.Error is { } invalid ? invalid : await ReplaceAsync(workflow, merged.Value!, caller, precondition, "updated", cancellationToken);
    }

    public async Task<ServiceResult<WorkflowResponse>> RenameAsync(
        string workspaceId, string idOrName, RenameWorkflowRequest request, Caller caller, VersionPrecondition? precondition, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Name is null)
        {
            return ServiceError.Validation("name", "Is required: the new name.");
        }

        var workflow = await FindAsync(workspaceId, idOrName, tracking: true, cancellationToken);
        if (workflow is null)
        {
            return NotFound(idOrName);
        }

        var spec = WorkflowJson.Deserialize(workflow.Definition);
        // The title follows the name unless it was set apart from it, or a new one is given.
        var title = request.Title ?? (spec.Title == spec.Name ? request.Name : spec.Title);
        return await ReplaceAsync(workflow, spec with { Name = request.Name, Title = title }, caller, precondition, "renamed", cancellationToken);
    }

    public async Task<ServiceResult<WorkflowResponse>> SetActiveAsync(
        string workspaceId, string idOrName, bool active, Caller caller, VersionPrecondition? precondition, CancellationToken cancellationToken)
    {
        var workflow = await FindAsync(workspaceId, idOrName, tracking: true, cancellationToken);
        if (workflow is null)
        {
            return NotFound(idOrName);
        }

        var spec = WorkflowJson.Deserialize(workflow.Definition);
        return await ReplaceAsync(workflow, spec with { IsActive = active }, caller, precondition, active ? "activated" : "deactivated", cancellationToken);
    }

    /// <summary>Saves <paramref name="spec"/> as the workflow's next version, unless nothing changed.</summary>
    internal async Task<ServiceResult<WorkflowResponse>> ReplaceAsync(
        Workflow workflow, WorkflowSpec spec, Caller caller, VersionPrecondition? precondition, string change, CancellationToken cancellationToken)
    {
        if (workflow.DeletedAt is not null)
        {
            return ServiceError.Conflict($"Workflow '{workflow.Name}' is in the bin; restore it before changing it.");
        }

        if (precondition is not null && !precondition.IsMetBy(workflow.Version))
        {
            return ServiceError.PreconditionFailed($"{precondition.Describe()}, but workflow '{workflow.Name}' is at version {workflow.Version}. Read it again and retry.");
        }

        var checkedSpec = await CheckAsync(workflow.WorkspaceId, spec, cancellationToken);
        if (checkedSpec.Error is { } invalid)
        {
            return invalid;
        }

        var (normalized, personaIds) = checkedSpec.Value;
        if (WorkflowJson.Serialize(normalized) == workflow.Definition)
        {
            return await ToResponseAsync(workflow, cancellationToken);
        }

        workflow.UpdatedAt = time.GetUtcNowTruncated();
        workflow.UpdatedBy = caller.ActorId;
        return await SaveAsync(workflow, normalized, personaIds, caller, change, precondition is not null, cancellationToken);
    }

    /// <summary>Moves a workflow to the bin: hidden from lists and name lookups, its name free, its triggers silent, restorable.</summary>
    public async Task<ServiceResult<WorkflowResponse>> DeleteAsync(
        string workspaceId, string idOrName, Caller caller, VersionPrecondition? precondition, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(caller);
        var workflow = await FindAsync(workspaceId, idOrName, tracking: true, cancellationToken);
        if (workflow is null)
        {
            return NotFound(idOrName);
        }

        return await WithScheduleAsync(workflow, () => Bin.MoveAsync(db, workflow, "workflow", caller, precondition, time.GetUtcNowTruncated(), cancellationToken), cancellationToken) is { } error
            ? error
            : await ToResponseAsync(workflow, cancellationToken);
    }

    /// <summary>Takes a workflow out of the bin, if its name is still free. A restored workflow keeps whether it was active.</summary>
    public async Task<ServiceResult<WorkflowResponse>> RestoreAsync(string workspaceId, string id, CancellationToken cancellationToken)
    {
        var workflow = await FindAsync(workspaceId, id, tracking: true, cancellationToken);
        if (workflow is null)
        {
            return NotFound(id);
        }

        return await WithScheduleAsync(workflow, () => Bin.RestoreAsync(db, storage, workflow, "workflow", cancellationToken), cancellationToken) is { } error
            ? error
            : await ToResponseAsync(workflow, cancellationToken);
    }

    /// <summary>Moves a workflow into or out of the bin and, for a schedule workflow, silences or resumes its schedule in the same transaction.</summary>
    private async Task<ServiceError?> WithScheduleAsync(Workflow workflow, Func<Task<ServiceError?>> change, CancellationToken cancellationToken)
    {
        if (workflow.Type != "schedule")
        {
            return await change();
        }

        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        if (await change() is { } error)
        {
            return error;
        }

        await ScheduleSync.SyncAsync(db, workflow, time.GetUtcNowTruncated(), cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        scheduleSignal.Changed();
        return null;
    }

    /// <summary>Deletes a workflow for good, with its history.</summary>
    public async Task<ServiceResult<bool>> PurgeAsync(string workspaceId, string id, CancellationToken cancellationToken)
    {
        var workflow = await FindAsync(workspaceId, id, tracking: false, cancellationToken);
        if (workflow is null)
        {
            return NotFound(id);
        }

        // The cascade takes row locks on the workflow's runs and tasks while workers may be committing on them, so
        // PostgreSQL can pick this statement as a deadlock victim. It is one idempotent statement: try it again.
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await db.Workflows.Where(w => w.Id == workflow.Id).ExecuteDeleteAsync(cancellationToken);
                // Its own analytics go with it; the workspace's and personas' keep what it cost.
                await db.AnalyticsRollups.Where(r => r.ScopeId == workflow.Id).ExecuteDeleteAsync(cancellationToken);
                return true;
            }
            catch (Exception ex) when (attempt < PurgeAttempts && storage.IsTransientFailure(ex))
            {
                await Task.Delay(TimeSpan.FromMilliseconds(50 * attempt), time, cancellationToken);
            }
        }
    }

    private const int PurgeAttempts = 5;

    /// <summary>Copies a workflow (steps, persona pipeline, graph) under a new name, inactive, with its own webhook token.</summary>
    public async Task<ServiceResult<WorkflowResponse>> DuplicateAsync(
        string workspaceId, string idOrName, DuplicateWorkflowRequest request, Caller caller, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var workflow = await FindAsync(workspaceId, idOrName, tracking: false, cancellationToken);
        if (workflow is null)
        {
            return NotFound(idOrName);
        }

        var spec = WorkflowJson.Deserialize(workflow.Definition);
        var name = request.Name ?? await FreeCopyNameAsync(workspaceId, workflow.Name, cancellationToken);
        var title = request.Title ?? (spec.Title!.Length <= 193 ? $"{spec.Title} (copy)" : spec.Title);
        return await AddAsync(workspaceId, spec with { Name = name, Title = title, IsActive = false }, caller, "created", cancellationToken);
    }

    public async Task<ServiceResult<BulkResponse>> BulkDeleteAsync(string workspaceId, BulkDeleteWorkflowsRequest request, Caller caller, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (Bulk.Check(request.Items) is { } error)
        {
            return error;
        }

        var results = new List<BulkItemResult>();
        for (var i = 0; i < request.Items!.Count; i++)
        {
            var result = request.Items[i] is { } idOrName
                ? await DeleteAsync(workspaceId, idOrName, caller, null, cancellationToken)
                : ServiceError.Validation("body", "Must be a workflow ID or name.");
            results.Add(Bulk.Outcome(i, result, w => w.Id, 200));
        }

        return new BulkResponse(results);
    }

    public async Task<ServiceResult<Page<WorkflowVersionSummary>>> ListVersionsAsync(
        string workspaceId, string idOrName, PageRequest page, CancellationToken cancellationToken)
    {
        var workflow = await FindAsync(workspaceId, idOrName, tracking: false, cancellationToken);
        if (workflow is null)
        {
            return NotFound(idOrName);
        }

        var versions = await db.WorkflowVersions.AsNoTracking().Where(v => v.WorkflowId == workflow.Id)
            .ToSortedPageAsync(new SortKey<WorkflowVersion, int>("-version", v => v.Version, true, SortKeys.Number, SortKeys.TryNumber), v => v.WorkflowId, page, cancellationToken);
        if (versions is null)
        {
            return ServiceError.Validation("cursor", "Belongs to another list; start again from the first page.");
        }

        var resolved = await actors.ResolveAsync(versions.Items.Select(v => v.CreatedBy), cancellationToken);
        return versions.Map(v =>
        {
            var spec = WorkflowJson.Deserialize(v.Definition);
            return new WorkflowVersionSummary(v.Version, v.Change, spec.Name!, spec.Title!, resolved.Find(v.CreatedBy), v.CreatedAt);
        });
    }

    public async Task<ServiceResult<WorkflowVersionResponse>> GetVersionAsync(string workspaceId, string idOrName, int version, CancellationToken cancellationToken)
    {
        var workflow = await FindAsync(workspaceId, idOrName, tracking: false, cancellationToken);
        if (workflow is null)
        {
            return NotFound(idOrName);
        }

        var found = await db.WorkflowVersions.AsNoTracking().FirstOrDefaultAsync(v => v.WorkflowId == workflow.Id && v.Version == version, cancellationToken);
        return found is null
            ? ServiceError.NotFound($"Workflow '{workflow.Name}' has no version {version}; it is at version {workflow.Version}.")
            : new WorkflowVersionResponse(found.Version, found.Change, await actors.ResolveAsync(found.CreatedBy, cancellationToken), found.CreatedAt, WorkflowJson.Deserialize(found.Definition));
    }

    /// <summary>The fields that differ between two versions.</summary>
    public async Task<ServiceResult<WorkflowDiffResponse>> DiffAsync(string workspaceId, string idOrName, int from, int to, CancellationToken cancellationToken)
    {
        var workflow = await FindAsync(workspaceId, idOrName, tracking: false, cancellationToken);
        if (workflow is null)
        {
            return NotFound(idOrName);
        }

        var versions = await db.WorkflowVersions.AsNoTracking().Where(v => v.WorkflowId == workflow.Id && (v.Version == from || v.Version == to))
            .ToDictionaryAsync(v => v.Version, v => v.Definition, cancellationToken);
        var errors = new ValidationErrors();
        foreach (var (field, number) in new[] { ("from", from), ("to", to) })
        {
            if (!versions.ContainsKey(number))
            {
                errors.Add(field, $"Workflow '{workflow.Name}' has no version {number}; it has versions 1 to {workflow.Version}.");
            }
        }

        return errors.IsEmpty
            ? new WorkflowDiffResponse(from, to, JsonDiff.Compare(JsonNode.Parse(versions[from]), JsonNode.Parse(versions[to])))
            : ServiceError.Validation(errors);
    }

    /// <summary>Saves an earlier version's definition as the next version (the current one stays in the history).</summary>
    public async Task<ServiceResult<WorkflowResponse>> RevertAsync(
        string workspaceId, string idOrName, int version, Caller caller, VersionPrecondition? precondition, CancellationToken cancellationToken)
    {
        var workflow = await FindAsync(workspaceId, idOrName, tracking: true, cancellationToken);
        if (workflow is null)
        {
            return NotFound(idOrName);
        }

        var target = await db.WorkflowVersions.AsNoTracking().FirstOrDefaultAsync(v => v.WorkflowId == workflow.Id && v.Version == version, cancellationToken);
        return target is null
            ? ServiceError.Validation("version", $"Workflow '{workflow.Name}' has no version {version}; it has versions 1 to {workflow.Version}.")
            : await ReplaceAsync(workflow, WorkflowJson.Deserialize(target.Definition), caller, precondition, "reverted", cancellationToken);
    }

    public async Task<ServiceResult<WebhookTokenResponse>> GetWebhookTokenAsync(string workspaceId, string idOrName, CancellationToken cancellationToken)
    {
        var workflow = await FindAsync(workspaceId, idOrName, tracking: false, cancellationToken);
        if (workflow is null)
        {
            return NotFound(idOrName);
        }

        return secrets.Unprotect(workflow.WebhookTokenProtected) is { } token
            ? new WebhookTokenResponse(token, WebhookPathPrefix + token)
            : ServiceError.Conflict($"The webhook token of '{workflow.Name}' cannot be read (the server's key ring changed); rotate it to make a new one.");
    }

    public static readonly TimeSpan MaxTokenGracePeriod = TimeSpan.FromDays(7);

    /// <summary>Replaces the webhook token: the old one stops working at once, or after the grace period.</summary>
    public async Task<ServiceResult<WebhookTokenResponse>> RotateWebhookTokenAsync(
        string workspaceId, string idOrName, RotateWebhookTokenRequest? request, CancellationToken cancellationToken)
    {
        var grace = TimeSpan.Zero;
        if (request?.GracePeriod is { } text && (!Durations.TryParse(text, out grace) || grace < TimeSpan.Zero || grace > MaxTokenGracePeriod))
        {
            return ServiceError.Validation("gracePeriod", "Must be a duration of at most 7d, such as 1h.");
        }

        var workflow = await FindAsync(workspaceId, idOrName, tracking: true, cancellationToken);
        if (workflow is null)
        {
            return NotFound(idOrName);
        }

        var token = NewWebhookToken();
        var until = grace > TimeSpan.Zero ? time.GetUtcNowTruncated() + grace : (DateTime?)null;
        // One previous token at a time: rotating again ends the older one's grace.
        workflow.PreviousWebhookTokenHash = until is null ? null : workflow.WebhookTokenHash;
        workflow.PreviousWebhookTokenExpiresAt = until;
        workflow.WebhookTokenHash = HashToken(token);
        workflow.WebhookTokenProtected = secrets.Protect(token);
        await db.SaveChangesAsync(cancellationToken);
        return new WebhookTokenResponse(token, WebhookPathPrefix + token, until);
    }

    /// <summary>A workflow by ID (live or binned) or by name (live only), tracked for changes when asked.</summary>
    internal Task<Workflow?> FindAsync(string workspaceId, string idOrName, bool tracking, CancellationToken cancellationToken)
    {
        var workflows = tracking ? db.Workflows : db.Workflows.AsNoTracking();
        return idOrName.StartsWith(Workflow.IdPrefix + "_", StringComparison.Ordinal)
            ? workflows.FirstOrDefaultAsync(w => w.Id == idOrName && w.WorkspaceId == workspaceId, cancellationToken)
            : workflows.FirstOrDefaultAsync(w => w.Name == idOrName && w.WorkspaceId == workspaceId && w.DeletedAt == null, cancellationToken);
    }

    /// <summary>Merges a patch into a stored definition and reads the result strictly, naming the field of any type error.</summary>
    internal static ServiceResult<WorkflowSpec> ApplyPatch(string definition, JsonObject patch)
    {
        var merged = JsonMergePatch.Apply(JsonNode.Parse(definition), patch);
        try
        {
            return merged.Deserialize<WorkflowSpec>(StrictJson.Options)!;
        }
        catch (JsonException ex)
        {
            var (field, message) = JsonErrors.Describe(ex, typeof(WorkflowSpec));
            return ServiceError.Validation(field, message);
        }
    }

    /// <summary>
    /// Normalises and validates a definition, then checks what only the database knows: that the
    /// owning team and every persona named literally exist in the workspace. Answers the persona IDs used.
    /// </summary>
    internal async Task<ServiceResult<(WorkflowSpec Spec, IReadOnlyList<string> PersonaIds)>> CheckAsync(
        string workspaceId, WorkflowSpec spec, CancellationToken cancellationToken)
    {
        var normalized = WorkflowRules.Normalize(spec);
        var errors = new ValidationErrors();
        WorkflowRules.Validate(normalized, errors);
        if (!errors.IsEmpty)
        {
            return ServiceError.Validation(errors);
        }

        if (normalized.TeamId is { } teamId && !await db.Teams.AnyAsync(t => t.Id == teamId && t.WorkspaceId == workspaceId, cancellationToken))
        {
            errors.Add("teamId", $"There is no team '{teamId}' in this workspace.");
        }

        // A pattern (ticket.*) may name types that do not exist yet; an exact name must be a known type, so a typo cannot silence a workflow.
        if (normalized.Type == "event" && normalized.Trigger?.EventType is { } eventType && !eventType.Contains('*', StringComparison.Ordinal)
            && !await eventTypes.ExistsAsync(workspaceId, eventType, cancellationToken))
        {
            errors.Add("trigger.eventType", $"There is no event type '{eventType}'; create it at …/event-types, or use a built-in one.");
        }

        var references = PersonaReferences(normalized).ToList();
        var wanted = references.Select(r => r.Reference).Distinct(StringComparer.Ordinal).ToList();
        var found = await db.Personas.AsNoTracking()
            .Where(p => p.WorkspaceId == workspaceId && p.DeletedAt == null && (wanted.Contains(p.Id) || wanted.Contains(p.Name)))
            .Select(p => new { p.Id, p.Name }).ToListAsync(cancellationToken);
        var personaIds = new List<string>();
        foreach (var (path, reference) in references)
        {
            var persona = found.FirstOrDefault(p => p.Id == reference || p.Name == reference);
            if (persona is null)
            {
                errors.Add(path, $"There is no persona '{reference}' in this workspace.");
            }
            else
            {
                personaIds.Add(persona.Id);
            }
        }

        return errors.IsEmpty ? (normalized, personaIds.Distinct(StringComparer.Ordinal).ToList()) : ServiceError.Validation(errors);
    }

    /// <summary>Every persona a definition names literally (a templated name is only known when it runs), with where.</summary>
    internal static IEnumerable<(string Path, string Reference)> PersonaReferences(WorkflowSpec spec)
    {
        if (spec.ExecutingAgent is { } agent)
        {
            yield return ("executingAgent", agent);
        }

        for (var i = 0; i < (spec.Steps?.Count ?? 0); i++)
        {
            if (spec.Steps![i] is { Activity.UniqueIdentifier: "agent" or "llm" or "triage", Input: JsonObject input }
                && input["persona"] is JsonValue value && value.TryGetValue<string>(out var persona) && !persona.Contains("{{", StringComparison.Ordinal))
            {
                yield return ($"steps[{i}].input.persona", persona);
            }
        }
    }

    /// <summary>The models the model steps name as written (<c>provider/model</c>), for lists; a templated one is only known at run time.</summary>
    internal static IEnumerable<string> ModelReferences(WorkflowSpec spec)
    {
        foreach (var step in spec.Steps ?? [])
        {
            if (step is { Activity.UniqueIdentifier: "agent" or "llm" or "triage", Input: JsonObject input } && input["model"] is JsonObject model
                && model["model"] is JsonValue name && name.TryGetValue<string>(out var modelName) && !modelName.Contains("{{", StringComparison.Ordinal))
            {
                var provider = model["provider"] is JsonValue p && p.TryGetValue<string>(out var providerName) && !providerName.Contains("{{", StringComparison.Ordinal) ? providerName : null;
                yield return provider is null ? modelName : $"{provider}/{modelName}";
            }
        }
    }

    /// <summary>
    /// Writes a definition as the workflow's next version, in one transaction: the row first (its
    /// version guard or unique name decides a race), then its labels and the version snapshot.
    /// </summary>
    private async Task<ServiceResult<WorkflowResponse>> SaveAsync(
        Workflow workflow, WorkflowSpec normalized, IReadOnlyList<string> personaIds, Caller caller, string change, bool conditional, CancellationToken cancellationToken)
    {
        workflow.Name = normalized.Name!;
        workflow.Title = normalized.Title!;
        workflow.Description = normalized.Description;
        workflow.Type = normalized.Type!;
        workflow.SubType = normalized.SubType!;
        workflow.IsActive = normalized.IsActive == true;
        workflow.TeamId = normalized.TeamId;
        workflow.TriggerEventType = normalized.Type == "event" ? normalized.Trigger?.EventType : null;
        workflow.Definition = WorkflowJson.Serialize(normalized);
        workflow.Version++;

        var scheduled = false;
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
            await db.WorkflowLabels.Where(l => l.WorkflowId == workflow.Id).ExecuteDeleteAsync(cancellationToken);
            db.WorkflowLabels.AddRange(LabelsOf(workflow, normalized, personaIds));
            db.WorkflowVersions.Add(new WorkflowVersion
            {
                WorkflowId = workflow.Id,
                Version = workflow.Version,
                Definition = workflow.Definition,
                Change = change,
                CreatedBy = caller.ActorId,
                CreatedAt = time.GetUtcNowTruncated(),
            });
            await db.SaveChangesAsync(cancellationToken);
            // The schedule row (made, changed or dropped) commits with the definition it follows.
            scheduled = await ScheduleSync.SyncAsync(db, workflow, time.GetUtcNowTruncated(), cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }
        catch (DbUpdateConcurrencyException)
        {
            db.ChangeTracker.Clear();
            return conditional
                ? ServiceError.PreconditionFailed($"Workflow '{normalized.Name}' was changed by another request after the If-Match check. Read it again and retry.")
                : ServiceError.Conflict($"Workflow '{normalized.Name}' was changed by another request at the same time. Retry.");
        }
        catch (DbUpdateException ex) when (storage.IsUniqueViolation(ex))
        {
            db.ChangeTracker.Clear();
            return ServiceError.Conflict($"A workflow named '{normalized.Name}' already exists in this workspace.");
        }

        if (scheduled)
        {
            scheduleSignal.Changed();
        }

        return await ToResponseAsync(workflow, cancellationToken);
    }

    private async Task<IQueryable<Workflow>> FilterAsync(string workspaceId, WorkflowQuery filter, ValidationErrors errors, CancellationToken cancellationToken)
    {
        var query = db.Workflows.AsNoTracking().Where(w => w.WorkspaceId == workspaceId);
        switch (filter.Status ?? "active")
        {
            case "active":
                query = query.Where(w => w.DeletedAt == null);
                break;
            case "deleted":
                query = query.Where(w => w.DeletedAt != null);
                break;
            case "all":
                break;
            default:
                errors.Add("status", "Must be active, deleted or all.");
                break;
        }

        if (filter.Active is { } active)
        {
            query = query.Where(w => w.IsActive == active);
        }

        if (filter.Type is { } type)
        {
            if (!WorkflowRules.Types.Contains(type))
            {
                errors.Add("type", $"Must be one of: {string.Join(", ", WorkflowRules.Types)}.");
            }

            query = query.Where(w => w.Type == type);
        }

        if (filter.EventType is { } eventType)
        {
            query = query.Where(w => w.TriggerEventType == eventType);
        }

        if (filter.Persona is { } persona)
        {
            // By ID or by name; labels hold IDs, so a renamed persona still finds its workflows.
            var personaId = await db.Personas.AsNoTracking()
                .Where(p => p.WorkspaceId == workspaceId && (p.Id == persona || (p.Name == persona && p.DeletedAt == null)))
                .Select(p => p.Id).FirstOrDefaultAsync(cancellationToken) ?? persona;
            var using_ = db.WorkflowLabels.Where(l => l.WorkspaceId == workspaceId && l.Kind == "persona" && l.Value == personaId).Select(l => l.WorkflowId);
            query = query.Where(w => using_.Contains(w.Id));
        }

        if (!string.IsNullOrWhiteSpace(filter.Search))
        {
            // Workspaces hold tens to hundreds of workflows: a scan of three short columns is enough here.
            foreach (var word in Word().Matches(filter.Search.ToLowerInvariant()).Select(m => m.Value).Distinct().Take(16))
            {
#pragma warning disable CA1304, CA1311 // Translated to SQL lower(): no .NET culture is involved.
                query = query.Where(w => (w.Name + " " + w.Title.ToLower() + " " + (w.Description ?? "").ToLower()).Contains(word));
#pragma warning restore CA1304, CA1311
            }
        }

        return query;
    }

    private static List<WorkflowLabel> LabelsOf(Workflow workflow, WorkflowSpec spec, IReadOnlyList<string> personaIds)
    {
        var labels = new List<WorkflowLabel>();
        void Add(string kind, IEnumerable<string> values)
        {
            foreach (var value in values.Distinct(StringComparer.Ordinal))
            {
                labels.Add(new WorkflowLabel { WorkflowId = workflow.Id, Kind = kind, Value = value, WorkspaceId = workflow.WorkspaceId });
            }
        }

        Add("persona", personaIds);
        Add("activity", (spec.Steps ?? []).Select(s => s.Activity!.UniqueIdentifier!));
        Add("skill", spec.SkillIds ?? []);
        Add("guardrail", spec.GuardrailIds ?? []);
        return labels;
    }

    internal async Task<WorkflowResponse> ToResponseAsync(Workflow workflow, CancellationToken cancellationToken)
    {
        var spec = WorkflowJson.Deserialize(workflow.Definition);
        var resolved = await actors.ResolveAsync([workflow.CreatedBy, workflow.UpdatedBy, workflow.DeletedBy], cancellationToken);
        return new WorkflowResponse(spec)
        {
            Id = workflow.Id,
            WorkspaceId = workflow.WorkspaceId,
            Version = workflow.Version,
            Status = workflow.DeletedAt is null ? "active" : "deleted",
            WebhookPath = workflow.Type == "webhook" ? WebhookPathPrefix + "{token}" : null,
            CreatedBy = resolved.Find(workflow.CreatedBy),
            UpdatedBy = resolved.Find(workflow.UpdatedBy),
            CreatedAt = workflow.CreatedAt,
            UpdatedAt = workflow.UpdatedAt,
            DeletedAt = workflow.DeletedAt,
            DeletedBy = resolved.Find(workflow.DeletedBy),
        };
    }

    private static WorkflowSummary ToSummary(Workflow workflow, IReadOnlyDictionary<string, Actor> resolved, LastRunSummary? lastRun)
    {
        var spec = WorkflowJson.Deserialize(workflow.Definition);
        var trigger = spec.Type switch
        {
            "event" => spec.Trigger?.EventType ?? "event",
            "schedule" => spec.Trigger?.Cron ?? "schedule",
            var other => other!,
        };
        return new WorkflowSummary(workflow.Id, workflow.Name, workflow.Title, workflow.Description, workflow.Type, workflow.SubType, workflow.IsActive, trigger,
            [.. PersonaReferences(spec).Select(r => r.Reference).Distinct(StringComparer.Ordinal)], [.. ModelReferences(spec).Distinct(StringComparer.Ordinal)],
            spec.Steps?.Count ?? 0, workflow.Version,
            workflow.DeletedAt is null ? "active" : "deleted", lastRun, resolved.Find(workflow.CreatedBy), resolved.Find(workflow.UpdatedBy), workflow.CreatedAt, workflow.UpdatedAt);
    }

    private async Task<string> FreeCopyNameAsync(string workspaceId, string name, CancellationToken cancellationToken)
    {
        var prefix = SortKeys.CopyStem(name) + "-copy";
        var taken = await db.Workflows.AsNoTracking()
            .Where(w => w.WorkspaceId == workspaceId && w.DeletedAt == null && w.Name.StartsWith(prefix))
            .Select(w => w.Name).ToListAsync(cancellationToken);
        return SortKeys.CopyName(name, taken);
    }

    // 256 bits, URL-safe: the token is the whole credential of a public webhook path.
    private static string NewWebhookToken() => "whk_" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    internal static byte[] HashToken(string token) => SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(token));

    private static ServiceError NotFound(string idOrName) => ServiceError.NotFound($"Workflow '{idOrName}' not found.");

    [GeneratedRegex(@"[\p{L}\p{N}_-]+", RegexOptions.CultureInvariant)]
    private static partial Regex Word();
}
