using Cadre.Auth;
using Cadre.Common;
using Cadre.Storage;
using Microsoft.EntityFrameworkCore;

namespace Cadre.Personas;

/// <summary>
/// Drafts: each editor (person or service account) keeps at most one unpublished draft per
/// persona, changes it with optimistic concurrency and publishes it as the persona's next version.
/// </summary>
internal sealed class PersonaDraftService(CadreDbContext db, PersonaService personas, TimeProvider time, ActorService actors)
{
    public async Task<ServiceResult<PersonaDraftResponse>> StartAsync(
        string workspaceId, string idOrName, StartPersonaDraftRequest request, Caller caller, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(caller);
        var persona = await personas.FindAsync(workspaceId, idOrName, tracking: false, cancellationToken);
        if (persona is null || persona.DeletedAt is not null)
        {
            return ServiceError.NotFound($"Persona '{idOrName}' not found.");
        }

        if (request.ExpectedVersion is { } expected && expected != persona.Version)
        {
            return ServiceError.Conflict($"'{persona.Name}' is at version {persona.Version}, not {expected}: it was published since you loaded it. Load it again.",
                new Dictionary<string, object?> { ["currentVersion"] = persona.Version });
        }

        if (await db.PersonaDrafts.AsNoTracking().FirstOrDefaultAsync(d => d.PersonaId == persona.Id && d.OwnerId == caller.ActorId, cancellationToken) is { } existing)
        {
            return ServiceError.Conflict($"You already have a draft of '{persona.Name}' (version {existing.Revision}); change or discard it.",
                new Dictionary<string, object?> { ["currentVersion"] = existing.Revision });
        }

        var now = time.GetUtcNowTruncated();
        var draft = new PersonaDraft
        {
            PersonaId = persona.Id,
            OwnerId = caller.ActorId,
            WorkspaceId = workspaceId,
            Definition = persona.Definition,
            BaseVersion = persona.Version,
            Revision = 1,
            CreatedAt = now,
            UpdatedAt = now,
        };
        db.PersonaDrafts.Add(draft);
        await db.SaveChangesAsync(cancellationToken);
        return await ToResponseAsync(draft, persona, cancellationToken);
    }

    public async Task<ServiceResult<PersonaDraftResponse>> GetAsync(string workspaceId, string idOrName, Caller caller, CancellationToken cancellationToken)
    {
        var found = await FindAsync(workspaceId, idOrName, caller, tracking: false, cancellationToken);
        return found.Error is { } error ? error : await ToResponseAsync(found.Value.Draft, found.Value.Persona, cancellationToken);
    }

    /// <summary>Merges changes into the draft if it is still at <c>expectedVersion</c>; a draft may hold invalid values until published.</summary>
    public async Task<ServiceResult<PersonaDraftResponse>> UpdateAsync(
        string workspaceId, string idOrName, UpdatePersonaDraftRequest request, Caller caller, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var errors = new ValidationErrors();
        if (request.ExpectedVersion is null)
        {
            errors.Add("expectedVersion", "Is required: the draft version you changed.");
        }

        if (request.Changes is null)
        {
            errors.Add("changes", "Is required: a JSON Merge Patch of the draft.");
        }

        if (!errors.IsEmpty)
        {
            return ServiceError.Validation(errors);
        }

        var found = await FindAsync(workspaceId, idOrName, caller, tracking: true, cancellationToken);
        if (found.Error is { } error)
        {
            return error;
        }

        var (draft, persona) = found.Value;
        if (draft.Revision != request.ExpectedVersion)
        {
            return Stale(draft.Revision);
        }

        var merged = PersonaService.ApplyPatch(draft.Definition, request.Changes!);
        if (merged.Error is { } invalid)
        {
            return invalid;
        }

        draft.Definition = PersonaJson.Serialize(PersonaRules.Normalize(merged.Value!));
        draft.Revision++;
        draft.UpdatedAt = time.GetUtcNowTruncated();
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateConcurrencyException)
        {
            db.ChangeTracker.Clear();
            var current = await db.PersonaDrafts.AsNoTracking().Where(d => d.PersonaId == draft.PersonaId && d.OwnerId == draft.OwnerId)
                .Select(d => d.Revision).FirstOrDefaultAsync(cancellationToken);
            return Stale(current);
        }

        return await ToResponseAsync(draft, persona, cancellationToken);
    }

    public async Task<ServiceResult<bool>> DiscardAsync(string workspaceId, string idOrName, Caller caller, CancellationToken cancellationToken)
    {
        var found = await FindAsync(workspaceId, idOrName, caller, tracking: false, cancellationToken);
        if (found.Error is { } error)
        {
            return error;
        }

        await db.PersonaDrafts.Where(d => d.PersonaId == found.Value.Persona.Id && d.OwnerId == caller.ActorId).ExecuteDeleteAsync(cancellationToken);
        return true;
    }

    /// <summary>
    /// Publishes the draft as the persona's next version and removes it. A persona published by
    /// someone else since the draft started is a conflict, unless forced.
    /// </summary>
    public async Task<ServiceResult<PersonaResponse>> PublishAsync(
        string workspaceId, string idOrName, PublishPersonaDraftRequest request, Caller caller, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var found = await FindAsync(workspaceId, idOrName, caller, tracking: false, cancellationToken);
        if (found.Error is { } error)
        {
            return error;
        }

        var (draft, _) = found.Value;
        var persona = (await personas.FindAsync(workspaceId, draft.PersonaId, tracking: true, cancellationToken))!;
        if (persona.Version != draft.BaseVersion && request.Force != true)
        {
            return ServiceError.Conflict(
                $"'{persona.Name}' was published at version {persona.Version} since your draft started from version {draft.BaseVersion}. " +
                "Publish with force to overwrite those changes, or discard the draft and start again.",
                new Dictionary<string, object?> { ["currentVersion"] = persona.Version, ["baseVersion"] = draft.BaseVersion });
        }

        var published = await personas.ReplaceAsync(persona, PersonaJson.Deserialize(draft.Definition), caller,
            new VersionPrecondition(new HashSet<int> { persona.Version }), "published", cancellationToken);
        if (published.Error is { Kind: ServiceErrorKind.PreconditionFailed })
        {
            // Someone published between the check above and this write: the same conflict, found later.
            return ServiceError.Conflict(
                $"'{persona.Name}' was published by another request while yours was being saved. Read the draft again, then publish (with force to overwrite).",
                new Dictionary<string, object?> { ["baseVersion"] = draft.BaseVersion });
        }

        if (published.IsSuccess)
        {
            await db.PersonaDrafts.Where(d => d.PersonaId == draft.PersonaId && d.OwnerId == draft.OwnerId).ExecuteDeleteAsync(cancellationToken);
        }

        return published;
    }

    public async Task<Page<PersonaDraftSummary>> ListMineAsync(string workspaceId, Caller caller, PageRequest page, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(caller);
        var drafts = await (
            from d in db.PersonaDrafts.AsNoTracking()
            join p in db.Personas.AsNoTracking() on d.PersonaId equals p.Id
            where d.WorkspaceId == workspaceId && d.OwnerId == caller.ActorId && p.DeletedAt == null
            select new { d.PersonaId, p.Name, d.Revision, d.BaseVersion, PersonaVersion = p.Version, d.UpdatedAt })
            .ToPageAsync(d => d.PersonaId, page, cancellationToken);
        return drafts.Map(d => new PersonaDraftSummary(d.PersonaId, d.Name, d.Revision, d.BaseVersion, d.PersonaVersion, d.PersonaVersion != d.BaseVersion, d.UpdatedAt));
    }

    private async Task<ServiceResult<(PersonaDraft Draft, Persona Persona)>> FindAsync(
        string workspaceId, string idOrName, Caller caller, bool tracking, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(caller);
        var persona = await personas.FindAsync(workspaceId, idOrName, tracking: false, cancellationToken);
        if (persona is null)
        {
            return ServiceError.NotFound($"Persona '{idOrName}' not found.");
        }

        var drafts = tracking ? db.PersonaDrafts : db.PersonaDrafts.AsNoTracking();
        var draft = await drafts.FirstOrDefaultAsync(d => d.PersonaId == persona.Id && d.OwnerId == caller.ActorId, cancellationToken);
        return draft is null
            ? ServiceError.NotFound($"You have no draft of '{persona.Name}'; start one with POST …/personas/{persona.Name}/draft.")
            : (draft, persona);
    }

    private async Task<PersonaDraftResponse> ToResponseAsync(PersonaDraft draft, Persona persona, CancellationToken cancellationToken)
    {
        var spec = PersonaJson.Deserialize(draft.Definition);
        var errors = new ValidationErrors();
        var warnings = PersonaRules.Validate(spec, errors);
        var owner = (await actors.ResolveAsync(draft.OwnerId, cancellationToken))!;
        return new PersonaDraftResponse(persona.Id, persona.Name, owner, draft.Revision, draft.BaseVersion, persona.Version,
            persona.Version != draft.BaseVersion, spec, errors.ToDictionary(), warnings, draft.CreatedAt, draft.UpdatedAt);
    }

    private static ServiceError Stale(int current) => ServiceError.Conflict(
        $"The draft is at version {current}: someone (or another tab) changed it. Read it again and reapply your change.",
        new Dictionary<string, object?> { ["currentVersion"] = current });
}
