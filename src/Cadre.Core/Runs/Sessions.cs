using System.Text.Json.Nodes;
using Cadre.Auth;
using Cadre.Common;
using Cadre.Storage;
using Microsoft.EntityFrameworkCore;

namespace Cadre.Runs;

/// <summary>A further prompt for a session run; or, with <see cref="End"/>, the end of the conversation.</summary>
/// <param name="IfBusy">What to do when the agent is still answering: <c>queue</c> (default, or the step's <c>ifBusy</c>), <c>reject</c> (409) or <c>interrupt</c>.</param>
public sealed record SendMessageRequest(string? Content = null, string? IfBusy = null, bool? End = null);

/// <summary>One message of a run's conversation: a prompt (<c>user</c>) or an agent's answer (<c>assistant</c>).</summary>
/// <param name="Id">The run event that holds it: the conversation's order.</param>
/// <param name="End">A request to end the session (no text).</param>
public sealed record RunMessage(long Id, string? StepId, string Role, string? Text, string? By, bool End, DateTime CreatedAt);

/// <summary>One log line of a run.</summary>
public sealed record RunLogLine(long Id, string? StepId, string Level, string Message, DateTime CreatedAt);

/// <summary>
/// How prompts reach a session: each is a <c>prompt</c> event in the run's log (so it is ordered,
/// durable and streamed like everything else), read by the session's agent step after the last one it took.
/// </summary>
internal static class SessionPrompts
{
    public const string EventType = "prompt";

    /// <summary>Where an agent's checkpoint keeps the last prompt event it took.</summary>
    public const string ConsumedKey = "consumedPromptId";

    public static readonly IReadOnlyList<string> BusyPolicies = ["queue", "reject", "interrupt"];

    public static long? ConsumedUpTo(JsonNode checkpoint) => (long?)checkpoint[ConsumedKey];

    public static (string? StepId, SessionPrompt Prompt) FromEvent(long id, JsonObject data) =>
        ((string?)data["stepId"], new SessionPrompt(id, (string?)data["text"], (string?)data["by"], (bool?)data["end"] == true));

    /// <summary>The workflow sub-type whose agent steps are sessions unless they say <c>session: false</c>.</summary>
    public const string SessionSubType = "agent_session";

    /// <summary>Whether an agent step keeps its conversation open: its <c>session</c>, else whether the workflow is an <c>agent_session</c>.</summary>
    public static bool IsSession(JsonNode? input, string? subType) =>
        input is JsonObject values && values["session"] is JsonValue flag && flag.TryGetValue<bool>(out var on) ? on : subType == SessionSubType;

    /// <summary>The run's session step that can still take prompts: the first agent step that is a session and has not ended.</summary>
    public static string? OpenSessionStep(RunState state) =>
        state.Workflow.Steps.Where(s => s.Value.Step.Activity?.UniqueIdentifier == "agent" && IsSession(s.Value.Step.Input, state.Workflow.Spec.SubType))
            .Select(s => s.Key)
            .FirstOrDefault(id => state.Steps[id].Status is "pending" or "queued" or "running" or "retrying" or "waiting");
}

/// <summary>Session runs as the API sees them: prompts in, the conversation out.</summary>
internal sealed class ConversationService(CadreDbContext db, RunEngine engine, RunNotifier notifier, IdGenerator ids)
{
    /// <summary>
    /// Sends a prompt to the run's session, in a commit on the run (so it orders against the agent's
    /// own commits: a prompt is never missed between an answer and the wait for the next one). An idle
    /// session is woken at once; a busy one queues it, refuses it, or interrupts its answer.
    /// </summary>
    public async Task<ServiceResult<RunMessage>> SendAsync(string workspaceId, string runId, SendMessageRequest request, Caller caller, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(caller);
        var errors = new ValidationErrors();
        var end = request.End == true;
        if (end && request.Content is not null)
        {
            errors.Add("content", "Leave it out when ending the session.");
        }
        else if (!end && (string.IsNullOrWhiteSpace(request.Content) || request.Content.Length > RunService.MaxPromptLength))
        {
            errors.Add("content", $"Is required: the prompt, at most {RunService.MaxPromptLength} characters (or end: true to end the session).");
        }

        if (request.IfBusy is { } policy && !SessionPrompts.BusyPolicies.Contains(policy))
        {
            errors.Add("ifBusy", "Must be queue, reject or interrupt.");
        }

        if (!errors.IsEmpty)
        {
            return ServiceError.Validation(errors);
        }

        if (!await db.Runs.AsNoTracking().AnyAsync(r => r.Id == runId && r.WorkspaceId == workspaceId, cancellationToken))
        {
            return ServiceError.NotFound($"Run '{runId}' not found.");
        }

        var messageId = ids.NewId("msg");
        ServiceError? refused = null;
        var interrupt = false;
        await engine.CommitAsync(runId, state =>
        {
            interrupt = false;
            refused = Refusal(state, request, out var stepId, out var busy, out var ifBusy);
            if (refused is not null)
            {
                return Task.FromResult(false);
            }

            state.Emit(SessionPrompts.EventType, new JsonObject
            {
                ["stepId"] = stepId,
                ["messageId"] = messageId,
                ["text"] = request.Content,
                ["by"] = caller.ActorId,
                ["end"] = end ? true : null,
                ["ifBusy"] = ifBusy,
            });
            if (!busy && state.Steps[stepId!].Status == "waiting")
            {
                RunEngine.Wake(state, stepId!, end ? "end" : "prompt");
            }

            interrupt = busy && ifBusy == "interrupt" && state.Steps[stepId!].Status == "running";
            return Task.FromResult(true);
        }, cancellationToken);
        if (refused is not null)
        {
            return refused;
        }

        if (interrupt)
        {
            notifier.Interrupted(runId);
        }

        // The event's ID is the message's; it was given by the insert.
        var recent = await db.RunEvents.AsNoTracking().Where(e => e.RunId == runId && e.Type == SessionPrompts.EventType)
            .OrderByDescending(e => e.Id).Take(100).ToListAsync(cancellationToken);
        var saved = recent.First(e => (string?)JsonNode.Parse(e.Data)!["messageId"] == messageId);
        return Message(saved)!;
    }

    private static ServiceError? Refusal(RunState state, SendMessageRequest request, out string? stepId, out bool busy, out string ifBusy)
    {
        stepId = null;
        busy = false;
        ifBusy = request.IfBusy ?? "queue";
        if (state.IsTerminal)
        {
            return ServiceError.Conflict($"Run {state.Run.DisplayId} has ended ({state.Run.Status}); it takes no more prompts.");
        }

        if (state.Run.HaltRequested)
        {
            return ServiceError.Conflict($"Run {state.Run.DisplayId} is halted; resume it, then send the prompt.");
        }

        stepId = SessionPrompts.OpenSessionStep(state);
        if (stepId is null)
        {
            return ServiceError.Conflict(
                $"Run {state.Run.DisplayId} takes no prompts: it has no agent step with session: true that is still open (a session's step ends when the session does).");
        }

        ifBusy = request.IfBusy ?? (string?)(state.Workflow.Steps[stepId].Step.Input as JsonObject)?["ifBusy"] ?? "queue";
        busy = state.Steps[stepId].Status != "waiting";
        return busy && ifBusy == "reject"
            ? ServiceError.Conflict($"The agent of run {state.Run.DisplayId} is still answering (ifBusy: reject). Send it again later, or with ifBusy queue or interrupt.")
            : null;
    }

    /// <summary>
    /// The run's conversation, oldest first: prompts and the agents' answers. A session's opening
    /// prompt (written by its agent as it begins) comes before any prompt sent to that step, even one
    /// sent in the moment between the step's start and the agent's first write.
    /// </summary>
    public async Task<IReadOnlyList<RunMessage>> MessagesAsync(string runId, CancellationToken cancellationToken)
    {
        var events = await db.RunEvents.AsNoTracking().Where(e => e.RunId == runId && (e.Type == "message" || e.Type == SessionPrompts.EventType))
            .OrderBy(e => e.Id).ToListAsync(cancellationToken);
        var messages = events.Select(e => (Sent: e.Type == SessionPrompts.EventType, Message: Message(e))).Where(m => m.Message is not null).ToList();
        foreach (var opening in messages.Where(m => !m.Sent && m.Message!.Role == "user").ToList())
        {
            var firstSent = messages.FindIndex(m => m.Sent && m.Message!.StepId == opening.Message!.StepId);
            if (firstSent >= 0 && firstSent < messages.IndexOf(opening))
            {
                messages.Remove(opening);
                messages.Insert(firstSent, opening);
            }
        }

        return [.. messages.Select(m => m.Message!)];
    }

    /// <summary>The run's newest log lines (at most <paramref name="limit"/>), oldest first; <c>…/events?type=log</c> pages through all.</summary>
    public async Task<IReadOnlyList<RunLogLine>> LogsAsync(string runId, int limit, CancellationToken cancellationToken)
    {
        var events = await db.RunEvents.AsNoTracking().Where(e => e.RunId == runId && e.Type == "log")
            .OrderByDescending(e => e.Id).Take(limit).ToListAsync(cancellationToken);
        return [.. events.OrderBy(e => e.Id).Select(e =>
        {
            var data = JsonNode.Parse(e.Data)!;
            return new RunLogLine(e.Id, (string?)data["stepId"], (string?)data["level"] ?? "info", (string?)data["message"] ?? "", e.CreatedAt);
        })];
    }

    private static RunMessage? Message(RunEvent e)
    {
        var data = JsonNode.Parse(e.Data)!.AsObject();
        if (e.Type == SessionPrompts.EventType)
        {
            var (stepId, prompt) = SessionPrompts.FromEvent(e.Id, data);
            return new RunMessage(e.Id, stepId, "user", prompt.Text, prompt.By, prompt.End, e.CreatedAt);
        }

        return (string?)data["role"] is { } role ? new RunMessage(e.Id, (string?)data["stepId"], role, (string?)data["text"], null, false, e.CreatedAt) : null;
    }
}
