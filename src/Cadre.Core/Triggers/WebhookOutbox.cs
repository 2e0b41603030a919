using System.Text.Json;
using System.Text.Json.Nodes;
using Cadre.Common;
using Cadre.Runs;
using Cadre.Storage;
using Microsoft.EntityFrameworkCore;

namespace Cadre.Triggers;

/// <summary>
/// Adds outbound deliveries to the transaction of what they report: a run's end to its workflow's
/// notification URLs, an event to the subscriptions that take its type. The sender posts them later.
/// </summary>
internal static class WebhookOutbox
{
    /// <summary>The body every delivery posts: Standard Webhooks' recommended shape.</summary>
    public static string Body(string type, DateTime timestamp, JsonObject data) =>
        new JsonObject { ["type"] = type, ["timestamp"] = timestamp, ["data"] = data.DeepClone() }.ToJsonString();

    /// <summary>In a run's commit: notifications of its end (<c>webhookUrl</c> for any end, <c>errorWebhookUrl</c> for a failure); answers how many.</summary>
    public static int AddRunNotifications(CadreDbContext db, IdGenerator ids, RunState state)
    {
        var run = state.Run;
        var notifications = state.Workflow.Spec.Notifications;
        if (notifications is null || run.Status == state.InitialStatus || !RunState.IsTerminalStatus(run.Status))
        {
            return 0;
        }

        var failed = run.Status != "succeeded";
        var type = failed ? "run.failed" : "run.succeeded";
        var data = new JsonObject
        {
            ["runId"] = run.Id,
            ["displayId"] = run.DisplayId,
            ["workflowId"] = run.WorkflowId,
            ["workflowName"] = state.Workflow.Spec.Name,
            ["workflowVersion"] = run.WorkflowVersion,
            ["status"] = run.Status,
            ["output"] = failed ? null : RunState.Parse(run.Output),
            ["error"] = failed ? RunState.Parse(run.Error) : null,
            ["startedAt"] = run.StartedAt,
            ["finishedAt"] = run.FinishedAt,
        };
        var urls = new List<string>();
        if (notifications.WebhookUrl is { } url)
        {
            urls.Add(url);
        }

        if (failed && notifications.ErrorWebhookUrl is { } errorUrl && !urls.Contains(errorUrl, StringComparer.Ordinal))
        {
            urls.Add(errorUrl);
        }

        foreach (var target in urls)
        {
            db.WebhookDeliveries.Add(new WebhookDelivery
            {
                Id = ids.NewId(WebhookDelivery.IdPrefix),
                WorkspaceId = run.WorkspaceId,
                WorkflowId = run.WorkflowId,
                RunId = run.Id,
                Url = target,
                EventType = type,
                Payload = Body(type, state.Now, data),
                SigningSecret = notifications.SigningSecret,
                Status = "pending",
                NextAttemptAt = state.Now,
                CreatedAt = state.Now,
            });
        }

        return urls.Count;
    }

    /// <summary>Saves a delivery of the event to each active subscription that takes its type and has none yet; answers how many.</summary>
    public static async Task<int> AddEventDeliveriesAsync(CadreDbContext db, IdGenerator ids, WorkspaceEvent record, DateTime now, CancellationToken cancellationToken)
    {
        var workspaceId = record.WorkspaceId;
        var subscriptions = (await db.WebhookSubscriptions.AsNoTracking().Where(s => s.WorkspaceId == workspaceId && s.IsActive).ToListAsync(cancellationToken))
            .Where(s => Patterns(s.EventTypes).Any(p => EventPatterns.Matches(p, record.Type)))
            .ToList();
        if (subscriptions.Count == 0)
        {
            return 0;
        }

        var eventId = record.Id;
        var done = await db.WebhookDeliveries.AsNoTracking().Where(d => d.EventId == eventId && d.SubscriptionId != null).Select(d => d.SubscriptionId!).ToListAsync(cancellationToken);
        var data = new JsonObject
        {
            ["id"] = record.Id,
            ["source"] = record.Source,
            ["payload"] = RunState.Parse(record.Payload),
            ["occurredAt"] = record.OccurredAt ?? record.CreatedAt,
        };
        var added = 0;
        foreach (var subscription in subscriptions.Where(s => !done.Contains(s.Id)))
        {
            db.WebhookDeliveries.Add(new WebhookDelivery
            {
                Id = ids.NewId(WebhookDelivery.IdPrefix),
                WorkspaceId = workspaceId,
                SubscriptionId = subscription.Id,
                EventId = record.Id,
                Url = subscription.Url,
                EventType = record.Type,
                Payload = Body(record.Type, record.CreatedAt, data),
                Status = "pending",
                NextAttemptAt = now,
                CreatedAt = now,
            });
            added++;
        }

        return added;
    }

    public static IReadOnlyList<string> Patterns(string eventTypes) => JsonSerializer.Deserialize<List<string>>(eventTypes) ?? [];
}
