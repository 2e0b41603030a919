using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Cadre.Auth;
using Cadre.Common;
using Cadre.Members;
using Cadre.Storage;
using Cadre.Users;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;

namespace Cadre.Workspaces;

/// <summary>Creates, reads, changes and deletes workspaces.</summary>
internal sealed class WorkspaceService(
    CadreDbContext db, StorageProvider storage, IdGenerator ids, TimeProvider time, ActorService actors, Files.IFileStore files, ILogger<WorkspaceService> logger)
{
    public const int MaxSettingsBytes = 64 * 1024;

    /// <summary>The setting that caps the workspace's runs in progress (over <c>Cadre:Engine:MaxRunsPerWorkspace</c>).</summary>
    public const string MaxConcurrentRunsSetting = "maxConcurrentRuns";

    /// <summary>The setting naming the time zone the workspace's days are counted in (analytics); UTC when absent.</summary>
    public const string TimeZoneSetting = "timeZone";

    /// <summary>The workspace's time zone as its settings name it, or <c>UTC</c>.</summary>
    internal static string TimeZone(string? settings) =>
        (settings is null ? null : (string?)(JsonNode.Parse(settings)?[TimeZoneSetting] as JsonValue)) ?? "UTC";

    /// <summary>The workspace's cap on runs in progress, or 0 when its settings name none.</summary>
    internal static int MaxConcurrentRuns(string settings) =>
        JsonNode.Parse(settings)?[MaxConcurrentRunsSetting] is JsonValue value && value.TryGetValue<int>(out var runs) && runs > 0 ? runs : 0;

    /// <summary>Creates a workspace; its owner is the named user or, by default, the person creating it.</summary>
    public async Task<ServiceResult<WorkspaceResponse>> CreateAsync(CreateWorkspaceRequest request, Caller caller, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(caller);
        var errors = new ValidationErrors();
        ValidateName(request.Name, errors);
        var displayName = request.DisplayName ?? request.Name;
        if (request.DisplayName is not null || errors.IsEmpty)
        {
            Text.ValidateLabel(displayName, "displayName", 100, errors);
        }

        var settings = request.Settings ?? [];
        ValidateSettings(settings, errors);
        var ownerId = caller.IsUser ? caller.ActorId : null;
        if (request.Owner is not null)
        {
            var normalized = EmailAddress.Normalize(request.Owner);
            ownerId = await db.Users.Where(u => u.Id == request.Owner || u.NormalizedEmail == normalized).Select(u => u.Id).FirstOrDefaultAsync(cancellationToken);
            if (ownerId is null)
            {
                errors.Add("owner", "No account has this ID or address.");
            }
        }

        if (!errors.IsEmpty)
        {
            return ServiceError.Validation(errors);
        }

        var now = time.GetUtcNowTruncated();
        var workspace = new Workspace
        {
            Id = ids.NewId(Workspace.IdPrefix),
            Name = request.Name!,
            DisplayName = displayName!.Trim(),
            Settings = settings.ToJsonString(),
            CreatedBy = caller.ActorId,
            UpdatedBy = caller.ActorId,
            Version = 1,
            CreatedAt = now,
            UpdatedAt = now,
        };
        db.Workspaces.Add(workspace);
        if (ownerId is not null)
        {
            db.WorkspaceMembers.Add(new WorkspaceMember
            {
                WorkspaceId = workspace.Id,
                UserId = ownerId,
                Role = WorkspaceRole.Owner,
                AddedBy = caller.ActorId,
                CreatedAt = now,
                UpdatedAt = now,
            });
        }

        return await SaveAsync(workspace, cancellationToken);
    }

    /// <summary>
    /// Lists the workspaces the caller may see, newest first: all for an instance admin, a person's
    /// own memberships, a service account's or workspace-limited key's one workspace.
    /// </summary>
    public async Task<Page<WorkspaceResponse>> ListAsync(Caller caller, PageRequest page, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(caller);
        var query = db.Workspaces.AsNoTracking();
        if (!caller.IsInstanceAdmin)
        {
            if (caller.WorkspaceId is { } only)
            {
                query = query.Where(w => w.Id == only);
            }

            if (caller.IsUser && caller.InstanceRole is null)
            {
                query = query.Where(w => db.WorkspaceMembers.Any(m => m.WorkspaceId == w.Id && m.UserId == caller.ActorId));
            }
        }

        var workspaces = await query.ToPageAsync(w => w.Id, page, cancellationToken);
        var resolved = await actors.ResolveAsync(workspaces.Items.SelectMany(w => new[] { w.CreatedBy, w.UpdatedBy }), cancellationToken);
        return workspaces.Map(w => ToResponse(w, resolved));
    }

    public Task<WorkspaceRef?> FindAsync(string name, CancellationToken cancellationToken) =>
        db.Workspaces.AsNoTracking()
            .Where(w => w.Name == name)
            .Select(w => new WorkspaceRef(w.Id, w.Name))
            .FirstOrDefaultAsync(cancellationToken);

    public async Task<WorkspaceResponse?> GetAsync(string id, CancellationToken cancellationToken)
    {
        var workspace = await db.Workspaces.AsNoTracking().FirstOrDefaultAsync(w => w.Id == id, cancellationToken);
        return workspace is null ? null : ToResponse(workspace, await actors.ResolveAsync([workspace.CreatedBy, workspace.UpdatedBy], cancellationToken));
    }

    public async Task<ServiceResult<WorkspaceResponse>> UpdateAsync(
        string id, UpdateWorkspaceRequest request, Caller caller, VersionPrecondition? precondition, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(caller);
        var workspace = await db.Workspaces.FirstOrDefaultAsync(w => w.Id == id, cancellationToken);
        if (workspace is null)
        {
            return ServiceError.NotFound("The workspace no longer exists.");
        }

        if (precondition is not null && !precondition.IsMetBy(workspace.Version))
        {
            return Stale(precondition, workspace.Version);
        }

        var errors = new ValidationErrors();
        if (request.Name is not null)
        {
            ValidateName(request.Name, errors);
        }

        if (request.DisplayName is not null)
        {
            Text.ValidateLabel(request.DisplayName, "displayName", 100, errors);
        }

        JsonNode? settings = null;
        if (request.Settings is not null)
        {
            settings = JsonMergePatch.Apply(JsonNode.Parse(workspace.Settings), request.Settings);
            ValidateSettings(settings!.AsObject(), errors);
        }

        if (!errors.IsEmpty)
        {
            return ServiceError.Validation(errors);
        }

        workspace.Name = request.Name ?? workspace.Name;
        workspace.DisplayName = request.DisplayName?.Trim() ?? workspace.DisplayName;
        workspace.Settings = settings?.ToJsonString() ?? workspace.Settings;
        if (db.Entry(workspace).Properties.Any(p => p.IsModified))
        {
            workspace.Version++;
            workspace.UpdatedAt = time.GetUtcNowTruncated();
            workspace.UpdatedBy = caller.ActorId;
        }

        return await SaveAsync(workspace, cancellationToken, precondition);
    }

    /// <summary>Deletes a workspace and, by cascade, everything in it.</summary>
    public async Task<ServiceResult<bool>> DeleteAsync(string id, VersionPrecondition? precondition, CancellationToken cancellationToken)
    {
        var workspace = await db.Workspaces.FirstOrDefaultAsync(w => w.Id == id, cancellationToken);
        if (workspace is null)
        {
            return ServiceError.NotFound("The workspace no longer exists.");
        }

        if (precondition is not null && !precondition.IsMetBy(workspace.Version))
        {
            return Stale(precondition, workspace.Version);
        }

        db.Workspaces.Remove(workspace);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateConcurrencyException)
        {
            return ConcurrentChange(precondition);
        }

        // The files' records went with the workspace; their bytes live in the file store.
        try
        {
            await files.DeletePrefixAsync(Files.FileKeys.WorkspacePrefix(id), CancellationToken.None);
        }
        catch (IOException ex)
        {
            logger.LogWarning(ex, "The files of deleted workspace {WorkspaceId} could not be removed from the file store", id);
        }

        return true;
    }

    private async Task<ServiceResult<WorkspaceResponse>> SaveAsync(
        Workspace workspace, CancellationToken cancellationToken, VersionPrecondition? precondition = null)
    {
        try
        {
            await db.SaveChangesAsync(cancellationToken);
            return ToResponse(workspace, await actors.ResolveAsync([workspace.CreatedBy, workspace.UpdatedBy], cancellationToken));
        }
        catch (DbUpdateConcurrencyException)
        {
            return ConcurrentChange(precondition);
        }
        catch (DbUpdateException ex) when (storage.IsUniqueViolation(ex))
        {
            return ServiceError.Conflict($"A workspace named '{workspace.Name}' already exists.");
        }
    }

    private static ServiceError Stale(VersionPrecondition precondition, int current) =>
        ServiceError.PreconditionFailed($"{precondition.Describe()}, but the workspace is at version {current}. Read it again and retry.");

    private static ServiceError ConcurrentChange(VersionPrecondition? precondition) => precondition is null
        ? ServiceError.Conflict("The workspace was changed by another request at the same time. Retry.")
        : ServiceError.PreconditionFailed("The workspace was changed by another request after the If-Match check. Read it again and retry.");

    private static void ValidateName(string? name, ValidationErrors errors)
    {
        if (string.IsNullOrEmpty(name))
        {
            errors.Add("name", "Is required.");
        }
        else if (!Slug.IsValid(name))
        {
            errors.Add("name", $"Must be {Slug.Rule}");
        }
    }

    private static void ValidateSettings(JsonObject settings, ValidationErrors errors)
    {
        if (Encoding.UTF8.GetByteCount(settings.ToJsonString()) > MaxSettingsBytes)
        {
            errors.Add("settings", $"Must be at most {MaxSettingsBytes / 1024} KiB of JSON.");
        }

        // The settings Cadre itself reads; the rest is the workspace's own.
        if (settings[MaxConcurrentRunsSetting] is { } limit
            && !(limit is JsonValue value && value.TryGetValue<int>(out var runs) && runs >= 0))
        {
            errors.Add($"settings.{MaxConcurrentRunsSetting}", "Must be a whole number: the most runs in progress at once (0: the server's default).");
        }

        Retention.RetentionPolicy.Validate(settings[Retention.RetentionPolicy.Setting], errors);
        if (settings[TimeZoneSetting] is { } zone
            && !(zone is JsonValue text && text.TryGetValue<string>(out var name) && Analytics.AnalyticsCalendar.FindZone(name) is not null))
        {
            errors.Add($"settings.{TimeZoneSetting}", "Must be a time zone's IANA name, such as Europe/Paris or UTC.");
        }
    }

    private static WorkspaceResponse ToResponse(Workspace workspace, IReadOnlyDictionary<string, Actor> actors) => new(
        workspace.Id,
        workspace.Name,
        workspace.DisplayName,
        JsonNode.Parse(workspace.Settings) as JsonObject ?? throw new JsonException($"Settings of workspace {workspace.Id} are not a JSON object."),
        actors.Find(workspace.CreatedBy),
        actors.Find(workspace.UpdatedBy),
        workspace.Version,
        workspace.CreatedAt,
        workspace.UpdatedAt);
}
