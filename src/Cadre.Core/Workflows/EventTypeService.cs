using System.Text.Json.Nodes;
using Cadre.Auth;
using Cadre.Common;
using Cadre.Storage;
using Microsoft.EntityFrameworkCore;

namespace Cadre.Workflows;

/// <summary>An event type as the API answers it: built in (Cadre's own happenings) or defined by the workspace.</summary>
/// <param name="Id">Null for a built-in type.</param>
/// <param name="Schema">The JSON Schema an event's payload must follow.</param>
public sealed record EventTypeResponse(
    string? Id, string Name, string? Description, JsonObject Schema, bool BuiltIn, int Version, Actor? CreatedBy, Actor? UpdatedBy, DateTime? CreatedAt, DateTime? UpdatedAt);

/// <summary>Body of create (name required) and of PATCH (description and schema; the name stays).</summary>
public sealed record EventTypeRequest(string? Name = null, string? Description = null, JsonObject? Schema = null);

/// <summary>
/// The event-type registry: Cadre's built-in types (what it emits about its own runs, approvals and
/// personas) and each workspace's own, with the JSON Schema their payloads are checked against.
/// </summary>
internal sealed class EventTypeService(CadreDbContext db, StorageProvider storage, IdGenerator ids, TimeProvider time, ActorService actors)
{
    /// <summary>Namespaces of the built-in types; a workspace's own types take other names.</summary>
    public static IReadOnlyList<string> ReservedPrefixes { get; } = ["run.", "approval.", "persona.", "workflow.", "cadre."];

    public static IReadOnlyList<EventTypeResponse> BuiltIn { get; } =
    [
        Builtin("approval.decided", "People approved or rejected a step.", """{"runId": "string", "stepId": "string", "decision": "string", "decidedBy": "string"}"""),
        Builtin("approval.requested", "A step waits for approval.", """{"runId": "string", "stepId": "string", "workflowId": "string", "approvers": "array"}"""),
        Builtin("persona.deleted", "A persona went to the bin.", """{"personaId": "string", "name": "string"}"""),
        Builtin("persona.published", "A persona has a new version.", """{"personaId": "string", "name": "string", "version": "integer"}"""),
        Builtin("run.failed", "A run failed.", """{"runId": "string", "workflowId": "string", "workflowVersion": "integer", "error": "string"}"""),
        Builtin("run.halted", "A run was halted.", """{"runId": "string", "workflowId": "string", "workflowVersion": "integer"}"""),
        Builtin("run.started", "A run started.", """{"runId": "string", "workflowId": "string", "workflowVersion": "integer"}"""),
        Builtin("run.succeeded", "A run succeeded.", """{"runId": "string", "workflowId": "string", "workflowVersion": "integer", "output": null}"""),
        Builtin("workflow.activated", "A workflow's triggers were turned on.", """{"workflowId": "string", "name": "string", "version": "integer"}"""),
        Builtin("workflow.deactivated", "A workflow's triggers were turned off.", """{"workflowId": "string", "name": "string", "version": "integer"}"""),
    ];

    public async Task<ServiceResult<Page<EventTypeResponse>>> ListAsync(string workspaceId, bool? builtIn, PageRequest page, CancellationToken cancellationToken)
    {
        var custom = builtIn == true ? [] : await db.EventTypes.AsNoTracking().Where(e => e.WorkspaceId == workspaceId).ToListAsync(cancellationToken);
        var resolved = await actors.ResolveAsync(custom.SelectMany(e => new[] { e.CreatedBy, e.UpdatedBy }), cancellationToken);
        var all = (builtIn == false ? [] : BuiltIn).Concat(custom.Select(e => ToResponse(e, resolved)))
            .OrderBy(e => e.Name, StringComparer.Ordinal).ToList();
        return KeysetPagination.ToPage(all, e => e.Name, page);
    }

    /// <summary>A type by name or (for a workspace's own) ID.</summary>
    public async Task<EventTypeResponse?> GetAsync(string workspaceId, string nameOrId, CancellationToken cancellationToken)
    {
        if (BuiltIn.FirstOrDefault(e => e.Name == nameOrId) is { } builtIn)
        {
            return builtIn;
        }

        var found = await FindAsync(workspaceId, nameOrId, tracking: false, cancellationToken);
        return found is null ? null : ToResponse(found, await actors.ResolveAsync([found.CreatedBy, found.UpdatedBy], cancellationToken));
    }

    /// <summary>Whether a type of this name exists for the workspace (built in or its own).</summary>
    public async Task<bool> ExistsAsync(string workspaceId, string name, CancellationToken cancellationToken) =>
        BuiltIn.Any(e => e.Name == name) || await db.EventTypes.AnyAsync(e => e.WorkspaceId == workspaceId && e.Name == name, cancellationToken);

    public async Task<ServiceResult<EventTypeResponse>> CreateAsync(string workspaceId, EventTypeRequest request, Caller caller, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(caller);
        var errors = new ValidationErrors();
        if (request.Name is not { } name || !WorkflowRules.EventType().IsMatch(name) || name.Contains('*', StringComparison.Ordinal))
        {
            errors.Add("name", "Is required: letters, digits and . _ : - (at most 200), such as ticket.created.");
        }
        else if (ReservedPrefixes.FirstOrDefault(p => name.StartsWith(p, StringComparison.Ordinal)) is { } reserved)
        {
            errors.Add("name", $"Names starting with '{reserved}' belong to Cadre's built-in event types.");
        }

        var schema = Validate(request, errors);
        if (!errors.IsEmpty)
        {
            return ServiceError.Validation(errors);
        }

        var now = time.GetUtcNowTruncated();
        var eventType = new CustomEventType
        {
            Id = ids.NewId(CustomEventType.IdPrefix),
            WorkspaceId = workspaceId,
            Name = request.Name!,
            Description = request.Description,
            Schema = schema.ToJsonString(),
            Version = 1,
            CreatedBy = caller.ActorId,
            UpdatedBy = caller.ActorId,
            CreatedAt = now,
            UpdatedAt = now,
        };
        db.EventTypes.Add(eventType);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException ex) when (storage.IsUniqueViolation(ex))
        {
            db.ChangeTracker.Clear();
            return ServiceError.Conflict($"The event type '{request.Name}' already exists in this workspace.");
        }

        return ToResponse(eventType, await actors.ResolveAsync([caller.ActorId], cancellationToken));
    }

    /// <summary>Changes the description and schema (the name stays: workflows and events refer to it).</summary>
    public async Task<ServiceResult<EventTypeResponse>> UpdateAsync(
        string workspaceId, string nameOrId, EventTypeRequest request, Caller caller, VersionPrecondition? precondition, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(caller);
        if (BuiltIn.Any(e => e.Name == nameOrId))
        {
            return ServiceError.Conflict($"'{nameOrId}' is built in and cannot be changed.");
        }

        var eventType = await FindAsync(workspaceId, nameOrId, tracking: true, cancellationToken);
        if (eventType is null)
        {
            return NotFound(nameOrId);
        }

        if (precondition is not null && !precondition.IsMetBy(eventType.Version))
        {
            return ServiceError.PreconditionFailed($"{precondition.Describe()}, but event type '{eventType.Name}' is at version {eventType.Version}.");
        }

        var errors = new ValidationErrors();
        if (request.Name is not null && request.Name != eventType.Name)
        {
            errors.Add("name", "An event type keeps its name; create a new one instead.");
        }

        var schema = Validate(request with { Schema = request.Schema ?? JsonNode.Parse(eventType.Schema)!.AsObject() }, errors);
        if (!errors.IsEmpty)
        {
            return ServiceError.Validation(errors);
        }

        eventType.Description = request.Description ?? eventType.Description;
        eventType.Schema = schema.ToJsonString();
        eventType.Version++;
        eventType.UpdatedBy = caller.ActorId;
        eventType.UpdatedAt = time.GetUtcNowTruncated();
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateConcurrencyException)
        {
            db.ChangeTracker.Clear();
            return ServiceError.Conflict($"Event type '{eventType.Name}' was changed by another request at the same time. Retry.");
        }

        return ToResponse(eventType, await actors.ResolveAsync([eventType.CreatedBy, eventType.UpdatedBy], cancellationToken));
    }

    /// <summary>Deletes a workspace's own type, unless a workflow is started by it.</summary>
    public async Task<ServiceResult<bool>> DeleteAsync(string workspaceId, string nameOrId, CancellationToken cancellationToken)
    {
        if (BuiltIn.Any(e => e.Name == nameOrId))
        {
            return ServiceError.Conflict($"'{nameOrId}' is built in and cannot be deleted.");
        }

        var eventType = await FindAsync(workspaceId, nameOrId, tracking: false, cancellationToken);
        if (eventType is null)
        {
            return NotFound(nameOrId);
        }

        var users = await db.Workflows.AsNoTracking()
            .Where(w => w.WorkspaceId == workspaceId && w.DeletedAt == null && w.TriggerEventType == eventType.Name)
            .OrderBy(w => w.Name).Select(w => w.Name).Take(5).ToListAsync(cancellationToken);
        if (users.Count > 0)
        {
            return ServiceError.Conflict($"Workflows start on '{eventType.Name}' ({string.Join(", ", users)}); change their triggers first.");
        }

        await db.EventTypes.Where(e => e.Id == eventType.Id).ExecuteDeleteAsync(cancellationToken);
        return true;
    }

    private static JsonObject Validate(EventTypeRequest request, ValidationErrors errors)
    {
        WorkflowRules.Length(request.Description, "description", 2000, errors);
        var schema = request.Schema ?? new JsonObject { ["type"] = "object" };
        if (JsonSchemas.Check(schema) is { } problem)
        {
            errors.Add("schema", problem);
        }

        return schema;
    }

    private Task<CustomEventType?> FindAsync(string workspaceId, string nameOrId, bool tracking, CancellationToken cancellationToken)
    {
        var types = tracking ? db.EventTypes : db.EventTypes.AsNoTracking();
        return types.FirstOrDefaultAsync(e => e.WorkspaceId == workspaceId && (e.Id == nameOrId || e.Name == nameOrId), cancellationToken);
    }

    private static EventTypeResponse ToResponse(CustomEventType eventType, IReadOnlyDictionary<string, Actor> resolved) =>
        new(eventType.Id, eventType.Name, eventType.Description, JsonNode.Parse(eventType.Schema)!.AsObject(), false, eventType.Version,
            resolved.Find(eventType.CreatedBy), resolved.Find(eventType.UpdatedBy), eventType.CreatedAt, eventType.UpdatedAt);

    // The payload's members, each with its JSON type (null: any), as a schema that allows more members later.
    private static EventTypeResponse Builtin(string name, string description, string members)
    {
        var properties = new JsonObject();
        foreach (var (member, type) in JsonNode.Parse(members)!.AsObject())
        {
            properties[member] = type is null ? new JsonObject() : new JsonObject { ["type"] = type.DeepClone() };
        }

        var schema = new JsonObject { ["type"] = "object", ["properties"] = properties, ["required"] = new JsonArray([.. properties.Select(p => (JsonNode)p.Key)]) };
        return new EventTypeResponse(null, name, description, schema, true, 1, null, null, null, null);
    }

    private static ServiceError NotFound(string nameOrId) => ServiceError.NotFound($"Event type '{nameOrId}' not found.");
}
