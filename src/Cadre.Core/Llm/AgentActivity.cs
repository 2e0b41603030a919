using System.Text.Json;
using System.Text.Json.Nodes;
using Cadre.Common;
using Cadre.Runs;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;

namespace Cadre.Llm;

/// <summary>
/// <c>agent</c>: a persona works on a prompt in a tool-calling loop until it answers or runs out of
/// turns. The conversation is checkpointed after every model turn and every tool call, so an attempt
/// delivered again after its worker was lost resumes from the last of them: finished turns are not
/// asked (nor paid for) twice, and a tool call is replayed only if its result was not saved, with the
/// same idempotency key. The run's log (messages, tool calls, usage) is written from the whole
/// conversation when the attempt ends, so a resumed attempt's record is complete too.
/// </summary>
internal sealed class AgentActivity(IServiceScopeFactory scopes, ChatClients clients, AgentTools tools) : IActivity
{
    public const int DefaultMaxTurns = 10;

    public string Name => "agent";

    public bool IsPure => false;

    public async Task<ActivityOutcome> ExecuteAsync(ActivityContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var input = context.Input as JsonObject ?? [];
        await using var scope = scopes.CreateAsyncScope();
        var (call, failure) = await ModelCall.ResolveAsync(context, input, scope.ServiceProvider, cancellationToken);
        if (call is null)
        {
            return failure!;
        }

        var memory = Memory(context, input, call, scope.ServiceProvider);
        var skillNames = (input["skills"] as JsonArray ?? []).Select(s => (string?)s).Concat((call.Persona?.Skills ?? []).Select(s => s.Ref))
            .Concat(ModelCall.WorkflowSetting(context, "skillIds") as List<string> ?? [])
            .Concat(await scope.ServiceProvider.GetRequiredService<SkillService>().NamesTaggedAsync(
                context.WorkspaceId, ModelCall.WorkflowSetting(context, "skillTags") as List<string> ?? [], cancellationToken))
            .Concat(memory is null ? [] : ["memory_read", "memory_write"])
            .OfType<string>().Distinct(StringComparer.Ordinal).ToList();
        var found = skillNames.ToDictionary(n => n, n => tools.For(n, context, memory) is { } tool ? (IReadOnlyList<AIFunction>?)[tool] : null, StringComparer.Ordinal);
        var registryNames = found.Where(f => f.Value is null && !AgentTools.Names.Contains(f.Key)).Select(f => f.Key).ToList();
        await using var mcp = new McpSkills(tools.Outbound, scope.ServiceProvider.GetRequiredService<Microsoft.Extensions.Options.IOptions<McpServerOptions>>().Value);
        var approvalSpecs = new Dictionary<string, Workflows.ApprovalSpec>(StringComparer.Ordinal);
        (string Id, string Name)? workspace = null;
        foreach (var (skill, authValue) in await scope.ServiceProvider.GetRequiredService<SkillService>().ResolveAsync(context.WorkspaceId, registryNames, cancellationToken))
        {
            if (authValue is not null)
            {
                // A service that echoes its request must not put the skill's key into the conversation.
                context.Redactor.Add($"{skill.Name}.auth", authValue);
            }

            IReadOnlyList<AIFunction> skillTools;
            try
            {
                if (skill.Kind == "mcp")
                {
                    workspace ??= await WorkspaceAsync(scope.ServiceProvider, context, cancellationToken);
                    skillTools = await mcp.ConnectAsync(skill, authValue, workspace.Value, cancellationToken);
                }
                else
                {
                    skillTools = [tools.ForSkill(skill, authValue, context)];
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                // The server may be back for the next attempt.
                return ActivityOutcome.Failure("skill_unavailable", $"The MCP server of skill '{skill.Name}' could not be reached or started: {ex.Message}");
            }

            found[registryNames.Contains(skill.Name) ? skill.Name : skill.Id] = skillTools;
            if (SkillService.ReadApproval(skill) is { } approval)
            {
                foreach (var tool in skillTools)
                {
                    approvalSpecs[tool.Name] = approval;
                }
            }
        }

        if (found.FirstOrDefault(f => f.Value is null).Key is { } unknown)
        {
            return ActivityOutcome.Failure("skill_not_found", AgentTools.Names.Contains(unknown)
                ? $"The skill '{unknown}' needs a persona whose memory mode is persistent or session (and not bypassed)."
                : $"No skill '{unknown}' in this workspace (…/skills), and no built-in tool of that name ({string.Join(", ", AgentTools.Names)}).", retryable: false);
        }

        // The model calls tools by their names, whatever they were referred to by.
        var functions = found.Values.SelectMany(f => f!).DistinctBy(f => f.Name).ToDictionary(f => f.Name, f => (AIFunction?)f, StringComparer.Ordinal);

        var guardrails = scope.ServiceProvider.GetRequiredService<GuardrailChecker>();
        var (checks, unknownGuardrail) = await guardrails.ForAsync(context, input, call, cancellationToken);
        if (unknownGuardrail is not null)
        {
            return unknownGuardrail;
        }

        var approvals = ToolApprovals.For(input, approvalSpecs, out var badApproval);
        if (badApproval is not null)
        {
            return badApproval;
        }

        var options = call.Options.Clone();
        options.Tools = functions.Count == 0 ? null : [.. functions.Values.OfType<AIFunction>()];
        var maxTurns = (int?)input["maxTurns"] ?? call.Persona?.Model?.MaxTurns ?? DefaultMaxTurns;
        var session = Sessions.IsSession(context, input);
        if (session && !Durations.TryParse((string?)input["sessionTimeout"] ?? Sessions.DefaultTimeout, out _))
        {
            return ActivityOutcome.Failure("invalid_input", "sessionTimeout must be a duration such as 30m or 7d.", retryable: false);
        }

        var (files, missing) = await ModelFiles.ForAsync(context, input, scope.ServiceProvider, cancellationToken);
        if (files is null)
        {
            return missing!;
        }

        var state = AgentState.From(await ReadCheckpointAsync(context, session, cancellationToken));
        if (state is null)
        {
            // A resumed conversation's prompt was checked when it began.
            var checkedPrompt = await guardrails.CheckAsync(checks, "input", (string?)input["prompt"] ?? "", context, cancellationToken);
            if (checkedPrompt.Blocked is { } blocked)
            {
                return GuardrailChecker.Blocked(blocked);
            }

            var remembered = memory is null ? [] : await memory.Service.RecallAsync(memory.PersonaId, memory.RunId, null, cancellationToken);
            state = AgentState.Start(Opening(checkedPrompt.Text, input, call, remembered, files));
            files.Log(context);
            if (session && context.Stream is { } opening)
            {
                // A session's conversation shows its first prompt before anything sent during the first answer; then saved, so a redelivery does not show it twice.
                await opening.MessageAsync("user", checkedPrompt.Text, cancellationToken);
                await CheckpointAsync(context, state, cancellationToken);
            }
        }

        // An answer that output guardrails may stop or change is not shown before they have seen it.
        var stream = GuardrailChecker.HoldsBackOutput(checks) ? null : context.Stream;
        using var client = clients.Create(call.Provider, call.Model, call.Options.MaxOutputTokens);
        using var turns = new TurnInterrupts(session ? context.Stream : null);
        var conversation = new Conversation(
            context, call, client, options, functions, approvals, stream, maxTurns, turns,
            answer => guardrails.CheckAsync(checks, "output", answer, context, cancellationToken),
            prompt => guardrails.CheckAsync(checks, "input", prompt, context, cancellationToken),
            scope.ServiceProvider,
            files);
        ActivityOutcome outcome;
        try
        {
            outcome = session ? await Sessions.TalkAsync(conversation, state, cancellationToken) : await ConverseAsync(conversation, state, cancellationToken);
        }
        finally
        {
            // From the whole conversation, resumed or not, and whatever the outcome: what was used was paid for.
            await RecordAsync(context, scope.ServiceProvider, call, state);
        }

        switch (outcome)
        {
            case Succeeded { Output: JsonObject output }:
                if (memory is not null && call.Persona?.Memory?.AutoMemory == true)
                {
                    output["remembered"] = await RememberAsync(context, call, client, memory, state, scope.ServiceProvider, cancellationToken);
                }

                output["cost"] = Money.Usd(state.CostNanos);
                break;
            case AwaitingApproval awaiting:
                // After the record, so the checkpoint knows what the run's log already holds.
                return new Suspend("approval", state.ToJson(), awaiting.Request);
            case AwaitingChild awaiting:
                return new Suspend("child", state.ToJson(), ChildRunId: awaiting.ChildRunId);
            case AwaitingPrompt awaiting:
                return new Suspend("session", state.ToJson(), Deadline: awaiting.IdleUntil);
        }

        return outcome;
    }

    private static async Task<(string Id, string Name)> WorkspaceAsync(IServiceProvider services, ActivityContext context, CancellationToken cancellationToken) =>
        (context.WorkspaceId, await services.GetRequiredService<Storage.CadreDbContext>().Workspaces.AsNoTracking()
            .Where(w => w.Id == context.WorkspaceId).Select(w => w.Name).FirstAsync(cancellationToken));

    /// <summary>The persona's memory for this run: none when its mode is <c>none</c> or memory is bypassed (by the persona or the step).</summary>
    private static MemoryAccess? Memory(ActivityContext context, JsonObject input, ModelCall call, IServiceProvider services)
    {
        var policy = call.Persona?.Memory;
        if (call.Persona is null || policy?.Mode is not ("persistent" or "session") || policy.Bypass == true || (bool?)input["bypassMemory"] == true)
        {
            return null;
        }

        return new MemoryAccess(services.GetRequiredService<MemoryService>(), call.Persona.Id, policy.Mode == "session" ? context.RunId : null);
    }

    private static readonly JsonObject FactsSchema = new()
    {
        ["type"] = "object",
        ["additionalProperties"] = false,
        ["required"] = new JsonArray("facts"),
        ["properties"] = new JsonObject { ["facts"] = new JsonObject { ["type"] = "array", ["items"] = new JsonObject { ["type"] = "string" }, ["maxItems"] = 10 } },
    };

    /// <summary>
    /// autoMemory: one more model call asks what from this conversation is worth remembering, and
    /// each fact becomes a note (once, however often the attempt is replayed). A failure here is
    /// logged and does not fail the step, which has its answer.
    /// </summary>
    private static async Task<int> RememberAsync(
        ActivityContext context, ModelCall call, IChatClient client, MemoryAccess memory, AgentState state, IServiceProvider services, CancellationToken cancellationToken)
    {
        var options = new ChatOptions { ResponseFormat = ChatResponseFormat.ForJsonSchema(JsonSerializer.SerializeToElement(FactsSchema), "facts") };
        var messages = state.Messages.Append(new ChatMessage(ChatRole.User,
            "List the facts from this conversation worth remembering for future work (about the people, their preferences, decisions made), at most ten, "
            + "each a short sentence; none if nothing is. Answer with JSON only.")).ToList();
        var updates = new List<ChatResponseUpdate>();
        try
        {
            await ModelTurns.StreamAsync(client, messages, options, stream: null, updates, cancellationToken);
            var (json, problem) = ModelTurns.Check(FactsSchema, updates.ToChatResponse().Text);
            if (problem is not null)
            {
                context.Log.Warn($"autoMemory: the model's list of facts was unusable. {problem}");
                return 0;
            }

            var facts = json!["facts"]!.AsArray().Select(f => (string?)f).Where(f => !string.IsNullOrWhiteSpace(f) && f.Length <= MemoryService.MaxContentLength).ToList();
            for (var i = 0; i < facts.Count; i++)
            {
                // Notes outlive the run: a fact holding a secret's value keeps only its marker.
                await memory.Service.WriteAsync(context.WorkspaceId, memory.PersonaId, memory.RunId, context.Redactor.Redact(facts[i]!), "auto", $"{context.IdempotencyKey}/auto/{i}", null, cancellationToken);
            }

            return facts.Count;
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            context.Log.Warn($"autoMemory: {ex.Message}");
            return 0;
        }
        finally
        {
            var usage = ModelTurns.Usage(updates);
            state.CostNanos += usage is null ? 0 : await ModelTurns.RecordUsageAsync(context, services, call.Provider, call.Model, usage);
        }
    }

    /// <summary>
    /// Works on the conversation until the model answers (checked by the guardrails and the output
    /// schema), a tool call needs someone's approval, a prompt interrupts the answer, or the turns run out.
    /// </summary>
    internal static async Task<ActivityOutcome> ConverseAsync(Conversation c, AgentState state, CancellationToken cancellationToken)
    {
        while (true)
        {
            // A conversation that stopped after a model turn asking for tools resumes with those calls.
            var pending = state.PendingCalls();
            if (pending.Count == 0)
            {
                if (state.Turns - state.PromptStartTurns >= c.MaxTurns)
                {
                    return ActivityOutcome.Failure("max_turns", $"The agent did not answer within {c.MaxTurns} turns (maxTurns).", retryable: false,
                        new JsonObject { ["turns"] = state.Turns });
                }

                var updates = new List<ChatResponseUpdate>();
                using var turn = c.Turns.Next(cancellationToken);
                try
                {
                    await ModelTurns.StreamAsync(c.Client, c.Files.Outgoing(state.Messages), c.Options, c.Stream, updates, turn.Token);
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested && c.Turns.Interrupted)
                {
                    // A prompt asked the answer to stop: what was said so far stays in the conversation, and the prompt is next.
                    state.AddUsage(ModelTurns.Usage(updates));
                    var partial = updates.ToChatResponse().Text;
                    state.Messages.Add(new ChatMessage(ChatRole.Assistant, partial.Length > 0 ? partial + " [interrupted]" : "[interrupted]"));
                    state.Turns++;
                    return Interrupted;
                }
                catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
                {
                    state.AddUsage(ModelTurns.Usage(updates));
                    return ModelTurns.Failure(c.Call.Provider, ex);
                }
                catch (OperationCanceledException)
                {
                    state.AddUsage(ModelTurns.Usage(updates));
                    throw;
                }

                var response = updates.ToChatResponse();
                state.Turns++;
                state.AddUsage(ModelTurns.Usage(updates));
                state.Messages.AddRange(response.Messages.Select(WithoutUsage));
                await CheckpointAsync(c.Context, state, cancellationToken);
                pending = state.PendingCalls();
                if (pending.Count == 0)
                {
                    var checkedAnswer = await c.CheckAnswer(response.Text);
                    if (checkedAnswer.Blocked is { } blocked)
                    {
                        return GuardrailChecker.Blocked(blocked);
                    }

                    var answer = checkedAnswer.Text;
                    if (answer != response.Text)
                    {
                        // Redacted: the record keeps what the guardrails let through, not what the model said.
                        state.Messages[^1] = new ChatMessage(ChatRole.Assistant, answer);
                    }

                    if (c.Call.OutputSchema is not { } schema)
                    {
                        return Answer(c.Call, state, answer, json: null);
                    }

                    var (json, problem) = ModelTurns.Check(schema, answer);
                    if (problem is null)
                    {
                        return Answer(c.Call, state, answer, json);
                    }

                    if (state.Repaired)
                    {
                        return ActivityOutcome.Failure("invalid_output", $"The agent's answer did not follow the output schema, even when asked again. {problem}", retryable: true,
                            new JsonObject { ["text"] = answer });
                    }

                    // One repair: the model sees what was wrong and answers again.
                    state.Repaired = true;
                    state.Messages.Add(new ChatMessage(ChatRole.User, $"{problem} Answer again with only the JSON, following the schema, and nothing else."));
                    continue;
                }
            }

            foreach (var toolCall in pending)
            {
                var signals = new ToolSignals();
                object? result;
                if (c.Approvals.TryGetValue(toolCall.Name, out var spec))
                {
                    var decision = await ToolApprovals.DecisionAsync(c.Services, c.Context, toolCall.CallId, state.Turns, cancellationToken);
                    switch (decision)
                    {
                        case null:
                            return new AwaitingApproval(new ApprovalRequest(ToolApprovals.Summary(c, toolCall, state.Turns), spec));
                        case { Status: "pending" }:
                            // Woken before anyone decided (a stray wake-up): keep waiting on the same question.
                            return new AwaitingApproval(null);
                        case { Status: "approved" }:
                            result = await InvokeAsync(c.Functions, toolCall, signals, cancellationToken);
                            break;
                        default:
                            result = decision.Refusal();
                            break;
                    }
                }
                else
                {
                    result = await InvokeAsync(c.Functions, toolCall, signals, cancellationToken);
                }

                if (signals.WaitForChildRunId is { } childRunId)
                {
                    // The child's end wakes the attempt, which makes the same call again and gets the finished run.
                    return new AwaitingChild(childRunId);
                }

                if ((bool?)(c.Context.Input as JsonObject)?["tsvToolResults"] == true)
                {
                    result = Tabular.Compact(result);
                }

                state.Messages.Add(new ChatMessage(ChatRole.Tool, [new FunctionResultContent(toolCall.CallId, result)]));
                await CheckpointAsync(c.Context, state, cancellationToken);
            }
        }
    }

    /// <summary>The turn stopped for a prompt with <c>ifBusy: interrupt</c>; the session reads it next.</summary>
    internal static readonly ActivityOutcome Interrupted = new InterruptedTurn();

    private static async Task<object?> InvokeAsync(Dictionary<string, AIFunction?> functions, FunctionCallContent toolCall, ToolSignals signals, CancellationToken cancellationToken)
    {
        if (!functions.TryGetValue(toolCall.Name, out var function) || function is null)
        {
            return $"Error: there is no tool named '{toolCall.Name}'. The tools are: {string.Join(", ", functions.Keys)}.";
        }

        var arguments = new AIFunctionArguments(toolCall.Arguments)
        {
            Context = new Dictionary<object, object?> { [AgentTools.CallIdKey] = toolCall.CallId, [AgentTools.SignalsKey] = signals },
        };
        try
        {
            return await function.InvokeAsync(arguments, cancellationToken);
        }
        catch (Exception ex) when (ex is ArgumentException or JsonException or InvalidOperationException or FormatException)
        {
            // Bad arguments from the model: tell it, as the tool's answer, so it can correct itself.
            return $"Error: {ex.Message}";
        }
    }

    internal static ActivityOutcome Answer(ModelCall call, AgentState state, string answer, JsonNode? json)
    {
        var output = new JsonObject
        {
            ["text"] = answer,
            ["provider"] = call.Provider.Name,
            ["model"] = call.Model,
            ["turns"] = state.Turns,
            ["messages"] = Transcript(state.Messages),
            ["usage"] = ModelTurns.UsageJson(state.Usage.Sum(u => u.InputTokenCount ?? 0), state.Usage.Sum(u => u.OutputTokenCount ?? 0), state.Usage.Sum(u => u.CachedInputTokenCount ?? 0)),
            ["personaVersion"] = call.Persona?.Version,
        };
        if (json is not null)
        {
            output["json"] = json.DeepClone();
        }

        return ActivityOutcome.Success(output);
    }

    /// <summary>
    /// Writes the conversation into the attempt's log (messages and tool calls) and prices every model
    /// call: those since the last record, since a suspended attempt's record is already in the run's log.
    /// </summary>
    private static async Task RecordAsync(ActivityContext context, IServiceProvider services, ModelCall call, AgentState state)
    {
        foreach (var message in state.Messages.Skip(Math.Max(state.OpeningCount, state.LoggedMessages)))
        {
            foreach (var content in message.Contents)
            {
                switch (content)
                {
                    case TextContent { Text.Length: > 0 } text when message.Role == ChatRole.Assistant:
                        context.Log.Message("assistant", text.Text);
                        break;
                    case FunctionCallContent toolCall:
                        context.Log.Info($"Called {toolCall.Name}({JsonSerializer.Serialize(toolCall.Arguments, AIJsonUtilities.DefaultOptions)})");
                        break;
                }
            }
        }

        foreach (var usage in state.Usage.Skip(state.LoggedUsage))
        {
            state.CostNanos += await ModelTurns.RecordUsageAsync(context, services, call.Provider, call.Model, usage);
        }

        state.LoggedMessages = state.Messages.Count;
        state.LoggedUsage = state.Usage.Count;
    }

    /// <summary><c>terse</c>: the "caveman" style, which spends as few output tokens as an answer allows.</summary>
    internal const string TerseStyle =
        "Answer in as few words as possible: no greeting, no preamble, no restating the question, no filler; fragments and lists are fine. Keep every fact.";

    private static List<ChatMessage> Opening(string prompt, JsonObject input, ModelCall call, IReadOnlyList<string> remembered, ModelFiles files)
    {
        var messages = new List<ChatMessage>();
        var notes = remembered.Count == 0 ? null : "What you remember from earlier work:\n" + string.Join("\n", remembered.Select(n => "- " + n));
        var terse = (bool?)input["terse"] == true ? TerseStyle : null;
        var system = string.Join("\n\n", new[] { call.Instructions(input["parameters"] as JsonObject), (string?)input["instructions"], notes, terse }.Where(s => !string.IsNullOrWhiteSpace(s)));
        if (system.Length > 0)
        {
            messages.Add(new ChatMessage(ChatRole.System, system));
        }

        // The run's files go with the opening prompt: their names in its text, images added whenever the conversation is sent.
        messages.Add(files.IsEmpty ? new ChatMessage(ChatRole.User, prompt) : files.MarkedUserMessage(files.WithNote(prompt)));
        return messages;
    }

    // Usage is kept apart (per call); the conversation sent back to the model carries none.
    private static ChatMessage WithoutUsage(ChatMessage message) =>
        new(message.Role, [.. message.Contents.Where(c => c is not UsageContent)]) { AuthorName = message.AuthorName, MessageId = message.MessageId };

    private static JsonArray Transcript(IEnumerable<ChatMessage> messages) =>
        [.. messages.Select(m => (JsonNode)new JsonObject
        {
            ["role"] = m.Role.Value,
            ["text"] = m.Text,
            ["toolCalls"] = m.Contents.OfType<FunctionCallContent>().Any()
                ? new JsonArray([.. m.Contents.OfType<FunctionCallContent>().Select(c => (JsonNode)new JsonObject
                {
                    ["id"] = c.CallId, ["name"] = c.Name, ["arguments"] = JsonSerializer.SerializeToNode(c.Arguments, AIJsonUtilities.DefaultOptions),
                })])
                : null,
            ["toolResults"] = m.Contents.OfType<FunctionResultContent>().Any()
                ? new JsonArray([.. m.Contents.OfType<FunctionResultContent>().Select(r => (JsonNode)new JsonObject
                {
                    ["id"] = r.CallId, ["result"] = JsonSerializer.SerializeToNode(r.Result, AIJsonUtilities.DefaultOptions),
                })])
                : null,
        })];

    /// <summary>This attempt's checkpoint; for a session, else the newest earlier attempt's, so a retry or a resume after a halt keeps the conversation.</summary>
    private static async Task<JsonNode?> ReadCheckpointAsync(ActivityContext context, bool session, CancellationToken cancellationToken)
    {
        if (context.Stream is not { } stream)
        {
            return null;
        }

        return await stream.ReadCheckpointAsync(cancellationToken) ?? (session ? await stream.ReadEarlierCheckpointAsync(cancellationToken) : null);
    }

    internal static async Task CheckpointAsync(ActivityContext context, AgentState state, CancellationToken cancellationToken)
    {
        if (context.Stream is { } stream)
        {
            await stream.CheckpointAsync(state.ToJson(), cancellationToken);
        }
    }

    /// <summary>
    /// The conversation so far, as checkpointed: messages in M.E.AI's own JSON form, the turns taken,
    /// each call's usage, how much of it the run's log already holds, and where a session stands.
    /// </summary>
    internal sealed class AgentState
    {
        public List<ChatMessage> Messages { get; private init; } = [];

        /// <summary>The system and user messages the conversation opened with (not logged as the agent's).</summary>
        public int OpeningCount { get; set; }

        public int Turns { get; set; }

        public bool Repaired { get; set; }

        public List<UsageDetails> Usage { get; private init; } = [];

        /// <summary>The cost of the usage already recorded (<see cref="LoggedUsage"/> calls).</summary>
        public long CostNanos { get; set; }

        /// <summary>Messages and usage entries already written into the run's log by a suspended attempt.</summary>
        public int LoggedMessages { get; set; }

        public int LoggedUsage { get; set; }

        /// <summary>The turn count when the current prompt came: maxTurns counts per prompt.</summary>
        public int PromptStartTurns { get; set; }

        /// <summary>A session: the last prompt event taken into the conversation.</summary>
        public long ConsumedPromptId { get; set; }

        /// <summary>A session: answered, waiting for the next prompt (its answer in <see cref="LastAnswer"/>).</summary>
        public bool AwaitingPrompt { get; set; }

        public JsonObject? LastAnswer { get; set; }

        public int Prompts { get; set; } = 1;

        /// <summary>How often <c>infiniteSession</c> summarised older turns.</summary>
        public int Summaries { get; set; }

        public DateTimeOffset? IdleUntil { get; set; }

        public static AgentState Start(List<ChatMessage> opening) => new() { Messages = opening, OpeningCount = opening.Count };

        public static AgentState? From(JsonNode? saved) => saved is null ? null : new AgentState
        {
            Messages = saved["messages"].Deserialize<List<ChatMessage>>(AIJsonUtilities.DefaultOptions) ?? [],
            OpeningCount = (int)saved["openingCount"]!,
            Turns = (int)saved["turns"]!,
            Repaired = (bool)saved["repaired"]!,
            Usage = saved["usage"].Deserialize<List<UsageDetails>>(AIJsonUtilities.DefaultOptions) ?? [],
            CostNanos = (long?)saved["costNanos"] ?? 0,
            LoggedMessages = (int?)saved["loggedMessages"] ?? 0,
            LoggedUsage = (int?)saved["loggedUsage"] ?? 0,
            PromptStartTurns = (int?)saved["promptStartTurns"] ?? 0,
            ConsumedPromptId = (long?)saved["consumedPromptId"] ?? 0,
            AwaitingPrompt = (bool?)saved["awaitingPrompt"] ?? false,
            LastAnswer = saved["lastAnswer"]?.DeepClone() as JsonObject,
            Prompts = (int?)saved["prompts"] ?? 1,
            Summaries = (int?)saved["summaries"] ?? 0,
            IdleUntil = (DateTimeOffset?)saved["idleUntil"],
        };

        public JsonObject ToJson() => new()
        {
            ["messages"] = JsonSerializer.SerializeToNode(Messages, AIJsonUtilities.DefaultOptions),
            ["openingCount"] = OpeningCount,
            ["turns"] = Turns,
            ["repaired"] = Repaired,
            ["usage"] = JsonSerializer.SerializeToNode(Usage, AIJsonUtilities.DefaultOptions),
            ["costNanos"] = CostNanos,
            ["loggedMessages"] = LoggedMessages,
            ["loggedUsage"] = LoggedUsage,
            ["promptStartTurns"] = PromptStartTurns,
            [SessionPrompts.ConsumedKey] = ConsumedPromptId,
            ["awaitingPrompt"] = AwaitingPrompt,
            ["lastAnswer"] = LastAnswer?.DeepClone(),
            ["prompts"] = Prompts,
            ["summaries"] = Summaries,
            ["idleUntil"] = IdleUntil,
        };

        public void AddUsage(UsageDetails? usage)
        {
            if (usage is not null)
            {
                Usage.Add(usage);
            }
        }

        /// <summary>The tool calls of the last model turn that have no result yet.</summary>
        public List<FunctionCallContent> PendingCalls()
        {
            var lastModelTurn = Messages.FindLastIndex(m => m.Role == ChatRole.Assistant);
            if (lastModelTurn < 0)
            {
                return [];
            }

            var answered = Messages.Skip(lastModelTurn + 1).SelectMany(m => m.Contents.OfType<FunctionResultContent>()).Select(r => r.CallId).ToHashSet(StringComparer.Ordinal);
            return [.. Messages[lastModelTurn].Contents.OfType<FunctionCallContent>().Where(c => !answered.Contains(c.CallId))];
        }
    }
}
