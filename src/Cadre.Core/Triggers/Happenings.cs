using System.Linq.Expressions;
using System.Text.Json.Nodes;
using Cadre.Common;
using Cadre.Runs;
using Cadre.Storage;
using Microsoft.EntityFrameworkCore;

namespace Cadre.Triggers;

/// <summary>
/// Cadre's own happenings (a run ended, an approval was asked for or decided, a persona published)
/// as events of the built-in types, added to the transaction of the change itself. Only a type some
/// active workflow or webhook subscription listens for is recorded: most happenings have no listener, and recording them all
/// would double the rows a run writes.
/// </summary>
internal static class Happenings
{
    /// <summary>Adds an event for each happening a workflow of the workspace listens for; answers how many.</summary>
    public static async Task<int> RecordAsync(
        CadreDbContext db, IdGenerator ids, string workspaceId, IReadOnlyList<(string Type, JsonObject Payload)> happenings, int depth, DateTime now,
        CancellationToken cancellationToken)
    {
        if (happenings.Count == 0)
        {
            return 0;
        }

        var types = happenings.Select(h => h.Type).Distinct(StringComparer.Ordinal).ToList();
        // A commit mostly has one happening (its run's end): compared as one value, the query's SQL is
        // cached whole, where a list parameter has EF Core rework the SQL on every execution.
        var single = types[0];
        Expression<Func<Workflows.Workflow, bool>> typeMatches = types.Count == 1
            ? w => w.TriggerEventType == single || EF.Functions.Like(w.TriggerEventType!, "%*%")
            : w => types.Contains(w.TriggerEventType!) || EF.Functions.Like(w.TriggerEventType!, "%*%");
        // Workflows' trigger patterns and subscriptions' lists (JSON arrays) in one round trip: this runs in every commit that ends a run.
        var listened = await db.Workflows.AsNoTracking()
            .Where(w => w.WorkspaceId == workspaceId && w.DeletedAt == null && w.IsActive && w.Type == "event")
            .Where(typeMatches)
            .Select(w => w.TriggerEventType!)
            .Concat(db.WebhookSubscriptions.AsNoTracking().Where(s => s.WorkspaceId == workspaceId && s.IsActive).Select(s => s.EventTypes))
            .ToListAsync(cancellationToken);
        var patterns = listened.SelectMany(p => p.StartsWith('[') ? WebhookOutbox.Patterns(p) : [p]).Distinct(StringComparer.Ordinal).ToList();
        var recorded = 0;
        foreach (var (type, payload) in happenings)
        {
            if (!patterns.Any(pattern => EventPatterns.Matches(pattern, type)))
            {
                continue;
            }

            db.WorkspaceEvents.Add(new WorkspaceEvent
            {
                Id = ids.NewId(WorkspaceEvent.IdPrefix),
                WorkspaceId = workspaceId,
                Type = type,
                Source = "cadre",
                Payload = payload.ToJsonString(),
                Origin = "cadre",
                Depth = depth,
                CreatedAt = now,
            });
            recorded++;
        }

        return recorded;
    }

    /// <summary>What a commit of a run tells about it: its end, and approvals it opened.</summary>
    public static void Collect(RunState state)
    {
        var run = state.Run;
        if (run.Status != state.InitialStatus && run.Status is "succeeded" or "failed" or "compensated" or "halted")
        {
            var payload = new JsonObject { ["runId"] = run.Id, ["workflowId"] = run.WorkflowId, ["workflowVersion"] = run.WorkflowVersion, ["displayId"] = run.DisplayId };
            switch (run.Status)
            {
                case "succeeded":
                    payload["output"] = RunState.Parse(run.Output);
                    state.Happenings.Add(("run.succeeded", payload));
                    break;
                case "halted":
                    state.Happenings.Add(("run.halted", payload));
                    break;
                default:
                    payload["status"] = run.Status;
                    payload["error"] = (string?)RunState.Parse(run.Error)?["message"] ?? $"The run ended {run.Status}.";
                    state.Happenings.Add(("run.failed", payload));
                    break;
            }
        }

        foreach (var (approval, approvers) in state.NewApprovals)
        {
            state.Happenings.Add(("approval.requested", new JsonObject
            {
                ["approvalId"] = approval.Id,
                ["runId"] = run.Id,
                ["stepId"] = approval.StepId,
                ["workflowId"] = run.WorkflowId,
                ["approvers"] = new JsonArray([.. approvers.Select(a => (JsonNode)a)]),
                ["summary"] = approval.Summary,
            }));
        }
    }
}
