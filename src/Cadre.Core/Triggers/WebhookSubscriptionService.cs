using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Cadre.Auth;
using Cadre.Common;
using Cadre.Storage;
using Cadre.Workflows;
using Microsoft.EntityFrameworkCore;

namespace Cadre.Triggers;

/// <summary>Body of create and PATCH (on PATCH, what is absent stays).</summary>
public sealed record WebhookSubscriptionRequest(string? Url = null, IReadOnlyList<string>? EventTypes = null, string? Description = null, bool? IsActive = null);

/// <summary>A subscription as the API answers it; <see cref="Secret"/> only when it was just made (create, rotate).</summary>
public sealed record WebhookSubscriptionResponse(
    string Id, string Url, IReadOnlyList<string> EventTypes, string? Description, bool IsActive, int Version, string? Secret,
    Actor? CreatedBy, Actor? UpdatedBy, DateTime CreatedAt, DateTime UpdatedAt);

/// <summary>One delivery with its attempts (the list leaves the payload and attempts out).</summary>
public sealed record WebhookDeliveryResponse(
    string Id, string? SubscriptionId, string? WorkflowId, string? RunId, string? EventId, string Url, string EventType, string Status, int Attempts,
    DateTime? NextAttemptAt, int? LastStatusCode, string? LastError, DateTime CreatedAt, DateTime? FinishedAt, JsonNode? Payload,
    IReadOnlyList<WebhookAttemptResponse>? AttemptLog);

public sealed record WebhookAttemptResponse(int Attempt, DateTime StartedAt, int DurationMs, int? StatusCode, string? Error, string? Response);

/// <summary>The filters of the delivery list.</summary>
public sealed record WebhookDeliveryQuery(string? Status, string? Subscription, string? Workflow, string? Run, string? EventType);

/// <summary>Subscriptions to the workspace's events, and the deliveries of everything posted out (events and workflows' notifications).</summary>
internal sealed class WebhookSubscriptionService(
    CadreDbContext db, IdGenerator ids, TimeProvider time, ISecretProtector protector, ActorService actors, WebhookSender sender)
{
    public const int MaxEventTypes = 50;

    public static IReadOnlyList<string> Statuses { get; } = ["pending", "delivered", "dead"];

    public async Task<ServiceResult<WebhookSubscriptionResponse>> CreateAsync(string workspaceId, WebhookSubscriptionRequest request, Caller caller, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(caller);
        var errors = new ValidationErrors();
        if (request.Url is null)
        {
            errors.Add("url", "Is required: the http(s) URL events are posted to.");
        }

        if (request.EventTypes is null)
        {
            errors.Add("eventTypes", "Is required: the event types (or patterns such as ticket.* or *) to post.");
        }

        Validate(request, errors);
        if (!errors.IsEmpty)
        {
            return ServiceError.Validation(errors);
        }

        var now = time.GetUtcNowTruncated();
        var secret = NewSecret();
        var subscription = new WebhookSubscription
        {
            Id = ids.NewId(WebhookSubscription.IdPrefix),
            WorkspaceId = workspaceId,
            Url = request.Url!,
            EventTypes = JsonSerializer.Serialize(request.EventTypes),
            Description = request.Description,
            IsActive = request.IsActive ?? true,
            SecretProtected = protector.Protect(secret),
            Version = 1,
            CreatedBy = caller.ActorId,
            UpdatedBy = caller.ActorId,
            CreatedAt = now,
            UpdatedAt = now,
        };
        db.WebhookSubscriptions.Add(subscription);
        await db.SaveChangesAsync(cancellationToken);
        return await ResponseAsync(subscription, secret, cancellationToken);
    }

    public async Task<ServiceResult<Page<WebhookSubscriptionResponse>>> ListAsync(string workspaceId, PageRequest page, CancellationToken cancellationToken)
    {
        var found = await db.WebhookSubscriptions.AsNoTracking().Where(s => s.WorkspaceId == workspaceId).ToPageAsync(s => s.Id, page, cancellationToken);
        var resolved = await actors.ResolveAsync(found.Items.SelectMany(s => new[] { s.CreatedBy, s.UpdatedBy }), cancellationToken);
        return new Page<WebhookSubscriptionResponse>([.. found.Items.Select(s => Response(s, null, resolved))], found.TotalCount, found.Next, found.Previous);
    }

    public async Task<WebhookSubscriptionResponse?> GetAsync(string workspaceId, string id, CancellationToken cancellationToken) =>
        await FindAsync(workspaceId, id, tracking: false, cancellationToken) is { } found ? await ResponseAsync(found, null, cancellationToken) : null;

    public async Task<ServiceResult<WebhookSubscriptionResponse>> UpdateAsync(
        string workspaceId, string id, WebhookSubscriptionRequest request, Caller caller, VersionPrecondition? precondition, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(caller);
        var subscription = await FindAsync(workspaceId, id, tracking: true, cancellationToken);
        if (subscription is null)
        {
            return NotFound(id);
        }

        if (precondition is not null && !precondition.IsMetBy(subscription.Version))
        {
            return ServiceError.PreconditionFailed($"{precondition.Describe()}, but subscription '{id}' is at version {subscription.Version}.");
        }

        var errors = new ValidationErrors();
        Validate(request, errors);
        if (!errors.IsEmpty)
        {
            return ServiceError.Validation(errors);
        }

        subscription.Url = request.Url ?? subscription.Url;
        subscription.EventTypes = request.EventTypes is { } types ? JsonSerializer.Serialize(types) : subscription.EventTypes;
        subscription.Description = request.Description ?? subscription.Description;
        subscription.IsActive = request.IsActive ?? subscription.IsActive;
        return await SaveAsync(subscription, caller, null, cancellationToken);
    }

    /// <summary>A new signing secret, answered once; deliveries from now on are signed with it.</summary>
    public async Task<ServiceResult<WebhookSubscriptionResponse>> RotateSecretAsync(string workspaceId, string id, Caller caller, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(caller);
        var subscription = await FindAsync(workspaceId, id, tracking: true, cancellationToken);
        if (subscription is null)
        {
            return NotFound(id);
        }

        var secret = NewSecret();
        subscription.SecretProtected = protector.Protect(secret);
        return await SaveAsync(subscription, caller, secret, cancellationToken);
    }

    /// <summary>Deletes the subscription; its pending deliveries are given up, its history kept.</summary>
    public async Task<ServiceResult<bool>> DeleteAsync(string workspaceId, string id, CancellationToken cancellationToken)
    {
        var subscription = await FindAsync(workspaceId, id, tracking: false, cancellationToken);
        if (subscription is null)
        {
            return NotFound(id);
        }

        var now = time.GetUtcNowTruncated();
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        await db.WebhookDeliveries.Where(d => d.SubscriptionId == id && d.Status == "pending")
            .ExecuteUpdateAsync(d => d.SetProperty(x => x.Status, "dead").SetProperty(x => x.LastError, "The subscription was deleted.").SetProperty(x => x.FinishedAt, now), cancellationToken);
        await db.WebhookSubscriptions.Where(s => s.Id == id).ExecuteDeleteAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return true;
    }

    public async Task<ServiceResult<Page<WebhookDeliveryResponse>>> ListDeliveriesAsync(string workspaceId, WebhookDeliveryQuery filter, PageRequest page, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(filter);
        var query = db.WebhookDeliveries.AsNoTracking().Where(d => d.WorkspaceId == workspaceId);
        if (filter.Status is { } status)
        {
            if (!Statuses.Contains(status))
            {
                return ServiceError.Validation("status", $"Must be one of {string.Join(", ", Statuses)}.");
            }

            query = query.Where(d => d.Status == status);
        }

        if (filter.Subscription is { } subscription)
        {
            query = query.Where(d => d.SubscriptionId == subscription);
        }

        if (filter.Workflow is { } workflow)
        {
            query = query.Where(d => d.WorkflowId == workflow);
        }

        if (filter.Run is { } run)
        {
            query = query.Where(d => d.RunId == run);
        }

        if (filter.EventType is { } eventType)
        {
            query = query.Where(d => d.EventType == eventType);
        }

        var found = await query.ToPageAsync(d => d.Id, page, cancellationToken);
        return new Page<WebhookDeliveryResponse>([.. found.Items.Select(d => DeliveryResponse(d, null))], found.TotalCount, found.Next, found.Previous);
    }

    public async Task<WebhookDeliveryResponse?> GetDeliveryAsync(string workspaceId, string id, CancellationToken cancellationToken)
    {
        var delivery = await db.WebhookDeliveries.AsNoTracking().FirstOrDefaultAsync(d => d.Id == id && d.WorkspaceId == workspaceId, cancellationToken);
        if (delivery is null)
        {
            return null;
        }

        var attempts = await db.WebhookDeliveryAttempts.AsNoTracking().Where(a => a.DeliveryId == id).OrderBy(a => a.Attempt).ToListAsync(cancellationToken);
        return DeliveryResponse(delivery, attempts);
    }

    /// <summary>Sends a delivered or given-up delivery again, with the same ID (receivers that already took it see a duplicate and may drop it).</summary>
    public async Task<ServiceResult<WebhookDeliveryResponse>> RedeliverAsync(string workspaceId, string id, CancellationToken cancellationToken)
    {
        var delivery = await db.WebhookDeliveries.AsNoTracking().FirstOrDefaultAsync(d => d.Id == id && d.WorkspaceId == workspaceId, cancellationToken);
        if (delivery is null)
        {
            return ServiceError.NotFound($"Delivery '{id}' not found.");
        }

        var now = time.GetUtcNowTruncated();
        // A pending one is already on its way; sending it twice at once would only race its own attempt.
        if (await db.WebhookDeliveries.Where(d => d.Id == id && d.Status != "pending")
                .ExecuteUpdateAsync(d => d.SetProperty(x => x.Status, "pending").SetProperty(x => x.NextAttemptAt, now).SetProperty(x => x.FinishedAt, (DateTime?)null), cancellationToken) == 0)
        {
            return ServiceError.Conflict($"Delivery '{id}' is still pending: it will be attempted again on its own.");
        }

        sender.Wake();
        return (await GetDeliveryAsync(workspaceId, id, cancellationToken))!;
    }

    private static void Validate(WebhookSubscriptionRequest request, ValidationErrors errors)
    {
        if (request.Url is { } url && (url.Length > 2048 || !Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("https" or "http") || uri.UserInfo.Length > 0))
        {
            errors.Add("url", "Must be an http(s) URL of at most 2048 characters, without credentials in it.");
        }

        if (request.EventTypes is { } types)
        {
            if (types.Count is 0 or > MaxEventTypes)
            {
                errors.Add("eventTypes", $"Name 1 to {MaxEventTypes} event types or patterns (ticket.*, run.failed, *).");
            }

            for (var i = 0; i < types.Count; i++)
            {
                if (types[i] is not { } type || !WorkflowRules.EventType().IsMatch(type))
                {
                    errors.Add($"eventTypes[{i}]", "Must be an event type or pattern: letters, digits and . _ : - *.");
                }
            }
        }

        WorkflowRules.Length(request.Description, "description", 2000, errors);
    }

    private async Task<ServiceResult<WebhookSubscriptionResponse>> SaveAsync(WebhookSubscription subscription, Caller caller, string? secret, CancellationToken cancellationToken)
    {
        subscription.Version++;
        subscription.UpdatedBy = caller.ActorId;
        subscription.UpdatedAt = time.GetUtcNowTruncated();
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateConcurrencyException)
        {
            db.ChangeTracker.Clear();
            return ServiceError.Conflict($"Subscription '{subscription.Id}' was changed by another request at the same time. Retry.");
        }

        return await ResponseAsync(subscription, secret, cancellationToken);
    }

    private Task<WebhookSubscription?> FindAsync(string workspaceId, string id, bool tracking, CancellationToken cancellationToken) =>
        (tracking ? db.WebhookSubscriptions : db.WebhookSubscriptions.AsNoTracking()).FirstOrDefaultAsync(s => s.Id == id && s.WorkspaceId == workspaceId, cancellationToken);

    private async Task<WebhookSubscriptionResponse> ResponseAsync(WebhookSubscription subscription, string? secret, CancellationToken cancellationToken) =>
        Response(subscription, secret, await actors.ResolveAsync([subscription.CreatedBy, subscription.UpdatedBy], cancellationToken));

    private static WebhookSubscriptionResponse Response(WebhookSubscription s, string? secret, IReadOnlyDictionary<string, Actor> resolved) =>
        new(s.Id, s.Url, WebhookOutbox.Patterns(s.EventTypes), s.Description, s.IsActive, s.Version, secret, resolved.Find(s.CreatedBy), resolved.Find(s.UpdatedBy), s.CreatedAt, s.UpdatedAt);

    private static WebhookDeliveryResponse DeliveryResponse(WebhookDelivery d, List<WebhookDeliveryAttempt>? attempts) =>
        new(d.Id, d.SubscriptionId, d.WorkflowId, d.RunId, d.EventId, d.Url, d.EventType, d.Status, d.Attempts, d.NextAttemptAt, d.LastStatusCode, d.LastError,
            d.CreatedAt, d.FinishedAt, attempts is null ? null : JsonNode.Parse(d.Payload),
            attempts?.Select(a => new WebhookAttemptResponse(a.Attempt, a.StartedAt, a.DurationMs, a.StatusCode, a.Error, a.Response)).ToList());

    /// <summary>A Standard Webhooks secret: <c>whsec_</c> and 32 random bytes in base64.</summary>
    private static string NewSecret() => "whsec_" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    private static ServiceError NotFound(string id) => ServiceError.NotFound($"Webhook subscription '{id}' not found.");
}
