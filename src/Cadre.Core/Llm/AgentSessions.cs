using System.Text.Json;
using System.Text.Json.Nodes;
using Cadre.Common;
using Cadre.Runs;
using Cadre.Storage;
using Cadre.Workflows;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using AgentState = Cadre.Llm.AgentActivity.AgentState;

namespace Cadre.Llm;

/// <summary>Everything one agent attempt converses with: the model, its tools and who must approve which, and the guardrails.</summary>
internal sealed record Conversation(
    ActivityContext Context,
    ModelCall Call,
    IChatClient Client,
    ChatOptions Options,
    Dictionary<string, AIFunction?> Functions,
    IReadOnlyDictionary<string, ApprovalSpec> Approvals,
    IRunStream? Stream,
    int MaxTurns,
    TurnInterrupts Turns,
    Func<string, Task<GuardrailOutcome>> CheckAnswer,
    Func<string, Task<GuardrailOutcome>> CheckPrompt,
    IServiceProvider Services,
    ModelFiles Files);

/// <summary>The agent waits for people to decide on a tool call (<see cref="Request"/>: the question to open; null: one is open already).</summary>
internal sealed record AwaitingApproval(ApprovalRequest? Request) : ActivityOutcome;

/// <summary>A tool started a child run the model waits for.</summary>
internal sealed record AwaitingChild(string ChildRunId) : ActivityOutcome;

/// <summary>A session answered and waits for its next prompt until <see cref="IdleUntil"/>.</summary>
internal sealed record AwaitingPrompt(DateTimeOffset? IdleUntil) : ActivityOutcome;

internal sealed record InterruptedTurn : ActivityOutcome;

/// <summary>
/// Stops the model's answer in progress when a prompt with <c>ifBusy: interrupt</c> arrives. Each
/// turn gets its own token; an interrupt between turns stops nothing (the prompt is read next anyway).
/// </summary>
internal sealed class TurnInterrupts : IDisposable
{
    private readonly IDisposable? _registration;
    private CancellationTokenSource? _current;
    private volatile bool _interrupted;

    public TurnInterrupts(IRunStream? stream) => _registration = stream?.OnInterrupt(Interrupt);

    public bool Interrupted => _interrupted;

    public CancellationTokenSource Next(CancellationToken attempt)
    {
        _interrupted = false;
        var turn = CancellationTokenSource.CreateLinkedTokenSource(attempt);
        Volatile.Write(ref _current, turn);
        return turn;
    }

    private void Interrupt()
    {
        _interrupted = true;
        try
        {
            Volatile.Read(ref _current)?.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The turn had ended.
        }
    }

    public void Dispose() => _registration?.Dispose();
}

/// <summary>
/// Conversational runs: an agent step with <c>session: true</c> (the default in a workflow of
/// sub-type <c>agent_session</c>) answers its prompt, then waits (its
/// step suspended, holding no worker) for prompts sent to the run, answering each in turn, until
/// someone ends the session or it stays idle past <c>sessionTimeout</c>. Its conversation is the
/// step's checkpoint, so a crash, a retry or a halt and resume continue it.
/// </summary>
internal static class Sessions
{
    public const string DefaultTimeout = "24h";

    public static bool IsSession(ActivityContext context, JsonObject input) =>
        SessionPrompts.IsSession(input, (string?)context.Scope.Root("workflow")?["subType"]);

    public static async Task<ActivityOutcome> TalkAsync(Conversation c, AgentState state, CancellationToken cancellationToken)
    {
        var time = c.Services.GetRequiredService<TimeProvider>();
        // Checked when the attempt began.
        var idleFor = Durations.TryParse((string?)(c.Context.Input as JsonObject)?["sessionTimeout"] ?? DefaultTimeout, out var parsed) ? parsed : TimeSpan.FromDays(1);
        while (true)
        {
            if (state.AwaitingPrompt)
            {
                var taken = 0;
                foreach (var prompt in await c.Context.Stream!.ReadPromptsAsync(state.ConsumedPromptId, cancellationToken))
                {
                    state.ConsumedPromptId = prompt.Id;
                    if (prompt.End)
                    {
                        return Ended(c, state, "request");
                    }

                    var checkedPrompt = await c.CheckPrompt(prompt.Text ?? "");
                    if (checkedPrompt.Blocked is { } blocked)
                    {
                        c.Context.Log.Warn($"A prompt was blocked by guardrail '{blocked.Guardrail}' and not passed on to the agent.");
                        continue;
                    }

                    state.Messages.Add(new ChatMessage(ChatRole.User, checkedPrompt.Text));
                    state.Prompts++;
                    taken++;
                }

                if (taken == 0)
                {
                    return state.IdleUntil is { } until && time.GetUtcNow() >= until ? Ended(c, state, "timeout") : new AwaitingPrompt(state.IdleUntil);
                }

                state.AwaitingPrompt = false;
                state.PromptStartTurns = state.Turns;
                state.Repaired = false;
                if ((bool?)(c.Context.Input as JsonObject)?["infiniteSession"] == true)
                {
                    await CondenseAsync(c, state, cancellationToken);
                }

                await AgentActivity.CheckpointAsync(c.Context, state, cancellationToken);
            }

            var outcome = await AgentActivity.ConverseAsync(c, state, cancellationToken);
            if (outcome is Succeeded { Output: JsonObject answer })
            {
                state.LastAnswer = answer;
            }
            else if (!ReferenceEquals(outcome, AgentActivity.Interrupted))
            {
                return outcome;
            }

            state.AwaitingPrompt = true;
            state.IdleUntil = time.GetUtcNow() + idleFor;
            await AgentActivity.CheckpointAsync(c.Context, state, cancellationToken);
        }
    }

    public const int DefaultContextTokens = 64_000;

    /// <summary>Keeps this many of the newest prompts (and what followed them) word for word when older turns are summarised.</summary>
    private const int KeptPrompts = 2;

    internal const string SummaryHeading = "Earlier in this conversation (summarised to fit the context window):";

    /// <summary>
    /// <c>infiniteSession</c>: when the conversation nears <c>contextTokens</c> (80 % of it, measured by
    /// the last call's input tokens or estimated at four characters a token, whichever is more), the
    /// older turns are summarised by the model into the system message and dropped; the newest
    /// prompts stay word for word. The summary call is billed like any turn.
    /// </summary>
    private static async Task CondenseAsync(Conversation c, AgentState state, CancellationToken cancellationToken)
    {
        var budget = (int?)(c.Context.Input as JsonObject)?["contextTokens"] ?? DefaultContextTokens;
        var estimate = Math.Max(state.Usage.LastOrDefault()?.InputTokenCount ?? 0, state.Messages.Sum(m => (long)m.Text.Length) / 4);
        if (estimate < budget * 0.8)
        {
            return;
        }

        // From after the system message up to the oldest kept prompt; only what the run's log already holds, and never between a tool call and its result.
        var start = state.Messages.Count > 0 && state.Messages[0].Role == ChatRole.System ? 1 : 0;
        var prompts = Enumerable.Range(start, state.Messages.Count - start).Where(i => state.Messages[i].Role == ChatRole.User).ToList();
        // The cut is always just before a prompt: a prompt never sits between a tool call and its result.
        var limit = prompts.Count > KeptPrompts ? Math.Min(prompts[^KeptPrompts], state.LoggedMessages) : start;
        var end = prompts.Where(i => i <= limit).DefaultIfEmpty(start).Max();
        if (end <= start)
        {
            return;
        }

        var older = state.Messages.GetRange(start, end - start);
        // The system message goes too: it carries the persona and any earlier summary, which the new one must keep.
        var ask = state.Messages.Take(start).Concat(older).Append(new ChatMessage(ChatRole.User,
            "Summarise the conversation so far for your own future reference: keep names, facts, preferences, decisions, open questions and anything promised. " +
            "At most 300 words, no preamble.")).ToList();
        var updates = new List<ChatResponseUpdate>();
        try
        {
            await ModelTurns.StreamAsync(c.Client, ask, new ChatOptions { ModelId = c.Options.ModelId, Temperature = 0 }, stream: null, updates, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // The turn goes ahead with the whole history; the provider says if it is too long.
            state.AddUsage(ModelTurns.Usage(updates));
            c.Context.Log.Warn($"infiniteSession: the earlier turns could not be summarised ({ex.Message}); the whole history is sent.");
            return;
        }

        state.AddUsage(ModelTurns.Usage(updates));
        var summary = updates.ToChatResponse().Text.Trim();
        var system = start == 1 ? state.Messages[0].Text : "";
        var earlier = system.IndexOf(SummaryHeading, StringComparison.Ordinal) is var at and >= 0 ? system[..at].TrimEnd() : system;
        state.Messages.RemoveRange(0, end);
        state.Messages.Insert(0, new ChatMessage(ChatRole.System, string.Join("\n\n", new[] { earlier, SummaryHeading + "\n" + summary }.Where(t => t.Length > 0))));
        state.LoggedMessages -= end - 1;
        state.OpeningCount = Math.Min(state.OpeningCount, 1);
        state.Summaries++;
        c.Context.Log.Info($"infiniteSession: summarised {older.Count} earlier messages to fit the context window.");
    }

    /// <summary>The session's output: its last answer, with the whole conversation and how it ended.</summary>
    private static ActivityOutcome Ended(Conversation c, AgentState state, string endedBy)
    {
        var last = state.LastAnswer;
        var outcome = AgentActivity.Answer(c.Call, state, (string?)last?["text"] ?? "", last?["json"]);
        ((JsonObject)((Succeeded)outcome).Output!)["session"] = state.Summaries > 0
            ? new JsonObject { ["prompts"] = state.Prompts, ["endedBy"] = endedBy, ["summaries"] = state.Summaries }
            : new JsonObject { ["prompts"] = state.Prompts, ["endedBy"] = endedBy };
        return outcome;
    }
}

/// <summary>One person's refusal of a tool call, for the model.</summary>
internal sealed record ToolDecision(string ApprovalId, string Status, IReadOnlyList<(string By, string? Comment)> Rejections)
{
    /// <summary>What the model is told instead of the tool's result, so it can carry on (or explain) without it.</summary>
    public string Refusal() => Status switch
    {
        "rejected" => "Not run: the call was rejected by a person who reviews this tool"
            + string.Concat(Rejections.Where(r => !string.IsNullOrWhiteSpace(r.Comment)).Select(r => $" ({r.Comment})")) + ". Do not try it again unchanged.",
        "expired" => "Not run: nobody approved the call before its deadline.",
        _ => "Not run: the approval was withdrawn.",
    };
}

/// <summary>
/// Tools that need a person's approval before each call: a skill's <c>approval</c>, or the step's
/// <c>toolApproval</c> (by tool name, over the skill's). The agent suspends on an approval record
/// like the approval step's (the same inbox, quorum, deadline and escalation) and runs again when it settles.
/// </summary>
internal static class ToolApprovals
{
    public static Dictionary<string, ApprovalSpec> For(JsonObject input, Dictionary<string, ApprovalSpec> fromSkills, out ActivityOutcome? invalid)
    {
        invalid = null;
        var approvals = new Dictionary<string, ApprovalSpec>(fromSkills, StringComparer.Ordinal);
        foreach (var (tool, value) in input["toolApproval"] as JsonObject ?? [])
        {
            ApprovalSpec? spec;
            try
            {
                spec = value.Deserialize<ApprovalSpec>(StrictJson.Options);
            }
            catch (JsonException ex)
            {
                invalid = ActivityOutcome.Failure("invalid_input", $"toolApproval.{tool}: {ex.Message}", retryable: false);
                return approvals;
            }

            spec = SkillService.WithDefaults(spec ?? new ApprovalSpec());
            var errors = new ValidationErrors();
            WorkflowGraphs.ValidateApproval(spec, $"toolApproval.{tool}", errors);
            if (!errors.IsEmpty)
            {
                invalid = ActivityOutcome.Failure("invalid_input", string.Join(" ", errors.ToDictionary().Select(e => $"{e.Key}: {string.Join(" ", e.Value)}")), retryable: false);
                return approvals;
            }

            approvals[tool] = spec;
        }

        return approvals;
    }

    /// <summary>What approvers see: the tool, its arguments, who asks; and what ties the approval to this one call.</summary>
    public static JsonObject Summary(Conversation c, FunctionCallContent call, int turn) => new()
    {
        ["question"] = $"May the agent call the tool '{call.Name}' with these arguments?",
        ["tool"] = call.Name,
        ["arguments"] = JsonSerializer.SerializeToNode(call.Arguments, AIJsonUtilities.DefaultOptions),
        ["persona"] = c.Call.Persona?.Name,
        ["callId"] = call.CallId,
        ["turn"] = turn,
        ["attempt"] = c.Context.IdempotencyKey,
    };

    /// <summary>The approval opened for this call in this attempt, if any.</summary>
    public static async Task<ToolDecision?> DecisionAsync(IServiceProvider services, ActivityContext context, string callId, int turn, CancellationToken cancellationToken)
    {
        var db = services.GetRequiredService<CadreDbContext>();
        var approvals = await db.Approvals.AsNoTracking()
            .Where(a => a.RunId == context.RunId && a.StepId == context.StepId && a.Iteration == context.Iteration && a.Spec != null)
            .OrderBy(a => a.CreatedAt).Select(a => new { a.Id, a.Status, a.Summary }).ToListAsync(cancellationToken);
        var key = context.IdempotencyKey;
        var match = approvals.LastOrDefault(a => JsonNode.Parse(a.Summary) is JsonObject summary
            && (string?)summary["callId"] == callId && (int?)summary["turn"] == turn && (string?)summary["attempt"] == key);
        if (match is null)
        {
            return null;
        }

        var rejections = await db.ApprovalDecisions.AsNoTracking().Where(d => d.ApprovalId == match.Id && d.Decision == "reject")
            .Select(d => new { d.UserId, d.Comment }).ToListAsync(cancellationToken);
        return new ToolDecision(match.Id, match.Status, [.. rejections.Select(r => (r.UserId, r.Comment))]);
    }
}
