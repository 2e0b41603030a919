using System.Text.Json.Nodes;
using Cadre.Expressions;
using Cadre.Runs;
using Cadre.Storage;
using Microsoft.EntityFrameworkCore;

namespace Cadre.Triggers;

/// <summary>Hands a newly recorded event to the wait_for_event steps waiting for it, in the transaction that records it.</summary>
internal static class EventWaitClaims
{
    /// <summary>Claims every open wait the event matches and queues its step's wake-up; answers how many it woke.</summary>
    public static async Task<int> ClaimAsync(CadreDbContext db, WorkspaceEvent record, DateTime now, CancellationToken cancellationToken)
    {
        var workspaceId = record.WorkspaceId;
        var type = record.Type;
        var waits = await db.EventWaits.AsNoTracking().Where(w => w.WorkspaceId == workspaceId && w.EventType == type && w.EventId == null).ToListAsync(cancellationToken);
        if (waits.Count == 0)
        {
            return 0;
        }

        var scope = new ExpressionScope(new Dictionary<string, JsonNode?> { ["event"] = RunEngine.EventJson(record) }, new DateTimeOffset(now, TimeSpan.Zero));
        var woken = 0;
        foreach (var wait in waits)
        {
            bool matches;
            try
            {
                matches = Filter.Parse(RunState.Parse(wait.Filters), new ExpressionOptions { Roots = WaitForEventActivity.EventRoots }).Matches(scope);
            }
            catch (Exception ex) when (ex is FilterException or ExpressionEvaluationException)
            {
                // A filter that cannot read this payload does not match it.
                matches = false;
            }

            // Claimed only while still open: of two events committed at once, one wakes the step.
            if (!matches || await db.EventWaits
                    .Where(w => w.RunId == wait.RunId && w.StepId == wait.StepId && w.Iteration == wait.Iteration && w.EventId == null)
                    .ExecuteUpdateAsync(w => w.SetProperty(x => x.EventId, record.Id), cancellationToken) == 0)
            {
                continue;
            }

            woken++;
            db.Tasks.Add(new RunTask
            {
                RunId = wait.RunId,
                WorkspaceId = wait.WorkspaceId,
                StepId = wait.StepId,
                Kind = "timer",
                Attempt = wait.Attempt,
                Iteration = wait.Iteration,
                Status = "queued",
                AvailableAt = now,
                CreatedAt = now,
            });
        }

        return woken;
    }
}
