using System.Globalization;
using System.Text.Json.Nodes;
using Cadre.Auth;
using Cadre.Common;
using Cadre.Runs;
using Cadre.Storage;
using Cadre.Workflows;
using Microsoft.EntityFrameworkCore;

namespace Cadre.Triggers;

/// <summary>Body of <c>POST …/events</c>.</summary>
/// <param name="Type">One of the workspace's own event types.</param>
/// <param name="Source">Who sent it (free text, such as <c>crm</c> or <c>github:acme/shop</c>).</param>
/// <param name="Payload">Checked against the type's schema (default <c>{}</c>).</param>
/// <param name="Id">The sender's ID for the event: a second event with the same ID is the same event and starts nothing more.</param>
/// <param name="OccurredAt">When it happened (default: when Cadre received it).</param>
public sealed record IngestEventRequest(string? Type = null, string? Source = null, JsonNode? Payload = null, string? Id = null, DateTimeOffset? OccurredAt = null);

/// <summary>An event of the workspace with the runs it started.</summary>
/// <param name="ExternalId">The sender's ID (or an emit_event step's idempotency key).</param>
/// <param name="Origin"><c>api</c>, <c>run</c> (emitted by a step or tool) or <c>cadre</c> (Cadre's own happenings).</param>
/// <param name="DispatchedAt">When its runs were started; null while that is still to do.</param>
public sealed record EventResponse(
    string Id, string Type, string? Source, JsonNode? Payload, string? ExternalId, string Origin, DateTime OccurredAt, DateTime CreatedAt,
    Actor? ReceivedBy, string? EmittedByRun, string? EmittedByStep, int Replays, DateTime? DispatchedAt, IReadOnlyList<EventRunResponse> Runs);

/// <summary>What ingesting answered: the event, and whether it was new (else its ID had been seen).</summary>
public sealed record IngestedEvent(EventResponse Event, bool Created);

/// <summary>The filters of an event list.</summary>
public sealed record EventQuery(string? Type, string? Origin, string? Source);

/// <summary>
/// Events in a workspace: ingested through the API (this service), received by webhooks, emitted by
/// steps, or Cadre's own happenings. Recording an event and claiming the wait_for_event steps it
/// wakes is one commit; starting the workflows it triggers follows (<see cref="EventDispatcher"/>).
/// </summary>
internal sealed class EventService(
    CadreDbContext db, StorageProvider storage, IdGenerator ids, TimeProvider time, EventTypeService eventTypes, EventDispatcher dispatcher,
    RunNotifier notifier, ActorService actors)
{
    public const int MaxIdLength = 200;
    public const int MaxSourceLength = 200;

    public static IReadOnlyList<string> Origins { get; } = ["api", "run", "cadre"];

    /// <summary>
    /// Records the event and starts its runs. An event whose <c>id</c> was seen is that event: nothing
    /// new is recorded and nothing starts twice (its dispatch is finished if a crash cut it short).
    /// </summary>
    public async Task<ServiceResult<IngestedEvent>> IngestAsync(string workspaceId, IngestEventRequest request, Caller caller, string origin, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(caller);
        var errors = new ValidationErrors();
        var payload = request.Payload?.DeepClone() ?? new JsonObject();
        if (request.Type is not { } type || !WorkflowRules.EventType().IsMatch(type) || type.Contains('*', StringComparison.Ordinal))
        {
            errors.Add("type", "Is required: the name of one of the workspace's event types, such as ticket.created.");
        }
        else if (EventTypeService.ReservedPrefixes.FirstOrDefault(p => type.StartsWith(p, StringComparison.Ordinal)) is { } reserved)
        {
            errors.Add("type", $"Types starting with '{reserved}' are Cadre's own happenings; only Cadre emits them.");
        }
        else if (await eventTypes.GetAsync(workspaceId, type, cancellationToken) is not { } eventType)
        {
            errors.Add("type", $"There is no event type '{type}'; create it at …/event-types first.");
        }
        else
        {
            foreach (var problem in JsonSchemas.Validate(eventType.Schema, payload))
            {
                errors.Add("payload", $"Does not follow the schema of '{type}': {problem}.");
            }
        }

        if (request.Id is { } id && (id.Length is 0 or > MaxIdLength || id.Any(char.IsControl)))
        {
            errors.Add("id", $"Must be 1 to {MaxIdLength} characters, without control characters.");
        }

        if (request.Source is { } source && (source.Length > MaxSourceLength || source.Any(char.IsControl)))
        {
            errors.Add("source", $"Must be at most {MaxSourceLength} characters, without control characters.");
        }

        if (!errors.IsEmpty)
        {
            return ServiceError.Validation(errors);
        }

        if (request.Id is not null && await FindByExternalIdAsync(workspaceId, request.Id, cancellationToken) is { } seen)
        {
            return await RepeatAsync(seen, cancellationToken);
        }

        var now = time.GetUtcNowTruncated();
        var record = new WorkspaceEvent
        {
            Id = ids.NewId(WorkspaceEvent.IdPrefix),
            WorkspaceId = workspaceId,
            Type = request.Type!,
            Source = request.Source,
            Payload = payload.ToJsonString(),
            IdempotencyKey = request.Id,
            Origin = origin,
            OccurredAt = request.OccurredAt is { } occurred ? Truncate(occurred.UtcDateTime) : null,
            ReceivedBy = caller.ActorId,
            CreatedAt = now,
        };
        int woken;
        try
        {
            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            db.WorkspaceEvents.Add(record);
            woken = await EventWaitClaims.ClaimAsync(db, record, now, cancellationToken);
            await db.SaveChangesAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }
        catch (DbUpdateException ex) when (storage.IsUniqueViolation(ex) && request.Id is not null)
        {
            // The same ID raced in from another delivery: that one is the event.
            db.ChangeTracker.Clear();
            return await FindByExternalIdAsync(workspaceId, request.Id, cancellationToken) is { } raced
                ? await RepeatAsync(raced, cancellationToken)
                : ServiceError.Conflict($"An event with ID '{request.Id}' is being recorded at this moment. Send it again.");
        }

        db.ChangeTracker.Clear();
        notifier.WorkAvailable(woken);
        await dispatcher.DispatchAsync(record.Id, replay: null, cancellationToken);
        return new IngestedEvent((await GetAsync(workspaceId, record.Id, cancellationToken))!, Created: true);
    }

    public async Task<ServiceResult<Page<EventResponse>>> ListAsync(string workspaceId, EventQuery filter, PageRequest page, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(filter);
        var query = db.WorkspaceEvents.AsNoTracking().Where(e => e.WorkspaceId == workspaceId);
        if (filter.Type is { } type)
        {
            var star = type.IndexOf('*', StringComparison.Ordinal);
            if (star >= 0 && star != type.Length - 1)
            {
                return ServiceError.Validation("type", "Must be an event type, or a prefix ending in * (ticket.*).");
            }

            var prefix = type.TrimEnd('*');
            query = star < 0 ? query.Where(e => e.Type == type) : query.Where(e => e.Type.StartsWith(prefix));
        }

        if (filter.Origin is { } origin)
        {
            if (!Origins.Contains(origin))
            {
                return ServiceError.Validation("origin", $"Must be one of {string.Join(", ", Origins)}.");
            }

            query = query.Where(e => e.Origin == origin);
        }

        if (filter.Source is { } source)
        {
            query = query.Where(e => e.Source == source);
        }

        var found = await query.ToPageAsync(e => e.Id, page, cancellationToken);
        return new Page<EventResponse>(await ResponsesAsync(found.Items, cancellationToken), found.TotalCount, found.Next, found.Previous);
    }

    public async Task<EventResponse?> GetAsync(string workspaceId, string eventId, CancellationToken cancellationToken) =>
        await db.WorkspaceEvents.AsNoTracking().FirstOrDefaultAsync(e => e.Id == eventId && e.WorkspaceId == workspaceId, cancellationToken) is { } record
            ? (await ResponsesAsync([record], cancellationToken))[0]
            : null;

    /// <summary>
    /// Matches the event against the workflows as they are now and starts one more run in each that
    /// takes it (a replay is deliberate: after fixing a workflow, say). Replays are numbered, and each
    /// number starts its runs once.
    /// </summary>
    public async Task<ServiceResult<EventResponse>> ReplayAsync(string workspaceId, string eventId, CancellationToken cancellationToken)
    {
        var record = await db.WorkspaceEvents.FirstOrDefaultAsync(e => e.Id == eventId && e.WorkspaceId == workspaceId, cancellationToken);
        if (record is null)
        {
            return ServiceError.NotFound($"Event '{eventId}' not found.");
        }

        // Numbered by a conditional update, so two replays at once take two numbers.
        var replay = record.Replays + 1;
        if (await db.WorkspaceEvents.Where(e => e.Id == eventId && e.Replays == record.Replays)
                .ExecuteUpdateAsync(e => e.SetProperty(x => x.Replays, replay), cancellationToken) == 0)
        {
            return ServiceError.Conflict($"Event '{eventId}' is being replayed by another request at this moment. Retry.");
        }

        db.ChangeTracker.Clear();
        await dispatcher.DispatchAsync(eventId, replay, cancellationToken);
        return (await GetAsync(workspaceId, eventId, cancellationToken))!;
    }

    private async Task<ServiceResult<IngestedEvent>> RepeatAsync(WorkspaceEvent seen, CancellationToken cancellationToken)
    {
        if (seen.DispatchedAt is null)
        {
            await dispatcher.DispatchAsync(seen.Id, replay: null, cancellationToken);
        }

        return new IngestedEvent((await GetAsync(seen.WorkspaceId, seen.Id, cancellationToken))!, Created: false);
    }

    private Task<WorkspaceEvent?> FindByExternalIdAsync(string workspaceId, string externalId, CancellationToken cancellationToken) =>
        db.WorkspaceEvents.AsNoTracking().FirstOrDefaultAsync(e => e.WorkspaceId == workspaceId && e.IdempotencyKey == externalId, cancellationToken);

    private async Task<List<EventResponse>> ResponsesAsync(IReadOnlyList<WorkspaceEvent> records, CancellationToken cancellationToken)
    {
        var eventIds = records.Select(r => r.Id).ToList();
        var runs = await db.Runs.AsNoTracking().Where(r => r.EventId != null && eventIds.Contains(r.EventId))
            .Join(db.Workflows.AsNoTracking(), r => r.WorkflowId, w => w.Id, (r, w) => new { r.EventId, r.Id, r.DisplayId, r.Status, r.WorkflowId, w.Name, r.IdempotencyKey })
            .OrderBy(r => r.Id).ToListAsync(cancellationToken);
        var resolved = await actors.ResolveAsync(records.Select(r => r.ReceivedBy), cancellationToken);
        return [.. records.Select(r => new EventResponse(
            r.Id, r.Type, r.Source, RunState.Parse(r.Payload), r.IdempotencyKey, r.Origin, r.OccurredAt ?? r.CreatedAt, r.CreatedAt,
            resolved.Find(r.ReceivedBy), r.EmittedByRun, r.EmittedByStep, r.Replays, r.DispatchedAt,
            [.. runs.Where(run => run.EventId == r.Id).Select(run => new EventRunResponse(run.WorkflowId, run.Name, run.Id, run.DisplayId, run.Status, ReplayOf(run.IdempotencyKey), null, KeyPart(run.IdempotencyKey, ":persona:")))]))];
    }

    /// <summary>The replay number in a run's key <c>event:{id}[:replay:{n}][:persona:{personaId}]</c> (0: the event's first dispatch).</summary>
    private static int ReplayOf(string? key) =>
        KeyPart(key, ":replay:") is { } text && int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var replay) ? replay : 0;

    private static string? KeyPart(string? key, string marker)
    {
        var at = key?.IndexOf(marker, StringComparison.Ordinal) ?? -1;
        if (at < 0)
        {
            return null;
        }

        var rest = key![(at + marker.Length)..];
        var end = rest.IndexOf(':', StringComparison.Ordinal);
        return end < 0 ? rest : rest[..end];
    }

    private static DateTime Truncate(DateTime value) => new(value.Ticks - (value.Ticks % TimeSpan.TicksPerMicrosecond), DateTimeKind.Utc);
}
