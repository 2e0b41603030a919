using Cadre.Secrets;
using Microsoft.EntityFrameworkCore.ChangeTracking;

namespace Cadre.Runs;

/// <summary>
/// The last thing a commit does before it writes: every column of the run's records that can carry
/// text a step produced (outputs, errors, the context, events, approvals' questions, waits' filters,
/// emitted payloads, checkpoints) is passed through the run's <see cref="SecretRedactor"/>, so a
/// value read from a secret is never stored, whichever path put it there. Keys, IDs and statuses
/// are left alone. Costs nothing for runs that read no secrets.
/// </summary>
internal static class RunRedaction
{
    private static readonly Dictionary<Type, string[]> Columns = new()
    {
        [typeof(Run)] = [nameof(Run.Output), nameof(Run.Error), nameof(Run.Context)],
        [typeof(RunStep)] = [nameof(RunStep.Output), nameof(RunStep.Error)],
        [typeof(RunTask)] = [nameof(RunTask.Error)],
        [typeof(RunEvent)] = [nameof(RunEvent.Data)],
        [typeof(Approval)] = [nameof(Approval.Summary)],
        [typeof(EventWait)] = [nameof(EventWait.Filters)],
        [typeof(WorkspaceEvent)] = [nameof(WorkspaceEvent.Payload)],
        [typeof(StepCheckpoint)] = [nameof(StepCheckpoint.State)],
    };

    public static void Apply(RunState state, ChangeTracker tracker)
    {
        var redactor = state.Secrets.Redactor;
        if (redactor.IsEmpty)
        {
            return;
        }

        // Every tracked row, changed or not yet detected as changed: a step's output set in this commit
        // is only marked modified when the save detects it.
        foreach (var entry in tracker.Entries())
        {
            if (!Columns.TryGetValue(entry.Entity.GetType(), out var columns))
            {
                continue;
            }

            foreach (var column in columns)
            {
                var property = entry.Property(column);
                if (property.CurrentValue is string text && redactor.RedactJson(text) is var redacted && !ReferenceEquals(redacted, text))
                {
                    property.CurrentValue = redacted;
                }
            }
        }

        // Rows the commit inserts itself, past EF.
        foreach (var step in state.NewSteps)
        {
            step.Output = Redact(redactor, step.Output);
            step.Error = Redact(redactor, step.Error);
        }

        foreach (var task in state.NewTasks)
        {
            task.Error = Redact(redactor, task.Error);
        }

        foreach (var runEvent in state.NewEvents)
        {
            runEvent.Data = redactor.RedactJson(runEvent.Data);
        }
    }

    private static string? Redact(SecretRedactor redactor, string? json) => json is null ? null : redactor.RedactJson(json);
}
