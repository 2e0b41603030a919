using System.Text.Json;
using Cadre.Runs;
using Cadre.Storage;

namespace Cadre.Analytics;

/// <summary>One model call as analytics keeps it.</summary>
internal sealed record UsageRecord(
    string StepId, string Model, string? PersonaId, int? PersonaVersion, long InputTokens, long OutputTokens, long CachedInputTokens, long CostNanos);

/// <summary>
/// Writes a commit's analytics facts into the same transaction as the commit, so what analytics
/// counts can neither be lost nor counted twice: a run coming to rest, a run leaving its rest (the
/// earlier outcome taken back, so a failed run retried to success counts once, as a success), model
/// calls and settled approvals.
/// </summary>
internal static class AnalyticsRecorder
{
    /// <summary>Notes a model call's persona version on the run, in order of first use.</summary>
    public static void NotePersona(Run run, string personaId, int version)
    {
        var key = Contributions.VersionKey(personaId, version);
        var list = run.Personas is null ? [] : JsonSerializer.Deserialize<List<string>>(run.Personas) ?? [];
        if (!list.Contains(key, StringComparer.Ordinal))
        {
            list.Add(key);
            run.Personas = JsonSerializer.Serialize(list);
        }
    }

    public static void Collect(CadreDbContext db, RunState state)
    {
        var run = state.Run;
        foreach (var usage in state.Usage)
        {
            db.AnalyticsFacts.Add(new AnalyticsFact
            {
                WorkspaceId = run.WorkspaceId,
                WorkflowId = run.WorkflowId,
                RunId = run.Id,
                Kind = "usage",
                At = state.Now,
                StepId = usage.StepId,
                Model = usage.Model,
                PersonaId = usage.PersonaId,
                PersonaVersion = usage.PersonaVersion,
                InputTokens = usage.InputTokens,
                OutputTokens = usage.OutputTokens,
                CachedInputTokens = usage.CachedInputTokens,
                CostNanos = usage.CostNanos,
            });
        }

        foreach (var wait in state.ApprovalWaits)
        {
            db.AnalyticsFacts.Add(new AnalyticsFact
            {
                WorkspaceId = run.WorkspaceId, WorkflowId = run.WorkflowId, RunId = run.Id, Kind = "approval", At = state.Now, DurationMs = Milliseconds(wait),
            });
        }

        if (state.InitialStatus == run.Status)
        {
            return;
        }

        var started = run.StartedAt ?? run.CreatedAt;
        if (RunState.IsRestingStatus(state.InitialStatus) && state.InitialRestedAt is { } restedAt)
        {
            db.AnalyticsFacts.Add(RunFact(run, -1, state.InitialStatus, restedAt, Milliseconds(restedAt - started), state.InitialPersonas));
        }

        if (RunState.IsRestingStatus(run.Status))
        {
            run.RestedAt = state.Now;
            db.AnalyticsFacts.Add(RunFact(run, 1, run.Status, state.Now, Milliseconds(state.Now - started), run.Personas));
        }
        else
        {
            run.RestedAt = null;
        }
    }

    private static AnalyticsFact RunFact(Run run, int sign, string status, DateTime at, long durationMs, string? personas) => new()
    {
        WorkspaceId = run.WorkspaceId,
        WorkflowId = run.WorkflowId,
        RunId = run.Id,
        Kind = "run",
        At = at,
        Sign = sign,
        Status = status,
        DurationMs = durationMs,
        Personas = personas,
    };

    private static long Milliseconds(TimeSpan span) => Math.Max(0, (long)span.TotalMilliseconds);
}
