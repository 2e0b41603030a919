using System.Text;
using System.Text.Json.Nodes;
using Cadre.Common;
using Cadre.Storage;
using Microsoft.EntityFrameworkCore;

namespace Cadre.Runs;

/// <summary>
/// Writes an attempt's live output into the run's event log as <c>message_delta</c> events, each in
/// its own small commit on its own connection (the attempt's commit comes later), so subscribers
/// see tokens as they come and a resumed stream replays them exactly. Tokens are coalesced: the
/// first goes out at once (time to first token is what people feel), the rest about every 50 ms,
/// which bounds the writes per streaming step to about twenty a second.
/// </summary>
/// <remarks>
/// Everything it writes passes the run's <see cref="Secrets.SecretRedactor"/>. Tokens are held back
/// while the text so far ends with what could be the start of a secret's value, so a value split
/// across two writes is still caught whole.
/// </remarks>
internal sealed class RunStreamWriter(
    IDbContextFactory<CadreDbContext> contexts, RunNotifier notifier, TimeProvider time, string workspaceId, string runId, string stepId, int attempt, int iteration, string attemptKey,
    Secrets.SecretRedactor redactor)
    : IRunStream, IAsyncDisposable
{
    internal static readonly TimeSpan CoalesceFor = TimeSpan.FromMilliseconds(50);

    private readonly StringBuilder _pending = new();
    private readonly SemaphoreSlim _writing = new(1, 1);
    private long? _lastWrite;

    public async ValueTask DeltaAsync(string text, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(text))
        {
            return;
        }

        await _writing.WaitAsync(cancellationToken);
        try
        {
            _pending.Append(text);
            if (_lastWrite is null || time.GetElapsedTime(_lastWrite.Value) >= CoalesceFor)
            {
                await WritePendingAsync(whole: false, cancellationToken);
            }
        }
        finally
        {
            _writing.Release();
        }
    }

    public async ValueTask FlushAsync(CancellationToken cancellationToken)
    {
        await _writing.WaitAsync(cancellationToken);
        try
        {
            await WritePendingAsync(whole: true, cancellationToken);
        }
        finally
        {
            _writing.Release();
        }
    }

    public async Task MessageAsync(string role, string text, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var data = new JsonObject { ["role"] = role, ["text"] = redactor.Redact(text), ["stepId"] = stepId };
        db.RunEvents.Add(new RunEvent { RunId = runId, WorkspaceId = workspaceId, Type = "message", Data = data.ToJsonString(), CreatedAt = time.GetUtcNowTruncated() });
        await db.SaveChangesAsync(cancellationToken);
        notifier.Publish(workspaceId, runId);
    }

    public async Task CheckpointAsync(JsonNode state, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(state);
        // A resumed attempt reads the redacted conversation back: a secret's value is never kept, even to resume.
        var json = redactor.RedactJson(state.ToJsonString());
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var saved = await db.StepCheckpoints.FirstOrDefaultAsync(c => c.RunId == runId && c.AttemptKey == attemptKey, cancellationToken);
        if (saved is null)
        {
            db.StepCheckpoints.Add(new StepCheckpoint { RunId = runId, AttemptKey = attemptKey, State = json, UpdatedAt = time.GetUtcNowTruncated() });
        }
        else
        {
            saved.State = json;
            saved.UpdatedAt = time.GetUtcNowTruncated();
        }

        await db.SaveChangesAsync(cancellationToken);
    }

    public async Task<JsonNode?> ReadCheckpointAsync(CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var state = await db.StepCheckpoints.AsNoTracking().Where(c => c.RunId == runId && c.AttemptKey == attemptKey).Select(c => c.State).FirstOrDefaultAsync(cancellationToken);
        return state is null ? null : JsonNode.Parse(state);
    }

    public async Task<JsonNode?> ReadEarlierCheckpointAsync(CancellationToken cancellationToken)
    {
        var keys = Enumerable.Range(1, attempt - 1).Select(a => ActivityContext.KeyFor(runId, stepId, a, iteration)).ToList();
        if (keys.Count == 0)
        {
            return null;
        }

        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var saved = await db.StepCheckpoints.AsNoTracking().Where(c => c.RunId == runId && keys.Contains(c.AttemptKey)).Select(c => new { c.AttemptKey, c.State }).ToListAsync(cancellationToken);
        return saved.OrderByDescending(c => keys.IndexOf(c.AttemptKey)).Select(c => JsonNode.Parse(c.State)).FirstOrDefault();
    }

    public async Task<IReadOnlyList<SessionPrompt>> ReadPromptsAsync(long afterId, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var events = await db.RunEvents.AsNoTracking().Where(e => e.RunId == runId && e.Type == SessionPrompts.EventType && e.Id > afterId)
            .OrderBy(e => e.Id).Select(e => new { e.Id, e.Data }).ToListAsync(cancellationToken);
        return [.. events.Select(e => SessionPrompts.FromEvent(e.Id, JsonNode.Parse(e.Data)!.AsObject())).Where(p => p.StepId == stepId).Select(p => p.Prompt)];
    }

    public IDisposable OnInterrupt(Action onInterrupt) => notifier.OnInterrupt(runId, onInterrupt);

    public async ValueTask DisposeAsync()
    {
        try
        {
            // Whatever was streamed before a failure or a cancellation is part of the attempt's record.
            await FlushAsync(CancellationToken.None);
        }
        catch (Exception ex) when (ex is DbUpdateException or InvalidOperationException or System.Data.Common.DbException)
        {
            // The database is unreachable: the attempt's own commit reports that; the deltas are only a preview.
        }

        _writing.Dispose();
    }

    /// <param name="whole">Write everything (the message is complete); otherwise hold back a tail that may begin a secret's value.</param>
    private async Task WritePendingAsync(bool whole, CancellationToken cancellationToken)
    {
        if (_pending.Length == 0)
        {
            return;
        }

        var text = redactor.Redact(_pending.ToString());
        var held = whole ? 0 : redactor.HoldBack(text);
        if (held == text.Length)
        {
            return;
        }

        var data = new JsonObject { ["stepId"] = stepId, ["attempt"] = attempt, ["text"] = text[..^held] };
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        db.RunEvents.Add(new RunEvent { RunId = runId, WorkspaceId = workspaceId, Type = "message_delta", Data = data.ToJsonString(), CreatedAt = time.GetUtcNowTruncated() });
        await db.SaveChangesAsync(cancellationToken);
        _pending.Clear().Append(text, text.Length - held, held);
        _lastWrite = time.GetTimestamp();
        notifier.Publish(workspaceId, runId);
    }
}
