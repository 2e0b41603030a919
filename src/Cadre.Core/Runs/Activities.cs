using System.Text.Json.Nodes;
using Cadre.Expressions;
using Cadre.Workflows;

namespace Cadre.Runs;

/// <summary>
/// What an activity is given for one attempt of one step: the rendered input, the run's values,
/// the idempotency key side effects should carry (<c>runId/stepId/attempt</c>), and a log.
/// </summary>
public sealed class ActivityContext(
    string workspaceId, string runId, string stepId, int attempt, int iteration, WorkflowStep step, JsonNode? input, ExpressionScope scope, RunLog log,
    bool compensation = false, IRunStream? stream = null)
{
    public string WorkspaceId { get; } = workspaceId;

    public string RunId { get; } = runId;

    public string StepId { get; } = stepId;

    public int Attempt { get; } = attempt;

    /// <summary>The loop pass, for steps in a loop body (1 elsewhere).</summary>
    public int Iteration { get; } = iteration;

    /// <summary>Whether this attempt undoes the step (its compensation) rather than doing it.</summary>
    public bool IsCompensation { get; } = compensation;

    /// <summary>
    /// The same for every delivery of one attempt (a worker lost mid-attempt redelivers it with this key),
    /// different for every retry: hand it to anything with side effects.
    /// </summary>
    public string IdempotencyKey => KeyFor(RunId, StepId, Attempt, Iteration, IsCompensation);

    public WorkflowStep Step { get; } = step;

    public JsonNode? Input { get; } = input;

    public ExpressionScope Scope { get; } = scope;

    public RunLog Log { get; } = log;

    /// <summary>Live output (a model's tokens) for the run's subscribers while the attempt runs; absent for steps run inline.</summary>
    public IRunStream? Stream { get; } = stream;

    /// <summary>
    /// Keeps the values of the secrets the attempt uses out of what it hands on to be stored elsewhere
    /// (a child run's input, an event, a note, a tool's answer to the model). A tool that reads a
    /// secret of its own adds it here, so the attempt's records are redacted for it too.
    /// </summary>
    internal Secrets.SecretRedactor Redactor { get; init; } = new();

    /// <summary><c>runId/stepId/attempt</c>, then <c>/iteration</c> after a loop's first pass and <c>/compensation</c> for an undo.</summary>
    public static string KeyFor(string runId, string stepId, int attempt, int iteration, bool compensation = false) =>
        $"{runId}/{stepId}/{attempt}" + (iteration > 1 ? $"/{iteration}" : "") + (compensation ? "/compensation" : "");
}

/// <summary>Log lines and messages an activity writes into the run's event stream (persisted with the attempt's result).</summary>
public sealed class RunLog
{
    private readonly List<(string Type, JsonObject Data)> _entries = [];

    public IReadOnlyList<(string Type, JsonObject Data)> Entries => _entries;

    public void Info(string message) => _entries.Add(("log", new JsonObject { ["level"] = "info", ["message"] = message }));

    public void Warn(string message) => _entries.Add(("log", new JsonObject { ["level"] = "warning", ["message"] = message }));

    /// <summary>A whole message (an agent's answer); deltas stream separately.</summary>
    public void Message(string role, string text) => _entries.Add(("message", new JsonObject { ["role"] = role, ["text"] = text }));

    /// <summary>
    /// What one model call used and cost. Recorded with the attempt whatever its outcome (the call was
    /// paid for), added to the run's usage, and streamed as a <c>usage</c> event.
    /// </summary>
    public void Usage(string provider, string model, long inputTokens, long outputTokens, long cachedInputTokens, long costNanos, string? personaId = null, int? personaVersion = null)
    {
        var usage = new JsonObject { ["provider"] = provider, ["model"] = model };
        if (personaId is not null)
        {
            usage["personaId"] = personaId;
            usage["personaVersion"] = personaVersion;
        }

        usage["inputTokens"] = inputTokens;
        usage["outputTokens"] = outputTokens;
        usage["cachedInputTokens"] = cachedInputTokens;
        usage["costUsd"] = Llm.Money.Usd(costNanos);
        usage[CostNanosKey] = costNanos;
        _entries.Add(("usage", usage));
    }

    /// <summary>A guardrail's finding: a warning in the log, with what was found and done.</summary>
    public void Guardrail(JsonObject violation, string message) =>
        _entries.Add(("log", new JsonObject { ["level"] = "warning", ["message"] = message, ["guardrail"] = violation }));

    /// <summary>Carried to the commit that adds it to the run; not part of the event.</summary>
    internal const string CostNanosKey = "_costNanos";

    /// <summary>Sets one of the run's <c>links</c> (such as <c>pullRequest</c>) when the attempt is recorded.</summary>
    public void Link(string name, Uri url)
    {
        ArgumentNullException.ThrowIfNull(url);
        _entries.Add(("link", new JsonObject { ["name"] = name, ["url"] = url.ToString() }));
    }
}

/// <summary>Output an attempt streams while it runs, such as a model's answer token by token.</summary>
public interface IRunStream
{
    /// <summary>
    /// Appends text to the message being written (<c>message_delta</c> events). Deltas are coalesced
    /// into an event about every 50 ms; the first goes out at once.
    /// </summary>
    ValueTask DeltaAsync(string text, CancellationToken cancellationToken);

    /// <summary>Writes a whole message into the run's conversation now, in its own commit (a session's opening prompt).</summary>
    Task MessageAsync(string role, string text, CancellationToken cancellationToken);

    /// <summary>Writes what is still coalescing.</summary>
    ValueTask FlushAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Saves the attempt's progress inside its step, replacing what was saved before, in its own
    /// commit. Should the worker be lost, the attempt is delivered again with the same idempotency
    /// key, and <see cref="ReadCheckpointAsync"/> gives this back, so finished work is not paid for twice.
    /// </summary>
    Task CheckpointAsync(JsonNode state, CancellationToken cancellationToken);

    /// <summary>What this attempt saved before it was lost, or null on its first delivery.</summary>
    Task<JsonNode?> ReadCheckpointAsync(CancellationToken cancellationToken);

    /// <summary>What the step's newest earlier attempt saved, if any: a session carries its conversation into a retry or a resume after a halt.</summary>
    Task<JsonNode?> ReadEarlierCheckpointAsync(CancellationToken cancellationToken);

    /// <summary>The prompts sent to the run (<c>POST …/runs/{id}/messages</c>) after <paramref name="afterId"/>, oldest first.</summary>
    Task<IReadOnlyList<SessionPrompt>> ReadPromptsAsync(long afterId, CancellationToken cancellationToken);

    /// <summary>Calls <paramref name="onInterrupt"/> when a prompt asks the running turn to stop (policy <c>interrupt</c>).</summary>
    IDisposable OnInterrupt(Action onInterrupt);
}

/// <summary>A prompt sent into a session run: its event ID (the order), text and sender; <see cref="End"/> closes the session instead.</summary>
public sealed record SessionPrompt(long Id, string? Text, string? By, bool End);

/// <summary>Why an attempt failed: a type (matched against <c>nonRetryableErrors</c>), a message, and whether a retry may help.</summary>
public sealed record ActivityError(string Type, string Message, bool Retryable = true, JsonNode? Details = null)
{
    public JsonObject ToJson() => new()
    {
        ["type"] = Type,
        ["message"] = Message,
        ["retryable"] = Retryable,
        ["details"] = Details?.DeepClone(),
    };
}

/// <summary>How an attempt ended.</summary>
public abstract record ActivityOutcome
{
    public static ActivityOutcome Success(JsonNode? output) => new Succeeded(output);

    public static ActivityOutcome Failure(string type, string message, bool retryable = true, JsonNode? details = null) =>
        new FailedOutcome(new ActivityError(type, message, retryable, details));
}

public sealed record Succeeded(JsonNode? Output) : ActivityOutcome;

public sealed record FailedOutcome(ActivityError Error) : ActivityOutcome;

/// <summary>The step waits for a time (a sleep): a durable timer completes it with <see cref="Output"/>.</summary>
public sealed record SleepUntil(DateTimeOffset WakeAt, JsonNode? Output) : ActivityOutcome;

/// <summary>The step waits for something outside the run (a decision, an event, a child run); <see cref="Deadline"/> fires a timer.</summary>
public sealed record WaitForSignal(string Reason, DateTimeOffset? Deadline) : ActivityOutcome;

/// <summary>The step asks people (its <c>approval</c> settings) and waits for their decision; <see cref="Summary"/> is what they are shown.</summary>
public sealed record WaitForApproval(JsonNode? Summary) : ActivityOutcome;

/// <summary>
/// The step pauses mid-work: the engine saves <see cref="Checkpoint"/> as the attempt's progress in the
/// commit that records the pause, and runs the activity again (the same attempt, so it reads the
/// checkpoint back) when woken: by a decision on <see cref="Approval"/>, by a prompt (<c>session</c>),
/// or at <see cref="Deadline"/>.
/// </summary>
/// <remarks><see cref="ChildRunId"/>: a child run the step waits for; its end wakes the step (at once if it ended first).</remarks>
public sealed record Suspend(string Reason, JsonNode Checkpoint, ApprovalRequest? Approval = null, DateTimeOffset? Deadline = null, string? ChildRunId = null) : ActivityOutcome;

/// <summary>A question to people opened with a <see cref="Suspend"/>: what they are shown, and who decides how (a step's <c>approval</c> shape).</summary>
public sealed record ApprovalRequest(JsonNode? Summary, ApprovalSpec Spec);

/// <summary>The step started a child run and waits for it to end; the child's final commit wakes the step.</summary>
public sealed record WaitForChild(string ChildRunId) : ActivityOutcome;

/// <summary>The step emits an event into the workspace; the engine records it (and wakes matching waits) in the attempt's commit, so it is emitted once.</summary>
public sealed record EmitEvent(string Type, string? Source, JsonNode? Payload, string? IdempotencyKey = null) : ActivityOutcome;

/// <summary>The step waits for an event of <see cref="Type"/> whose payload passes <see cref="Filters"/> (operands rendered), until <see cref="Deadline"/>.</summary>
public sealed record WaitForEvent(string Type, JsonObject? Filters, DateTimeOffset? Deadline) : ActivityOutcome;

/// <summary>
/// A step's behaviour. Pure activities (no side effects) may run inline, many to a commit; the
/// others are checkpointed before and after. The LLM activities plug in here.
/// </summary>
public interface IActivity
{
    string Name { get; }

    bool IsPure { get; }

    Task<ActivityOutcome> ExecuteAsync(ActivityContext context, CancellationToken cancellationToken);
}
