using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text.Json.Nodes;
using Cadre.Auth;
using Cadre.Common;
using Cadre.Storage;
using Microsoft.EntityFrameworkCore;

namespace Cadre.Audit;

/// <summary>
/// Writes and reads the audit log. Writes go through a context of their own, so an entry never
/// carries along whatever the request's own context still tracks.
/// </summary>
internal sealed class AuditLog(IDbContextFactory<CadreDbContext> contexts, CadreDbContext db, IdGenerator ids, TimeProvider time)
{
    /// <summary>Longest user agent kept; the rest is cut.</summary>
    public const int MaxUserAgentLength = 512;

    /// <summary>Entries an export reads per query: small enough that no read holds the database long.</summary>
    private const int ExportBatch = 500;

    /// <summary>Appends an entry, copying in the actor's and workspace's names as they are now.</summary>
    public async Task<string> WriteAsync(AuditRecord record, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(record);
        await using var context = await contexts.CreateDbContextAsync(cancellationToken);
        var actor = record.Actor;
        string? name = null, email = null, keyPrefix = null;
        if (actor.KeyId is { } keyId)
        {
            var key = await context.ApiKeys.AsNoTracking().Where(k => k.Id == keyId).Select(k => new { k.Name, k.KeyPrefix }).FirstOrDefaultAsync(cancellationToken);
            keyPrefix = key?.KeyPrefix;
            name = actor.Kind == CallerKind.InstanceKey ? key?.Name : null;
        }

        switch (actor.Kind)
        {
            case CallerKind.User:
                var user = await context.Users.AsNoTracking().Where(u => u.Id == actor.Id).Select(u => new { u.DisplayName, u.Email }).FirstOrDefaultAsync(cancellationToken);
                (name, email) = (user?.DisplayName, user?.Email);
                break;
            case CallerKind.ServiceAccount:
                name = await context.ServiceAccounts.AsNoTracking().Where(s => s.Id == actor.Id).Select(s => s.Name).FirstOrDefaultAsync(cancellationToken);
                break;
            case CallerKind.InstanceKey when name is null:
                name = await context.ApiKeys.AsNoTracking().Where(k => k.Id == actor.Id).Select(k => k.Name).FirstOrDefaultAsync(cancellationToken);
                break;
            case null when actor.Via == AuditActor.ConsoleVia:
                name = actor.Id;
                break;
        }

        var workspaceId = record.WorkspaceId ?? await WorkspaceOfAsync(context, record.ResourceType, record.ResourceId, cancellationToken);
        var workspaceName = workspaceId is null
            ? null
            : await context.Workspaces.AsNoTracking().Where(w => w.Id == workspaceId).Select(w => w.Name).FirstOrDefaultAsync(cancellationToken);
        var entry = new AuditEntry
        {
            Id = ids.NewId(AuditEntry.IdPrefix),
            WorkspaceId = workspaceId,
            WorkspaceName = workspaceName,
            At = time.GetUtcNowTruncated(),
            ActorKind = actor.Kind switch
            {
                CallerKind.User => "user",
                CallerKind.ServiceAccount => "service_account",
                CallerKind.InstanceKey => "instance_key",
                null when actor.Via == AuditActor.ConsoleVia => "operator",
                _ => "anonymous",
            },
            ActorId = actor.Id,
            ActorName = name,
            ActorEmail = email,
            Via = actor.Via,
            KeyId = actor.KeyId,
            KeyPrefix = keyPrefix,
            Action = record.Action,
            ResourceType = record.ResourceType,
            ResourceId = Cut(record.ResourceId, 300),
            ResourceName = Cut(record.ResourceName, 300),
            Method = record.Method,
            Path = Cut(record.Path, 2000)!,
            Status = record.Status,
            ClientIp = record.ClientIp,
            UserAgent = Cut(record.UserAgent, MaxUserAgentLength),
            TraceId = record.TraceId,
            Details = record.Details is { Count: > 0 } details ? details.ToJsonString() : null,
        };
        context.AuditEntries.Add(entry);
        await context.SaveChangesAsync(cancellationToken);
        return entry.Id;
    }

    /// <summary>
    /// The workspace of a resource reached without one (a webhook's run, a signed upload URL's file):
    /// it is the workspace's business, so its log holds the entry.
    /// </summary>
    private static async Task<string?> WorkspaceOfAsync(CadreDbContext context, string? type, string? id, CancellationToken cancellationToken) =>
        (type, id) switch
        {
            (_, null) => null,
            ("workspace", _) => await context.Workspaces.AsNoTracking().Where(w => w.Id == id).Select(w => w.Id).FirstOrDefaultAsync(cancellationToken),
            ("run", _) => await context.Runs.AsNoTracking().Where(r => r.Id == id).Select(r => r.WorkspaceId).FirstOrDefaultAsync(cancellationToken),
            ("file", _) => await context.Files.AsNoTracking().Where(f => f.Id == id).Select(f => f.WorkspaceId).FirstOrDefaultAsync(cancellationToken),
            _ => null,
        };

    /// <summary>One page of a workspace's entries (or, with a null workspace, the instance's: every entry, <see cref="AuditQuery.Workspace"/> narrowing), newest first.</summary>
    public async Task<ServiceResult<Page<AuditEntryResponse>>> ListAsync(string? workspaceId, AuditQuery filter, PageRequest page, CancellationToken cancellationToken)
    {
        var (query, error) = await FilterAsync(workspaceId, filter, cancellationToken);
        if (error is not null)
        {
            return error;
        }

        var found = await query!.ToPageAsync(e => e.Id, page, cancellationToken);
        return found.Map(ToResponse);
    }

    /// <summary>Checks the filters of an export before it starts streaming (a bad one is a 400, not a broken download).</summary>
    public async Task<ServiceError?> ValidateAsync(string? workspaceId, AuditQuery filter, CancellationToken cancellationToken) =>
        (await FilterAsync(workspaceId, filter, cancellationToken)).Error;

    /// <summary>Every matching entry, oldest first (a log reads in the order it happened), read in batches.</summary>
    public async IAsyncEnumerable<AuditEntryResponse> ExportAsync(string? workspaceId, AuditQuery filter, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var query = (await FilterAsync(workspaceId, filter, cancellationToken)).Query
            ?? throw new InvalidOperationException("ExportAsync needs filters ValidateAsync accepted.");
        string? after = null;
        while (true)
        {
#pragma warning disable CA1309 // Translated to SQL >, which compares IDs bytewise (their columns use the C collation).
            var batch = await query.Where(e => after == null || string.Compare(e.Id, after) > 0)
                .OrderBy(e => e.Id).Take(ExportBatch).ToListAsync(cancellationToken);
#pragma warning restore CA1309
            foreach (var entry in batch)
            {
                yield return ToResponse(entry);
            }

            if (batch.Count < ExportBatch)
            {
                yield break;
            }

            after = batch[^1].Id;
        }
    }

    private async Task<(IQueryable<AuditEntry>? Query, ServiceError? Error)> FilterAsync(string? workspaceId, AuditQuery filter, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(filter);
        var errors = new ValidationErrors();
        var query = db.AuditEntries.AsNoTracking();
        if (workspaceId is not null)
        {
            query = query.Where(e => e.WorkspaceId == workspaceId);
        }
        else if (filter.Workspace is { } workspace)
        {
            if (workspace == "none")
            {
                query = query.Where(e => e.WorkspaceId == null);
            }
            else
            {
                // An ID finds a deleted workspace's entries too; a name, only the current workspace of that name.
                var id = await db.Workspaces.AsNoTracking().Where(w => w.Name == workspace).Select(w => w.Id).FirstOrDefaultAsync(cancellationToken) ?? workspace;
                query = query.Where(e => e.WorkspaceId == id);
            }
        }

        if (filter.Actor is { } actor)
        {
            query = query.Where(e => e.ActorId == actor || e.KeyId == actor);
        }

        if (filter.Action is { } action)
        {
            var star = action.IndexOf('*', StringComparison.Ordinal);
            if (action.Length == 0 || (star >= 0 && star != action.Length - 1))
            {
                errors.Add("action", "Must be an action (workflow.created), or a prefix ending in * (workflow.*).");
            }
            else if (star < 0)
            {
                query = query.Where(e => e.Action == action);
            }
            else if (action.Length > 1)
            {
                var prefix = action[..^1];
                query = query.Where(e => e.Action.StartsWith(prefix));
            }
        }

        if (filter.ResourceType is { } type)
        {
            query = query.Where(e => e.ResourceType == type);
        }

        if (filter.ResourceId is { } resource)
        {
            query = query.Where(e => e.ResourceId == resource);
        }

        if (Instant(filter.From, "from", errors) is { } from)
        {
            query = query.Where(e => e.At >= from);
        }

        if (Instant(filter.To, "to", errors) is { } to)
        {
            query = query.Where(e => e.At < to);
        }

        if (filter.Status is { } status)
        {
            if (status is ['1' or '2' or '3' or '4' or '5', 'x' or 'X', 'x' or 'X'])
            {
                var low = (status[0] - '0') * 100;
                query = query.Where(e => e.Status >= low && e.Status < low + 100);
            }
            else if (int.TryParse(status, NumberStyles.None, CultureInfo.InvariantCulture, out var code) && code is >= 100 and <= 599)
            {
                query = query.Where(e => e.Status == code);
            }
            else
            {
                errors.Add("status", "Must be an HTTP status (201) or a class of them (2xx, 4xx).");
            }
        }

        return errors.IsEmpty ? (query, null) : (null, ServiceError.Validation(errors));
    }

    private static DateTime? Instant(string? text, string field, ValidationErrors errors)
    {
        if (text is null)
        {
            return null;
        }

        if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var instant))
        {
            return instant.ToStorageTime();
        }

        errors.Add(field, "Must be an ISO-8601 instant such as 2026-01-31T09:30:00Z.");
        return null;
    }

    internal static AuditEntryResponse ToResponse(AuditEntry e) => new(
        e.Id,
        e.WorkspaceId,
        e.WorkspaceName,
        e.At,
        new AuditActorResponse(e.ActorKind, e.ActorId, e.ActorName, e.ActorEmail, e.Via, e.KeyId, e.KeyPrefix),
        e.Action,
        e.ResourceType is null ? null : new AuditResourceResponse(e.ResourceType, e.ResourceId, e.ResourceName),
        new AuditRequestResponse(e.Method, e.Path, e.Status, e.ClientIp, e.UserAgent, e.TraceId),
        e.Details is null ? null : JsonNode.Parse(e.Details) as JsonObject);

    private static string? Cut(string? text, int max) => text is { Length: var length } && length > max ? text[..max] : text;
}
