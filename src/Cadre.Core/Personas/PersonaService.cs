using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Cadre.Auth;
using Cadre.Common;
using Cadre.Storage;
using Microsoft.EntityFrameworkCore;

namespace Cadre.Personas;

/// <summary>
/// Personas: create, read, list with search and filters, change (each published change a new,
/// snapshotted version), the bin (soft delete, restore, purge), duplicates, history, previews and
/// bulk calls. Every change of a definition goes through <see cref="SaveDefinitionAsync"/>.
/// </summary>
internal sealed partial class PersonaService(
    CadreDbContext db, StorageProvider storage, IdGenerator ids, TimeProvider time, ActorService actors, Triggers.EventDispatcher eventDispatcher)
{
    public Task<ServiceResult<PersonaResponse>> CreateAsync(string workspaceId, PersonaSpec spec, Caller caller, CancellationToken cancellationToken) =>
        AddAsync(workspaceId, spec, caller, "created", cancellationToken);

    /// <summary>Adds a persona at version 1; <paramref name="change"/> records why (created, imported).</summary>
    internal async Task<ServiceResult<PersonaResponse>> AddAsync(string workspaceId, PersonaSpec spec, Caller caller, string change, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(caller);
        var normalized = PersonaRules.Normalize(spec);
        var errors = new ValidationErrors();
        PersonaRules.Validate(normalized, errors);
        if (!errors.IsEmpty)
        {
            return ServiceError.Validation(errors);
        }

        var now = time.GetUtcNowTruncated();
        var persona = new Persona
        {
            Id = ids.NewId(Persona.IdPrefix),
            WorkspaceId = workspaceId,
            Name = normalized.Name!,
            DisplayName = normalized.DisplayName!,
            Instructions = normalized.Instructions!,
            Definition = "",
            Version = 0,
            CreatedBy = caller.ActorId,
            UpdatedBy = caller.ActorId,
            CreatedAt = now,
            UpdatedAt = now,
        };
        db.Personas.Add(persona);
        return await SaveDefinitionAsync(persona, normalized, caller, change, cancellationToken);
    }

    /// <summary>A persona by ID (live or in the bin) or by name (live only), or null.</summary>
    public async Task<PersonaResponse?> GetAsync(string workspaceId, string idOrName, CancellationToken cancellationToken) =>
        await FindAsync(workspaceId, idOrName, tracking: false, cancellationToken) is { } persona
            ? await ToResponseAsync(persona, cancellationToken)
            : null;

    public async Task<ServiceResult<Page<PersonaSummary>>> ListAsync(
        string workspaceId, PersonaQuery filter, PageRequest page, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(filter);
        var errors = new ValidationErrors();
        var query = Filter(workspaceId, filter, errors);
        var sort = filter.Sort ?? "-createdAt";
        var descending = sort.StartsWith('-');
        if (sort.TrimStart('-') is not ("createdAt" or "name" or "displayName" or "updatedAt") || sort.StartsWith("--", StringComparison.Ordinal))
        {
            errors.Add("sort", "Must be createdAt, updatedAt, name or displayName, with a leading - for descending.");
        }

        if (!errors.IsEmpty)
        {
            return ServiceError.Validation(errors);
        }

        // IDs are time-ordered, so creation order is ID order.
        var found = sort.TrimStart('-') switch
        {
            "createdAt" => await query.ToSortedPageAsync(new SortKey<Persona, string>(sort, p => p.Id, descending, SortKeys.Text, SortKeys.TryText), p => p.Id, page, cancellationToken),
            "name" => await query.ToSortedPageAsync(new SortKey<Persona, string>(sort, p => p.Name, descending, SortKeys.Text, SortKeys.TryText), p => p.Id, page, cancellationToken),
            "displayName" => await query.ToSortedPageAsync(new SortKey<Persona, string>(sort, p => p.DisplayName, descending, SortKeys.Text, SortKeys.TryText), p => p.Id, page, cancellationToken),
            _ => await query.ToSortedPageAsync(new SortKey<Persona, DateTime>(sort, p => p.UpdatedAt, descending, SortKeys.Time, SortKeys.TryTime), p => p.Id, page, cancellationToken),
        };
        if (found is null)
        {
            return ServiceError.Validation("cursor", "Belongs to another sort order; start again from the first page.");
        }

        var resolved = await actors.ResolveAsync(found.Items.SelectMany(p => new[] { p.CreatedBy, p.UpdatedBy }), cancellationToken);
        return found.Map(p => ToSummary(p, resolved));
    }

    /// <summary>Every persona a filter matches (no paging), for export.</summary>
    internal async Task<ServiceResult<List<(Persona Persona, PersonaSpec Spec)>>> AllAsync(string workspaceId, PersonaQuery filter, CancellationToken cancellationToken)
    {
        var errors = new ValidationErrors();
        var query = Filter(workspaceId, filter, errors);
        if (!errors.IsEmpty)
        {
            return ServiceError.Validation(errors);
        }

        var personas = await query.OrderBy(p => p.Name).ThenBy(p => p.Id).ToListAsync(cancellationToken);
        return personas.Select(p => (p, PersonaJson.Deserialize(p.Definition))).ToList();
    }

    /// <summary>Applies a JSON Merge Patch to the persona's definition and publishes the result as a new version.</summary>
    public async Task<ServiceResult<PersonaResponse>> PatchAsync(
        string workspaceId, string idOrName, JsonObject patch, Caller caller, VersionPrecondition? precondition, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(patch);
        var persona = await FindAsync(workspaceId, idOrName, tracking: true, cancellationToken);
        if (persona is null)
        {
            return NotFound(idOrName);
        }

        var merged = ApplyPatch(persona.Definition, patch);
        if (merged.Error is { } invalid)
        {
            return invalid;
        }

        return await ReplaceAsync(persona, merged.Value!, caller, precondition, "updated", cancellationToken);
    }

    /// <summary>Publishes <paramref name="spec"/> as the persona's next version, unless nothing changed.</summary>
    internal async Task<ServiceResult<PersonaResponse>> ReplaceAsync(
        Persona persona, PersonaSpec spec, Caller caller, VersionPrecondition? precondition, string change, CancellationToken cancellationToken)
    {
        if (persona.DeletedAt is not null)
        {
            return ServiceError.Conflict($"Persona '{persona.Name}' is in the bin; restore it before changing it.");
        }

        if (precondition is not null && !precondition.IsMetBy(persona.Version))
        {
            return ServiceError.PreconditionFailed($"{precondition.Describe()}, but persona '{persona.Name}' is at version {persona.Version}. Read it again and retry.");
        }

        var normalized = PersonaRules.Normalize(spec);
        var errors = new ValidationErrors();
        PersonaRules.Validate(normalized, errors);
        if (!errors.IsEmpty)
        {
            return ServiceError.Validation(errors);
        }

        if (PersonaJson.Serialize(normalized) == persona.Definition)
        {
            return await ToResponseAsync(persona, cancellationToken);
        }

        persona.UpdatedAt = time.GetUtcNowTruncated();
        persona.UpdatedBy = caller.ActorId;
        return await SaveDefinitionAsync(persona, normalized, caller, change, cancellationToken, precondition is not null);
    }

    /// <summary>Moves a persona to the bin: hidden from lists and name lookups, its name free, restorable.</summary>
    public async Task<ServiceResult<PersonaResponse>> DeleteAsync(
        string workspaceId, string idOrName, Caller caller, VersionPrecondition? precondition, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(caller);
        var persona = await FindAsync(workspaceId, idOrName, tracking: true, cancellationToken);
        if (persona is null)
        {
            return NotFound(idOrName);
        }

        return await Bin.MoveAsync(db, persona, "persona", caller, precondition, time.GetUtcNowTruncated(), cancellationToken) is { } error
            ? error
            : await ToResponseAsync(persona, cancellationToken);
    }

    /// <summary>Takes a persona out of the bin, if its name is still free.</summary>
    public async Task<ServiceResult<PersonaResponse>> RestoreAsync(string workspaceId, string id, CancellationToken cancellationToken)
    {
        var persona = await FindAsync(workspaceId, id, tracking: true, cancellationToken);
        if (persona is null)
        {
            return NotFound(id);
        }

        return await Bin.RestoreAsync(db, storage, persona, "persona", cancellationToken) is { } error
            ? error
            : await ToResponseAsync(persona, cancellationToken);
    }

    /// <summary>Deletes a persona for good, with its history and drafts.</summary>
    public async Task<ServiceResult<bool>> PurgeAsync(string workspaceId, string id, CancellationToken cancellationToken)
    {
        var persona = await FindAsync(workspaceId, id, tracking: false, cancellationToken);
        if (persona is null)
        {
            return NotFound(id);
        }

        await db.Personas.Where(p => p.Id == persona.Id).ExecuteDeleteAsync(cancellationToken);
        // Its own analytics go with it; the workspace's and workflows' keep what it cost.
        await db.AnalyticsRollups.Where(r => r.ScopeId == persona.Id).ExecuteDeleteAsync(cancellationToken);
        return true;
    }

    /// <summary>Copies a persona under a new name (given, or the first free of name-copy, name-copy-2, …).</summary>
    public async Task<ServiceResult<PersonaResponse>> DuplicateAsync(
        string workspaceId, string idOrName, DuplicatePersonaRequest request, Caller caller, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var persona = await FindAsync(workspaceId, idOrName, tracking: false, cancellationToken);
        if (persona is null)
        {
            return NotFound(idOrName);
        }

        var spec = PersonaJson.Deserialize(persona.Definition);
        var name = request.Name ?? await FreeCopyNameAsync(workspaceId, persona.Name, cancellationToken);
        var displayName = request.DisplayName ?? (spec.DisplayName!.Length <= 93 ? $"{spec.DisplayName} (copy)" : spec.DisplayName);
        return await AddAsync(workspaceId, spec with { Name = name, DisplayName = displayName }, caller, "created", cancellationToken);
    }

    public async Task<ServiceResult<Page<PersonaVersionSummary>>> ListVersionsAsync(
        string workspaceId, string idOrName, PageRequest page, CancellationToken cancellationToken)
    {
        var persona = await FindAsync(workspaceId, idOrName, tracking: false, cancellationToken);
        if (persona is null)
        {
            return NotFound(idOrName);
        }

        // Versions are unique within the persona, so the keyset's tie-breaker (the persona ID) never decides.
        var versions = await db.PersonaVersions.AsNoTracking().Where(v => v.PersonaId == persona.Id)
            .ToSortedPageAsync(new SortKey<PersonaVersion, int>("-version", v => v.Version, true, SortKeys.Number, SortKeys.TryNumber), v => v.PersonaId, page, cancellationToken);
        if (versions is null)
        {
            return ServiceError.Validation("cursor", "Belongs to another list; start again from the first page.");
        }

        var resolved = await actors.ResolveAsync(versions.Items.Select(v => v.CreatedBy), cancellationToken);
        return versions.Map(v =>
        {
            var spec = PersonaJson.Deserialize(v.Definition);
            return new PersonaVersionSummary(v.Version, v.Change, spec.Name!, spec.DisplayName!, resolved.Find(v.CreatedBy), v.CreatedAt);
        });
    }

    public async Task<ServiceResult<PersonaVersionResponse>> GetVersionAsync(string workspaceId, string idOrName, int version, CancellationToken cancellationToken)
    {
        var persona = await FindAsync(workspaceId, idOrName, tracking: false, cancellationToken);
        if (persona is null)
        {
            return NotFound(idOrName);
        }

        var found = await db.PersonaVersions.AsNoTracking().FirstOrDefaultAsync(v => v.PersonaId == persona.Id && v.Version == version, cancellationToken);
        if (found is null)
        {
            return ServiceError.NotFound($"Persona '{persona.Name}' has no version {version}; it is at version {persona.Version}.");
        }

        return new PersonaVersionResponse(found.Version, found.Change, await actors.ResolveAsync(found.CreatedBy, cancellationToken), found.CreatedAt, PersonaJson.Deserialize(found.Definition));
    }

    /// <summary>The fields that differ between two versions.</summary>
    public async Task<ServiceResult<PersonaDiffResponse>> DiffAsync(string workspaceId, string idOrName, int from, int to, CancellationToken cancellationToken)
    {
        var persona = await FindAsync(workspaceId, idOrName, tracking: false, cancellationToken);
        if (persona is null)
        {
            return NotFound(idOrName);
        }

        var versions = await db.PersonaVersions.AsNoTracking().Where(v => v.PersonaId == persona.Id && (v.Version == from || v.Version == to))
            .ToDictionaryAsync(v => v.Version, v => v.Definition, cancellationToken);
        var errors = new ValidationErrors();
        foreach (var (field, number) in new[] { ("from", from), ("to", to) })
        {
            if (!versions.ContainsKey(number))
            {
                errors.Add(field, $"Persona '{persona.Name}' has no version {number}; it has versions 1 to {persona.Version}.");
            }
        }

        if (!errors.IsEmpty)
        {
            return ServiceError.Validation(errors);
        }

        return new PersonaDiffResponse(from, to, JsonDiff.Compare(JsonNode.Parse(versions[from]), JsonNode.Parse(versions[to])));
    }

    /// <summary>Publishes an earlier version's definition as the next version (the current one stays in the history).</summary>
    public async Task<ServiceResult<PersonaResponse>> RevertAsync(
        string workspaceId, string idOrName, int version, Caller caller, VersionPrecondition? precondition, CancellationToken cancellationToken)
    {
        var persona = await FindAsync(workspaceId, idOrName, tracking: true, cancellationToken);
        if (persona is null)
        {
            return NotFound(idOrName);
        }

        var target = await db.PersonaVersions.AsNoTracking().FirstOrDefaultAsync(v => v.PersonaId == persona.Id && v.Version == version, cancellationToken);
        if (target is null)
        {
            return ServiceError.Validation("version", $"Persona '{persona.Name}' has no version {version}; it has versions 1 to {persona.Version}.");
        }

        return await ReplaceAsync(persona, PersonaJson.Deserialize(target.Definition), caller, precondition, "reverted", cancellationToken);
    }

    /// <summary>The system prompt the persona would run with, for the given parameter values.</summary>
    public async Task<ServiceResult<PersonaPreviewResponse>> PreviewAsync(
        string workspaceId, string idOrName, PreviewPersonaRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var persona = await FindAsync(workspaceId, idOrName, tracking: false, cancellationToken);
        if (persona is null)
        {
            return NotFound(idOrName);
        }

        var spec = PersonaJson.Deserialize(persona.Definition);
        var errors = new ValidationErrors();
        var template = PromptTemplate.Parse(spec.Instructions ?? "");
        foreach (var error in template.Errors)
        {
            errors.Add("instructions", error);
        }

        var values = PersonaRules.ResolveParameters(spec, request.Parameters, errors);
        if (!errors.IsEmpty)
        {
            return ServiceError.Validation(errors);
        }

        var resolved = new JsonObject();
        foreach (var (name, value) in values)
        {
            resolved[name] = value?.DeepClone();
        }

        return new PersonaPreviewResponse(template.Render(values), resolved);
    }

    public async Task<ServiceResult<BulkResponse>> BulkCreateAsync(string workspaceId, BulkCreatePersonasRequest request, Caller caller, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (Bulk.Check(request.Items) is { } error)
        {
            return error;
        }

        var results = new List<BulkItemResult>();
        for (var i = 0; i < request.Items!.Count; i++)
        {
            var item = request.Items[i];
            var result = item is null
                ? ServiceError.Validation("body", "Must be a persona object.")
                : await CreateAsync(workspaceId, item, caller, cancellationToken);
            results.Add(Outcome(i, result, 201));
        }

        return new BulkResponse(results);
    }

    public async Task<ServiceResult<BulkResponse>> BulkUpdateAsync(string workspaceId, BulkUpdatePersonasRequest request, Caller caller, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (Bulk.Check(request.Items) is { } error)
        {
            return error;
        }

        var results = new List<BulkItemResult>();
        for (var i = 0; i < request.Items!.Count; i++)
        {
            var item = request.Items[i];
            ServiceResult<PersonaResponse> result;
            if (item?.Persona is null || item.Changes is null)
            {
                result = ServiceError.Validation(item?.Persona is null ? "persona" : "changes", "Is required.");
            }
            else
            {
                var precondition = item.ExpectedVersion is { } expected ? new VersionPrecondition(new HashSet<int> { expected }) : null;
                result = await PatchAsync(workspaceId, item.Persona, item.Changes, caller, precondition, cancellationToken);
            }

            results.Add(Outcome(i, result, 200));
        }

        return new BulkResponse(results);
    }

    public async Task<ServiceResult<BulkResponse>> BulkDeleteAsync(string workspaceId, BulkDeletePersonasRequest request, Caller caller, CancellationToken cancellationToken)
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
                : ServiceError.Validation("body", "Must be a persona ID or name.");
            results.Add(Outcome(i, result, 200));
        }

        return new BulkResponse(results);
    }

    /// <summary>A persona by ID (live or binned) or by name (live only), tracked for changes when asked.</summary>
    internal Task<Persona?> FindAsync(string workspaceId, string idOrName, bool tracking, CancellationToken cancellationToken)
    {
        var personas = tracking ? db.Personas : db.Personas.AsNoTracking();
        return idOrName.StartsWith(Persona.IdPrefix + "_", StringComparison.Ordinal)
            ? personas.FirstOrDefaultAsync(p => p.Id == idOrName && p.WorkspaceId == workspaceId, cancellationToken)
            : personas.FirstOrDefaultAsync(p => p.Name == idOrName && p.WorkspaceId == workspaceId && p.DeletedAt == null, cancellationToken);
    }

    /// <summary>Merges a patch into a stored definition and reads the result strictly, naming the field of any type error.</summary>
    internal static ServiceResult<PersonaSpec> ApplyPatch(string definition, JsonObject patch)
    {
        var merged = JsonMergePatch.Apply(JsonNode.Parse(definition), patch);
        try
        {
            return merged.Deserialize<PersonaSpec>(PersonaJson.Options)!;
        }
        catch (JsonException ex)
        {
            var (field, message) = JsonErrors.Describe(ex, typeof(PersonaSpec));
            return ServiceError.Validation(field, message);
        }
    }

    internal async Task<PersonaResponse> ToResponseAsync(Persona persona, CancellationToken cancellationToken)
    {
        var spec = PersonaJson.Deserialize(persona.Definition);
        var resolved = await actors.ResolveAsync([persona.CreatedBy, persona.UpdatedBy, persona.DeletedBy], cancellationToken);
        return new PersonaResponse(spec)
        {
            Id = persona.Id,
            WorkspaceId = persona.WorkspaceId,
            Version = persona.Version,
            Status = persona.DeletedAt is null ? "active" : "deleted",
            Warnings = PersonaRules.Validate(spec, new ValidationErrors()),
            CreatedBy = resolved.Find(persona.CreatedBy),
            UpdatedBy = resolved.Find(persona.UpdatedBy),
            CreatedAt = persona.CreatedAt,
            UpdatedAt = persona.UpdatedAt,
            DeletedAt = persona.DeletedAt,
            DeletedBy = resolved.Find(persona.DeletedBy),
        };
    }

    /// <summary>
    /// Writes a definition as the persona's next version, in one transaction: the row, its labels
    /// and the version snapshot. A taken name or a concurrent change answers instead of throwing.
    /// </summary>
    private async Task<ServiceResult<PersonaResponse>> SaveDefinitionAsync(
        Persona persona, PersonaSpec normalized, Caller caller, string change, CancellationToken cancellationToken, bool conditional = false)
    {
        persona.Name = normalized.Name!;
        persona.DisplayName = normalized.DisplayName!;
        persona.Description = normalized.Description;
        persona.Instructions = normalized.Instructions!;
        persona.Provider = normalized.Model?.Provider;
        persona.Model = normalized.Model?.Model;
        persona.Definition = PersonaJson.Serialize(normalized);
        persona.Version++;

        var recorded = 0;
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        try
        {
            // The row first: its version guard (or, for a new persona, its unique name) decides a race before the
            // snapshot of that version is written, so a loser hears 412/409 about the persona, not a key clash.
            await db.SaveChangesAsync(cancellationToken);
            await db.PersonaLabels.Where(l => l.PersonaId == persona.Id).ExecuteDeleteAsync(cancellationToken);
            db.PersonaLabels.AddRange(LabelsOf(persona, normalized));
            db.PersonaVersions.Add(new PersonaVersion
            {
                PersonaId = persona.Id,
                Version = persona.Version,
                Definition = persona.Definition,
                Change = change,
                CreatedBy = caller.ActorId,
                CreatedAt = time.GetUtcNowTruncated(),
            });
            var published = new JsonObject { ["personaId"] = persona.Id, ["name"] = persona.Name, ["version"] = persona.Version, ["change"] = change };
            recorded = await Triggers.Happenings.RecordAsync(db, ids, persona.WorkspaceId, [("persona.published", published)], 0, time.GetUtcNowTruncated(), cancellationToken);
            await db.SaveChangesAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }
        catch (DbUpdateConcurrencyException)
        {
            db.ChangeTracker.Clear();
            return conditional
                ? ServiceError.PreconditionFailed($"Persona '{normalized.Name}' was changed by another request after the If-Match check. Read it again and retry.")
                : ServiceError.Conflict($"Persona '{normalized.Name}' was changed by another request at the same time. Retry.");
        }
        catch (DbUpdateException ex) when (storage.IsUniqueViolation(ex))
        {
            db.ChangeTracker.Clear();
            return ServiceError.Conflict($"A persona named '{normalized.Name}' already exists in this workspace.");
        }

        if (recorded > 0)
        {
            eventDispatcher.Wake();
        }

        return await ToResponseAsync(persona, cancellationToken);
    }

    private IQueryable<Persona> Filter(string workspaceId, PersonaQuery filter, ValidationErrors errors)
    {
        var words = string.IsNullOrWhiteSpace(filter.Search)
            ? []
            : Word().Matches(filter.Search.ToLowerInvariant()).Select(m => m.Value).Distinct().Take(16).ToList();
        var query = (words.Count > 0 ? storage.PersonasMatching(db, workspaceId, words) : db.Personas.Where(p => p.WorkspaceId == workspaceId)).AsNoTracking();
        switch (filter.Status ?? "active")
        {
            case "active":
                query = query.Where(p => p.DeletedAt == null);
                break;
            case "deleted":
                query = query.Where(p => p.DeletedAt != null);
                break;
            case "all":
                break;
            default:
                errors.Add("status", "Must be active, deleted or all.");
                break;
        }

        if (filter.Provider is { } provider)
        {
            var wanted = provider.ToLowerInvariant();
            query = query.Where(p => p.Provider == wanted);
        }

        if (filter.Model is { } model)
        {
            query = query.Where(p => p.Model == model);
        }

        foreach (var (kind, values) in new[] { ("department", filter.Departments), ("tag", filter.Tags), ("flag", filter.Flags), ("parameter", filter.Parameters) })
        {
            foreach (var value in values ?? [])
            {
                var wanted = value.Trim().ToLowerInvariant();
                // An IN over the label index, not a correlated EXISTS: SQLite would run the EXISTS once per persona.
                var labelled = db.PersonaLabels.Where(l => l.WorkspaceId == workspaceId && l.Kind == kind && l.Value == wanted).Select(l => l.PersonaId);
                query = query.Where(p => labelled.Contains(p.Id));
            }
        }

        return query;
    }

    private static List<PersonaLabel> LabelsOf(Persona persona, PersonaSpec spec)
    {
        var labels = new List<PersonaLabel>();
        void Add(string kind, IEnumerable<string> values)
        {
            foreach (var value in values.Select(v => v.ToLowerInvariant()).Distinct())
            {
                labels.Add(new PersonaLabel { PersonaId = persona.Id, Kind = kind, Value = value, WorkspaceId = persona.WorkspaceId });
            }
        }

        Add("department", spec.Departments ?? []);
        Add("tag", spec.Tags ?? []);
        Add("flag", spec.Flags ?? []);
        Add("parameter", (spec.Parameters ?? []).Select(p => p.Name!));
        return labels;
    }

    private async Task<string> FreeCopyNameAsync(string workspaceId, string name, CancellationToken cancellationToken)
    {
        var prefix = SortKeys.CopyStem(name) + "-copy";
        var taken = await db.Personas.AsNoTracking()
            .Where(p => p.WorkspaceId == workspaceId && p.DeletedAt == null && p.Name.StartsWith(prefix))
            .Select(p => p.Name).ToListAsync(cancellationToken);
        return SortKeys.CopyName(name, taken);
    }

    private static BulkItemResult Outcome(int index, ServiceResult<PersonaResponse> result, int successStatus) =>
        Bulk.Outcome(index, result, persona => persona.Id, successStatus);

    private static ServiceError NotFound(string idOrName) => ServiceError.NotFound($"Persona '{idOrName}' not found.");

    private static PersonaSummary ToSummary(Persona persona, IReadOnlyDictionary<string, Actor> resolved)
    {
        var spec = PersonaJson.Deserialize(persona.Definition);
        return new PersonaSummary(persona.Id, persona.Name, persona.DisplayName, persona.Description, spec.AvatarUrl, spec.Color, spec.Icon,
            spec.Departments ?? [], spec.Tags ?? [], spec.Flags ?? [], persona.Provider, persona.Model, persona.Version,
            persona.DeletedAt is null ? "active" : "deleted", resolved.Find(persona.CreatedBy), resolved.Find(persona.UpdatedBy), persona.CreatedAt, persona.UpdatedAt);
    }

    [GeneratedRegex(@"[\p{L}\p{N}_]+", RegexOptions.CultureInvariant)]
    private static partial Regex Word();
}
