using System.Text.Json.Nodes;
using Cadre.Common;
using Cadre.Expressions;
using Cadre.Storage;
using Cadre.Workflows;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Cadre.Runs;

/// <summary>
/// Moves runs forward. Every change goes through <see cref="CommitAsync"/>: load the run, decide in
/// memory (<see cref="RunState"/>), save the attempt's result, the run's state, the new tasks and the
/// events in one transaction. The run row's version makes concurrent commits on one run take turns.
/// </summary>
internal sealed partial class RunEngine(
    CadreDbContext db,
    StorageProvider storage,
    CompiledWorkflows compiled,
    IEnumerable<IActivity> activities,
    IdGenerator ids,
    TimeProvider time,
    RunNotifier notifier,
    IOptions<EngineOptions> options,
    IDbContextFactory<CadreDbContext> contexts,
    RecentRunStates recent,
    Triggers.EventDispatcher eventDispatcher,
    Triggers.WebhookSender webhookSender,
    Secrets.SecretService secrets,
    Observability.CadreMetrics metrics,
    ILogger<RunEngine> logger)
{
    private readonly Dictionary<string, IActivity> _activities = activities.ToDictionary(a => a.Name, StringComparer.Ordinal);

    /// <summary>Loads a run for a commit: its row and steps tracked, its workflow version compiled (cached).</summary>
    internal async Task<RunState?> LoadAsync(string runId, CancellationToken cancellationToken)
    {
        var run = await db.Runs.FirstOrDefaultAsync(r => r.Id == runId, cancellationToken);
        if (run is null)
        {
            return null;
        }

        var steps = await db.RunSteps.Where(s => s.RunId == runId).ToListAsync(cancellationToken);
        var workflow = await CompiledAsync(run.WorkflowId, run.WorkflowVersion, cancellationToken);
        return new RunState(run, steps, workflow, WorkflowValues(run.WorkflowId, workflow.Spec, run.WorkflowVersion), time.GetUtcNowTruncated());
    }

    private RunState Reattach(RunState known)
    {
        db.Runs.Attach(known.Run);
        db.RunSteps.AttachRange(known.Steps.Values);
        return new RunState(known.Run, [.. known.Steps.Values], known.Workflow, known.WorkflowValues, time.GetUtcNowTruncated());
    }

    /// <summary>A run as the API shows it, read from the database; null when there is no such run (in <paramref name="workspaceId"/>, when given).</summary>
    internal async Task<RunResponse?> DescribeAsync(string runId, string? workspaceId, CancellationToken cancellationToken)
    {
        var run = await db.Runs.AsNoTracking().FirstOrDefaultAsync(r => r.Id == runId && (workspaceId == null || r.WorkspaceId == workspaceId), cancellationToken);
        if (run is null)
        {
            return null;
        }

        var steps = await db.RunSteps.AsNoTracking().Where(s => s.RunId == runId).ToDictionaryAsync(s => s.StepId, cancellationToken);
        var workflow = await CompiledAsync(run.WorkflowId, run.WorkflowVersion, cancellationToken);
        var name = await db.Workflows.AsNoTracking().Where(w => w.Id == run.WorkflowId).Select(w => w.Name).FirstAsync(cancellationToken);
        return RunService.Response(run, steps, workflow, name);
    }

    /// <summary>What templates read as <c>workflow</c>.</summary>
    internal static JsonObject WorkflowValues(string workflowId, WorkflowSpec spec, int version) => new()
    {
        ["id"] = workflowId,
        ["name"] = spec.Name,
        ["title"] = spec.Title,
        ["version"] = version,
        ["subType"] = spec.SubType ?? "workflow",
        // What model steps fall back on: the persona that runs agent steps naming none, and the workflow's own skills and guardrails.
        ["executingAgent"] = spec.ExecutingAgent,
        ["skillIds"] = new JsonArray([.. (spec.SkillIds ?? []).Select(s => (JsonNode)s)]),
        ["guardrailIds"] = new JsonArray([.. (spec.GuardrailIds ?? []).Select(g => (JsonNode)g)]),
        ["skillTags"] = new JsonArray([.. (spec.SkillTags ?? []).Select(t => (JsonNode)t)]),
        ["guardrailTags"] = new JsonArray([.. (spec.GuardrailTags ?? []).Select(t => (JsonNode)t)]),
    };

    internal async Task<CompiledWorkflow> CompiledAsync(string workflowId, int version, CancellationToken cancellationToken)
    {
        // A version never changes: its definition is read from the history once and the compiled form kept.
        if (compiled.TryGet(workflowId, version, out var cached))
        {
            return cached;
        }

        var definition = await db.WorkflowVersions.AsNoTracking()
            .Where(v => v.WorkflowId == workflowId && v.Version == version).Select(v => v.Definition).SingleAsync(cancellationToken);
        return compiled.Get(workflowId, version, () => WorkflowJson.Deserialize(definition));
    }

    /// <summary>
    /// Applies <paramref name="decide"/> to the freshly loaded run and saves everything it decided in
    /// one transaction, retrying from a fresh load when another commit on the run came first.
    /// Answers the committed state, or null when <paramref name="decide"/> chose to change nothing.
    /// </summary>
    /// <remarks>
    /// With <paramref name="known"/> (the state this node committed last for the run), the first try
    /// skips reading the run back: its rows are attached as they were saved, and the run row's
    /// version check refuses the save if anyone committed since, in which case it loads afresh.
    /// </remarks>
    internal async Task<RunState?> CommitAsync(string runId, Func<RunState, Task<bool>> decide, CancellationToken cancellationToken, RunState? known = null)
    {
        for (var attempt = 1; ; attempt++)
        {
            db.ChangeTracker.Clear();
            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            var state = attempt == 1 && known is not null ? Reattach(known) : await LoadAsync(runId, cancellationToken);
            if (state is null)
            {
                return null;
            }

            await AttachSecretsAsync(state, known, cancellationToken);
            if (!await decide(state))
            {
                return null;
            }

            try
            {
                await SaveAsync(state, cancellationToken);
                await transaction.CommitAsync(cancellationToken);
            }
            catch (DbUpdateConcurrencyException) when (attempt < 20)
            {
                continue;
            }

            Announce(state);
            if (state.Released && await HasLimitsAsync(state, cancellationToken))
            {
                await AdmitQueuedAsync(state.Run.WorkspaceId, cancellationToken);
            }

            if (state.IsTerminal && state.Run.Status != "succeeded" && (state.Workflow.Uses("run_workflow") || state.Workflow.Uses("agent")))
            {
                await CancelAbandonedChildrenAsync(state.Run.Id, cancellationToken);
            }

            return state;
        }
    }

    /// <summary>
    /// Decrypts the secrets the run's workflow reads, for this commit only (never kept with the run's
    /// rows); the redactor also knows the values <paramref name="known"/> saw, so a secret changed
    /// while an attempt ran is still kept out of what the attempt wrote.
    /// </summary>
    internal async Task AttachSecretsAsync(RunState state, RunState? known, CancellationToken cancellationToken)
    {
        var names = state.Workflow.SecretNames;
        var resolved = names.Count == 0 ? Secrets.ResolvedSecrets.None : await secrets.ResolveAsync(state.Run.WorkspaceId, names, cancellationToken);
        if (known is not null && !known.Secrets.Redactor.IsEmpty)
        {
            resolved.RedactingAlso(known.Secrets);
        }

        state.Secrets = resolved;
    }

    private async Task<bool> HasLimitsAsync(RunState state, CancellationToken cancellationToken) =>
        state.Workflow.Spec.Defaults?.Concurrency?.MaxRuns is > 0 || await WorkspaceRunLimitAsync(state.Run.WorkspaceId, cancellationToken) > 0;

    /// <summary>The workspace's cap on runs in progress: its <c>maxConcurrentRuns</c> setting, else <c>Cadre:Engine:MaxRunsPerWorkspace</c> (0: none).</summary>
    internal async Task<int> WorkspaceRunLimitAsync(string workspaceId, CancellationToken cancellationToken)
    {
        var settings = await db.Workspaces.AsNoTracking().Where(w => w.Id == workspaceId).Select(w => w.Settings).FirstOrDefaultAsync(cancellationToken);
        var own = settings is null ? 0 : Workspaces.WorkspaceService.MaxConcurrentRuns(settings);
        return own > 0 ? own : options.Value.MaxRunsPerWorkspace;
    }

    /// <summary>
    /// Starts runs that queued for a concurrency slot, oldest first, while the workflow's and the
    /// workspace's limits allow. Called when a run gives up its slot, and by the worker's sweep (so a
    /// crash between the two loses nothing).
    /// </summary>
    internal async Task AdmitQueuedAsync(string workspaceId, CancellationToken cancellationToken)
    {
        var queued = await db.Runs.AsNoTracking().Where(r => r.WorkspaceId == workspaceId && r.Status == "queued" && !r.HaltRequested)
            .OrderBy(r => r.Id).Select(r => r.Id).Take(100).ToListAsync(cancellationToken);
        var full = new HashSet<string>(StringComparer.Ordinal);
        foreach (var runId in queued)
        {
            var workspaceFull = false;
            await CommitAsync(runId, async state =>
            {
                if (state.Run.Status != "queued" || state.Run.HaltRequested || full.Contains(state.Run.WorkflowId))
                {
                    return false;
                }

                // The counter row's lock orders admission against concurrent starts of the workflow.
                await StorageProvider.NextRunNumberAsync(db, state.Run.WorkflowId, cancellationToken, lockOnly: true);
                var workflowId = state.Run.WorkflowId;
                if (state.Workflow.Spec.Defaults?.Concurrency?.MaxRuns is > 0 and var max
                    && await db.Runs.CountAsync(r => r.WorkflowId == workflowId && SlotHolding.Contains(r.Status), cancellationToken) >= max)
                {
                    full.Add(workflowId);
                    return false;
                }

                if (await WorkspaceRunLimitAsync(workspaceId, cancellationToken) is > 0 and var workspaceMax
                    && await db.Runs.CountAsync(r => r.WorkspaceId == workspaceId && SlotHolding.Contains(r.Status), cancellationToken) >= workspaceMax)
                {
                    workspaceFull = true;
                    return false;
                }

                await AdmitAsync(state, cancellationToken);
                return true;
            }, cancellationToken);
            if (workspaceFull)
            {
                return;
            }
        }
    }

    /// <summary>Statuses that hold a concurrency slot.</summary>
    internal static readonly string[] SlotHolding = ["running", "waiting", "compensating"];

    /// <summary>Writes what a decision changed; the caller owns the transaction.</summary>
    internal async Task SaveAsync(RunState state, CancellationToken cancellationToken)
    {
        state.Run.Version++;
        state.Run.UpdatedAt = state.Now;
        Triggers.Happenings.Collect(state);
        if (state.Happenings.Count > 0
            && await Triggers.Happenings.RecordAsync(db, ids, state.Run.WorkspaceId, state.Happenings, Triggers.EventDispatcher.ChainOf(state.Context), state.Now, cancellationToken) > 0)
        {
            state.EventsToDispatch = true;
        }

        if (Triggers.WebhookOutbox.AddRunNotifications(db, ids, state) > 0)
        {
            state.DeliveriesQueued = true;
        }

        foreach (var (approval, approvers) in state.NewApprovals)
        {
            db.Approvals.Add(approval);
            db.ApprovalApprovers.AddRange(approvers.Distinct(StringComparer.Ordinal).Select(a => new ApprovalApprover { ApprovalId = approval.Id, ApproverId = a }));
        }

        Analytics.AnalyticsRecorder.Collect(db, state);

        // A run created in this commit has no rows of its own to cancel or clean up yet.
        var existing = state.NewSteps.Count == 0;
        if (state.CancelQueuedKinds is { } kinds && existing)
        {
            var runId = state.Run.Id;
            await db.Tasks.Where(t => t.RunId == runId && t.Status == "queued" && kinds.Contains(t.Kind))
                .ExecuteUpdateAsync(t => t.SetProperty(x => x.Status, "cancelled").SetProperty(x => x.FinishedAt, state.Now), cancellationToken);
        }

        if (state.IsTerminal && !RunState.IsTerminalStatus(state.InitialStatus) && state.Run.ParentRunId is { } parentRunId)
        {
            // Wakes the parent's waiting step in the same transaction as the child's end, so the parent never misses it.
            var trigger = JsonNode.Parse(state.Run.Context)?["trigger"];
            db.Tasks.Add(new RunTask
            {
                RunId = parentRunId,
                WorkspaceId = state.Run.WorkspaceId,
                StepId = state.Run.ParentStepId!,
                Kind = "timer",
                Attempt = (int?)trigger?["parentAttempt"] ?? 1,
                Iteration = (int?)trigger?["parentIteration"] ?? 1,
                Status = "queued",
                AvailableAt = state.Now,
                CreatedAt = state.Now,
            });
        }

        // Last, so nothing the decision wrote escapes it.
        RunRedaction.Apply(state, db.ChangeTracker);

        // No savepoint around the save (two more round trips on PostgreSQL): a failed commit is rolled
        // back whole and decided again from a fresh load, never carried on from the failure.
        var savepoints = db.Database.AutoSavepointsEnabled;
        db.Database.AutoSavepointsEnabled = false;
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        finally
        {
            db.Database.AutoSavepointsEnabled = savepoints;
        }

        // After the run row (their parent) and after cancelling queued tasks (which must not catch these).
        await storage.InsertRunRowsAsync(db, state.NewSteps, state.NewTasks, state.NewEvents, cancellationToken);
        if (state.IsTerminal && existing)
        {
            // Nobody need answer a question the run no longer waits for. After the save, so an
            // approval this commit settled is no longer pending.
            var runId = state.Run.Id;
            if (state.Workflow.Uses("approval") || state.Workflow.Uses("agent"))
            {
                await db.Approvals.Where(a => a.RunId == runId && a.Status == "pending")
                    .ExecuteUpdateAsync(a => a.SetProperty(x => x.Status, "cancelled").SetProperty(x => x.DecidedAt, state.Now).SetProperty(x => x.Version, x => x.Version + 1), cancellationToken);
            }

            if (state.Workflow.Uses("wait_for_event"))
            {
                await db.EventWaits.Where(w => w.RunId == runId).ExecuteDeleteAsync(cancellationToken);
            }
        }
    }

    /// <summary>A copy of the run's state as this node last committed it, for <see cref="CommitAsync"/>'s <c>known</c>.</summary>
    internal RunState? Recall(string runId) => recent.Recall(runId);

    internal void Announce(RunState state)
    {
        recent.Remember(state);
        if (state.CameToRest)
        {
            if (state.IsTerminal)
            {
                metrics.RunFinished(state.Run.Status);
            }

            Observability.CadreTelemetry.RunRested(state.Run, state.Workflow.Spec.Name ?? state.Run.WorkflowId, state.Now);
        }

        if (state.NewEvents.Count > 0)
        {
            notifier.Publish(state.Run.WorkspaceId, state.Run.Id);
        }

        notifier.WorkAvailable(state.NewTasks.Count(t => t.Status == "queued" && t.AvailableAt <= state.Now) + state.OtherTasksQueued);
        if (state.IsTerminal || state.Run.Status == "halted")
        {
            notifier.Finished(state.Run.Id);
        }

        if (state.EventsToDispatch)
        {
            eventDispatcher.Wake();
        }

        if (state.DeliveriesQueued)
        {
            webhookSender.Wake();
        }
    }

    /// <summary>
    /// Moves every step whose dependencies are done: a false <c>when</c> skips it, a loop starts a
    /// pass, a pure step runs inline (up to the inline budget), anything else is queued. Repeats until
    /// nothing more becomes ready, then settles the run's status.
    /// </summary>
    internal async Task AdvanceAsync(RunState state, CancellationToken cancellationToken)
    {
        var budget = options.Value.MaxInlineSteps;
        bool progressed;
        do
        {
            progressed = false;
            foreach (var (id, compiledStep) in state.Workflow.Steps)
            {
                if (state.IsTerminal || state.Run.Status == "compensating" || state.Run.HaltRequested)
                {
                    return;
                }

                var step = state.Steps[id];
                if (step.Status != "pending" || !state.IsReady(id))
                {
                    continue;
                }

                progressed = true;
                if (state.Secrets.ProblemFor(compiledStep.SecretReads) is { } missing)
                {
                    // Before its when and before any attempt: a step must not run with a secret that is not there.
                    step.Attempts = Math.Max(step.Attempts, 1);
                    FailStep(state, id, new ActivityError(missing.Type, missing.Message, Retryable: false));
                    continue;
                }

                bool take;
                try
                {
                    take = ReferenceEquals(compiledStep.When, Filter.Always) || compiledStep.When.Matches(state.ScopeFor(id));
                }
                catch (ExpressionEvaluationException ex)
                {
                    step.Attempts = Math.Max(step.Attempts, 1);
                    FailStep(state, id, new ActivityError("when_error", $"The step's when filter could not be evaluated: {ex.Message}", Retryable: false));
                    continue;
                }

                if (!take)
                {
                    step.Status = "skipped";
                    step.FinishedAt = state.Now;
                    state.EmitStep(id, "skipped");
                    AfterBodyStep(state, id);
                    continue;
                }

                var activityId = compiledStep.Step.Activity!.UniqueIdentifier!;
                if (activityId == "loop")
                {
                    StartLoop(state, id);
                }
                else if (_activities.TryGetValue(activityId, out var activity) && activity.IsPure && budget-- > 0)
                {
                    await RunInlineAsync(state, id, activity, cancellationToken);
                }
                else
                {
                    step.Status = "queued";
                    state.NewTask(id, "step", step.Attempts + 1, state.Now);
                }
            }
        }
        while (progressed);

        Settle(state);
    }

    /// <summary>Runs a pure step inside the commit: it still gets its task record (an attempt), its events and its output.</summary>
    private async Task RunInlineAsync(RunState state, string stepId, IActivity activity, CancellationToken cancellationToken)
    {
        var step = state.Steps[stepId];
        state.MarkStarted(stepId, step.Attempts + 1);
        var task = state.NewTask(stepId, "step", step.Attempts, state.Now);
        task.LeaseOwner = "inline";
        task.StartedAt = state.Now;
        var span = Observability.CadreTelemetry.StartAttempt(state.Run, stepId, activity.Name, step.Attempts, task.Iteration, task.Kind);
        span?.SetTag("cadre.inline", true);
        var began = time.GetTimestamp();
        var (outcome, log) = await ExecuteActivityAsync(state, stepId, activity, state.Workflow.Steps[stepId].Input, step.Attempts, cancellationToken);
        var ended = Observability.CadreTelemetry.Outcome(outcome);
        Observability.CadreTelemetry.EndAttempt(span, ended, (outcome as FailedOutcome)?.Error);
        metrics.StepAttempted(activity.Name, ended, time.GetElapsedTime(began));
        EmitLog(state, stepId, log);
        task.Status = outcome is FailedOutcome ? "failed" : "succeeded";
        task.Error = (outcome as FailedOutcome)?.Error.ToJson().ToJsonString();
        task.FinishedAt = state.Now;
        ApplyOutcome(state, stepId, outcome);
    }

    /// <summary>
    /// Renders <paramref name="template"/> against the run and runs the activity; template errors and
    /// activity exceptions become failed outcomes. The log comes back apart, for the commit that records the attempt.
    /// </summary>
    internal async Task<(ActivityOutcome Outcome, RunLog Log)> ExecuteActivityAsync(
        RunState state, string stepId, IActivity activity, JsonTemplate template, int attempt, CancellationToken cancellationToken)
    {
        var log = new RunLog();
        if (state.Secrets.ProblemFor(state.Workflow.Steps[stepId].SecretReads) is { } missing)
        {
            // Deleted (or made unreadable) since the step was queued.
            return (ActivityOutcome.Failure(missing.Type, missing.Message, retryable: false), log);
        }

        var scope = state.ScopeFor(stepId);
        JsonNode? input;
        try
        {
            input = template.Render(scope);
        }
        catch (ExpressionEvaluationException ex)
        {
            return (ActivityOutcome.Failure("template_error", $"The step's input could not be rendered: {ex.Message}", retryable: false), log);
        }

        var compensation = ReferenceEquals(template, state.Workflow.Steps[stepId].CompensationInput);
        // Inline (pure) steps stream nothing: they finish within the commit that records them.
        var iteration = Math.Max(1, state.Steps[stepId].Iteration);
        var attemptKey = ActivityContext.KeyFor(state.Run.Id, stepId, attempt, iteration, compensation);
        // The attempt shares the commit's redactor: values it learns (a tool's secrets) are kept out of the result commit too.
        var redactor = state.Secrets.Redactor;
        await using var stream = activity.IsPure ? null : new RunStreamWriter(contexts, notifier, time, state.Run.WorkspaceId, state.Run.Id, stepId, attempt, iteration, attemptKey, redactor);
        var context = new ActivityContext(
            state.Run.WorkspaceId, state.Run.Id, stepId, attempt, iteration, state.Workflow.Steps[stepId].Step, input, scope, log, compensation, stream)
        {
            Redactor = redactor,
        };
        try
        {
            return (await activity.ExecuteAsync(context, cancellationToken), log);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Halted, timed out or shutting down: the caller knows which and records it accordingly.
            return (ActivityOutcome.Failure("cancelled", "The attempt was cancelled before it finished."), log);
        }
        catch (Exception ex)
        {
            LogActivityCrash(logger, redactor.Mentions(ex.ToString()) ? new Secrets.RedactedException(redactor.Redact(ex.ToString())) : ex, activity.Name, state.Run.Id, stepId);
            return (ActivityOutcome.Failure("activity_error", $"{activity.Name} failed unexpectedly: {redactor.Redact(ex.Message)}"), log);
        }
    }

    internal static void EmitLog(RunState state, string stepId, RunLog log)
    {
        foreach (var (type, entry) in log.Entries)
        {
            // A copy: a commit that retries (another commit on the run came first) emits the log again.
            var data = entry.DeepClone().AsObject();
            if (type == "link")
            {
                var links = JsonNode.Parse(state.Run.Links)!.AsObject();
                links[(string)data["name"]!] = (string?)data["url"];
                state.Run.Links = links.ToJsonString();
            }
            else if (type == "usage")
            {
                state.Run.InputTokens += (long)data["inputTokens"]!;
                state.Run.OutputTokens += (long)data["outputTokens"]!;
                state.Run.CachedInputTokens += (long)data["cachedInputTokens"]!;
                state.Run.CostNanos += (long)data[RunLog.CostNanosKey]!;
                var personaId = (string?)data["personaId"];
                var personaVersion = (int?)data["personaVersion"];
                if (personaId is not null && personaVersion is { } version)
                {
                    Analytics.AnalyticsRecorder.NotePersona(state.Run, personaId, version);
                }

                state.Usage.Add(new Analytics.UsageRecord(
                    stepId, (string)data["model"]!, personaId, personaVersion, (long)data["inputTokens"]!, (long)data["outputTokens"]!,
                    (long)data["cachedInputTokens"]!, (long)data[RunLog.CostNanosKey]!));
                data.Remove(RunLog.CostNanosKey);
            }

            data["stepId"] = stepId;
            state.Emit(type, data);
        }
    }

    /// <summary>Records how an attempt ended and what follows from it.</summary>
    internal void ApplyOutcome(RunState state, string stepId, ActivityOutcome outcome)
    {
        var step = state.Steps[stepId];
        switch (outcome)
        {
            case Succeeded succeeded:
                state.MarkSucceeded(stepId, succeeded.Output);
                AfterBodyStep(state, stepId);
                break;
            case SleepUntil sleep:
                step.Status = "waiting";
                step.Output = sleep.Output?.ToJsonString();
                state.NewTask(stepId, "timer", step.Attempts, sleep.WakeAt.UtcDateTime);
                state.EmitStep(stepId, "waiting", new JsonObject { ["until"] = sleep.WakeAt.UtcDateTime });
                break;
            case WaitForApproval ask:
                OpenApproval(state, stepId, ask.Summary);
                break;
            case WaitForEvent wait:
                step.Status = "waiting";
                db.EventWaits.Add(new EventWait
                {
                    RunId = state.Run.Id,
                    StepId = stepId,
                    Iteration = Math.Max(1, step.Iteration),
                    Attempt = step.Attempts,
                    WorkspaceId = state.Run.WorkspaceId,
                    EventType = wait.Type,
                    Filters = wait.Filters?.ToJsonString(),
                    Deadline = wait.Deadline?.ToStorageTime(),
                    CreatedAt = state.Now,
                });
                if (wait.Deadline is { } waitDeadline)
                {
                    state.NewTask(stepId, "timer", step.Attempts, waitDeadline.ToStorageTime());
                }

                state.EmitStep(stepId, "waiting", new JsonObject { ["reason"] = "event", ["eventType"] = wait.Type });
                break;
            case WaitForChild child:
                step.Status = "waiting";
                step.Output = new JsonObject { ["runId"] = child.ChildRunId }.ToJsonString();
                state.EmitStep(stepId, "waiting", new JsonObject { ["reason"] = "child", ["childRunId"] = child.ChildRunId });
                break;
            case Suspend suspend:
                step.Status = "waiting";
                if (suspend.Approval is { } question)
                {
                    OpenApproval(state, stepId, question.Summary, question.Spec);
                    break;
                }

                if (suspend.Deadline is { } wakeAt)
                {
                    state.NewTask(stepId, "timer", step.Attempts, wakeAt.UtcDateTime);
                }

                state.EmitStep(stepId, "waiting", new JsonObject { ["reason"] = suspend.Reason });
                break;
            case WaitForSignal wait:
                step.Status = "waiting";
                if (wait.Deadline is { } deadline)
                {
                    state.NewTask(stepId, "timer", step.Attempts, deadline.UtcDateTime);
                }

                state.EmitStep(stepId, "waiting", new JsonObject { ["reason"] = wait.Reason });
                break;
            case FailedOutcome failed:
                var policy = RetryPolicyFor(state, stepId);
                var retryable = failed.Error.Retryable && !(policy.NonRetryableErrors ?? []).Contains(failed.Error.Type);
                var max = policy.MaximumAttempts ?? 1;
                if (retryable && (max == 0 || step.Attempts < max))
                {
                    var delay = Backoff(policy, step.Attempts);
                    step.Status = "retrying";
                    step.Error = failed.Error.ToJson().ToJsonString();
                    state.NewTask(stepId, "step", step.Attempts + 1, state.Now + delay);
                    state.EmitStep(stepId, "retrying", new JsonObject { ["error"] = failed.Error.ToJson(), ["retryAt"] = state.Now + delay });
                }
                else
                {
                    FailStep(state, stepId, failed.Error);
                }

                break;
        }
    }

    internal void FailStep(RunState state, string stepId, ActivityError error)
    {
        var step = state.Steps[stepId];
        step.Status = "failed";
        step.Error = error.ToJson().ToJsonString();
        step.FinishedAt = state.Now;
        state.EmitStep(stepId, "failed", new JsonObject { ["error"] = error.ToJson() });
        switch (state.Workflow.Steps[stepId].Step.OnFailure)
        {
            case "continue":
                AfterBodyStep(state, stepId);
                break;
            case "compensate":
                FailRun(state, stepId, error, "compensated");
                break;
            default:
                FailRun(state, stepId, error, "failed");
                break;
        }
    }

    /// <summary>Ends the run after a failed step: stops the rest, then unwinds completed steps' compensations newest first.</summary>
    private static void FailRun(RunState state, string stepId, ActivityError error, string finalStatus)
    {
        var runError = error.ToJson();
        runError["stepId"] = stepId;
        runError["outcome"] = finalStatus;
        state.Run.Error = runError.ToJsonString();
        state.CancelOpenSteps(compensations: false);
        state.CancelQueuedKinds = ["step", "timer"];
        if (!StartNextCompensation(state))
        {
            state.SetRunStatus(finalStatus, new JsonObject { ["error"] = runError });
        }
    }

    /// <summary>Queues the compensation of the latest completed step that has one; false when none is left.</summary>
    internal static bool StartNextCompensation(RunState state)
    {
        var next = state.Steps.Values
            .Where(s => s.Status == "succeeded" && state.Workflow.Steps[s.StepId].Step.Compensation is not null)
            .OrderByDescending(s => s.CompletedOrder)
            .FirstOrDefault();
        if (next is null)
        {
            return false;
        }

        state.SetRunStatus("compensating");
        next.Status = "compensating";
        state.NewTask(next.StepId, "compensation", 1, state.Now);
        state.EmitStep(next.StepId, "compensating");
        return true;
    }

    /// <summary>After a compensation attempt: the step is compensated (or marked failed, never silently), then the next unwinds or the run ends.</summary>
    internal static void ApplyCompensation(RunState state, string stepId, int attempt, ActivityOutcome outcome)
    {
        var step = state.Steps[stepId];
        if (outcome is FailedOutcome failed)
        {
            var policy = RetryPolicyFor(state, stepId);
            var max = policy.MaximumAttempts ?? 1;
            if (failed.Error.Retryable && (max == 0 || attempt < max))
            {
                var delay = Backoff(policy, attempt);
                state.NewTask(stepId, "compensation", attempt + 1, state.Now + delay);
                state.EmitStep(stepId, "compensation_retrying", new JsonObject { ["error"] = failed.Error.ToJson(), ["retryAt"] = state.Now + delay });
                return;
            }

            step.Status = "compensation_failed";
            state.EmitStep(stepId, "compensation_failed", new JsonObject { ["error"] = failed.Error.ToJson() });
        }
        else
        {
            step.Status = "compensated";
            state.EmitStep(stepId, "compensated");
        }

        if (!StartNextCompensation(state))
        {
            FinishUnwind(state);
        }
    }

    private static void StartLoop(RunState state, string loopId)
    {
        var loop = state.Steps[loopId];
        loop.Status = "running";
        loop.Iteration = 1;
        loop.Attempts = 1;
        loop.StartedAt = state.Now;
        state.EmitStep(loopId, "started", new JsonObject { ["iteration"] = 1 });
    }

    /// <summary>After a body step of a loop finishes: when the pass is complete, end the loop or start the next pass.</summary>
    private void AfterBodyStep(RunState state, string stepId)
    {
        if (state.LoopOf(stepId) is not { } loopId || state.Steps[loopId].Status != "running")
        {
            return;
        }

        var spec = state.Workflow.Steps[loopId];
        var body = spec.Step.Loop!.Body!;
        if (body.Any(member => state.Steps[member].Status is not ("succeeded" or "skipped")
            && !(state.Steps[member].Status == "failed" && state.Workflow.Steps[member].Step.OnFailure == "continue")))
        {
            return;
        }

        var loop = state.Steps[loopId];
        var max = spec.Step.Loop.MaxIterations ?? state.Workflow.Spec.Defaults?.MaxIterations ?? 10;
        bool done;
        try
        {
            done = spec.Until?.Matches(state.ScopeFor(loopId)) ?? false;
        }
        catch (ExpressionEvaluationException ex)
        {
            FailStep(state, loopId, new ActivityError("until_error", $"The loop's until filter could not be evaluated: {ex.Message}", Retryable: false));
            return;
        }

        if (done || loop.Iteration >= max)
        {
            var output = new JsonObject { ["iterations"] = loop.Iteration, ["stoppedBy"] = done ? "until" : "maxIterations" };
            // The loop's own record: one attempt spanning its passes.
            var record = state.NewTask(loopId, "step", 1, state.Now);
            record.Status = "succeeded";
            record.LeaseOwner = "inline";
            record.StartedAt = loop.StartedAt;
            record.FinishedAt = state.Now;
            state.MarkSucceeded(loopId, output);
            return;
        }

        loop.Iteration++;
        foreach (var member in body)
        {
            var step = state.Steps[member];
            step.Status = "pending";
            step.Iteration = loop.Iteration;
            step.Attempts = 0;
            step.Error = null;
        }

        state.Emit("loop", new JsonObject { ["stepId"] = loopId, ["iteration"] = loop.Iteration });
    }

    /// <summary>Sets the run's status from its steps: running while work is queued or running, waiting while only timers and signals remain, succeeded when all is done.</summary>
    internal static void Settle(RunState state)
    {
        if (state.IsTerminal || state.Run.Status is "compensating" or "queued" || state.Run.HaltRequested)
        {
            return;
        }

        var statuses = state.Steps.Values.Select(s => s.Status).ToList();
        if (statuses.Any(s => s is "queued" or "running" or "retrying"))
        {
            state.SetRunStatus("running");
        }
        else if (statuses.Any(s => s == "waiting"))
        {
            state.SetRunStatus("waiting");
        }
        else if (!statuses.Any(s => s == "pending"))
        {
            var output = state.RunOutput();
            state.Run.Output = output?.ToJsonString();
            state.SetRunStatus("running");
            state.SetRunStatus("succeeded", new JsonObject { ["output"] = output?.DeepClone() });
        }
    }

    /// <summary>
    /// A lease lapsed (its worker died or stalled): the attempt is recorded as abandoned and counts;
    /// the step retries by its policy, a timer fires again, a compensation is tried again.
    /// </summary>
    internal async Task ReturnLapsedAsync(RunTask lapsed, DateTime cutoff, CancellationToken cancellationToken)
    {
        var returned = await CommitAsync(lapsed.RunId, async state =>
        {
            var row = await db.Tasks.FirstOrDefaultAsync(t => t.Id == lapsed.Id, cancellationToken);
            if (row is not { Status: "leased" } || row.LeaseOwner != lapsed.LeaseOwner || !(row.LeaseExpiresAt < cutoff))
            {
                return false;
            }

            var error = new ActivityError("lease_expired", $"The worker running this attempt ({row.LeaseOwner}) stopped before finishing it.");
            row.Status = "abandoned";
            row.FinishedAt = state.Now;
            row.Error = error.ToJson().ToJsonString();
            var step = state.Steps[row.StepId];
            switch (row.Kind)
            {
                case "timer":
                    state.NewTask(row.StepId, "timer", row.Attempt, state.Now);
                    break;
                case "compensation" when step.Status == "compensating":
                    // As for a step: whether the lost undo happened is unknown, so the same attempt is
                    // delivered again under the same idempotency key, and each delivery counts.
                    var undoMax = RetryPolicyFor(state, row.StepId).MaximumAttempts ?? 1;
                    var undoStepId = row.StepId;
                    var undoRunId = row.RunId;
                    var undoSpent = await db.Tasks.CountAsync(
                        t => t.RunId == undoRunId && t.StepId == undoStepId && t.Kind == "compensation" && (t.Status == "failed" || t.Status == "abandoned"),
                        cancellationToken);
                    if (undoMax != 0 && undoSpent + 1 >= undoMax)
                    {
                        ApplyCompensation(state, row.StepId, row.Attempt, new FailedOutcome(error with { Retryable = false }));
                        break;
                    }

                    state.NewTask(row.StepId, "compensation", row.Attempt, state.Now);
                    state.EmitStep(row.StepId, "compensation_retrying", new JsonObject { ["error"] = error.ToJson(), ["retryAt"] = state.Now });
                    break;
                case "step" when step.Status is "queued" or "retrying" or "running" && !state.IsTerminal:
                    if (state.Run.HaltRequested)
                    {
                        step.Status = "pending";
                        break;
                    }

                    // Whether the lost attempt's side effect happened is unknown, so the same attempt is
                    // delivered again with the same idempotency key: downstream de-duplicates it. Each
                    // delivery counts against maximumAttempts, so a step that kills its worker every
                    // time still ends.
                    var max = RetryPolicyFor(state, row.StepId).MaximumAttempts ?? 1;
                    var stepId = row.StepId;
                    var runId = row.RunId;
                    var iteration = row.Iteration;
                    var spent = await db.Tasks.CountAsync(
                        t => t.RunId == runId && t.StepId == stepId && t.Kind == "step" && t.Iteration == iteration && (t.Status == "failed" || t.Status == "abandoned"),
                        cancellationToken);
                    step.Attempts = row.Attempt;
                    if (max != 0 && spent + 1 >= max)
                    {
                        FailStep(state, row.StepId, error with { Retryable = false });
                        await AdvanceAsync(state, cancellationToken);
                        break;
                    }

                    step.Status = "queued";
                    state.NewTask(row.StepId, "step", row.Attempt, state.Now);
                    state.EmitStep(row.StepId, "retrying", new JsonObject { ["error"] = error.ToJson(), ["retryAt"] = state.Now });
                    break;
            }

            return true;
        }, cancellationToken);
        if (returned is not null)
        {
            metrics.LeaseExpired(lapsed.Kind);
        }
    }

    /// <summary>The child run a waiting run_workflow step waits for has ended (or not yet): the step ends with it.</summary>
    internal async Task ChildEndedAsync(RunState state, string stepId, CancellationToken cancellationToken)
    {
        if (RunState.Parse(state.Steps[stepId].Output)?["runId"] is not JsonValue id || !id.TryGetValue<string>(out var childRunId))
        {
            return;
        }

        var child = await db.Runs.AsNoTracking().Where(r => r.Id == childRunId).Select(r => new { r.Status, r.Output, r.Error }).FirstOrDefaultAsync(cancellationToken);
        if (child is not null && RunWorkflowActivity.ChildOutcome(childRunId, child.Status, RunState.Parse(child.Output), RunState.Parse(child.Error)?.AsObject()) is { } outcome)
        {
            ApplyOutcome(state, stepId, outcome);
        }
    }

    /// <summary>
    /// Records an emit_event step's event and, in the same transaction, claims it for every open
    /// wait of its type whose filter it passes, waking those steps; answers the step's outcome.
    /// </summary>
    internal async Task<ActivityOutcome> EmitAsync(RunState state, string stepId, EmitEvent emitted, CancellationToken cancellationToken)
    {
        var workspaceId = state.Run.WorkspaceId;
        if (emitted.IdempotencyKey is { } key
            && await db.WorkspaceEvents.AsNoTracking().FirstOrDefaultAsync(e => e.WorkspaceId == workspaceId && e.IdempotencyKey == key, cancellationToken) is { } earlier)
        {
            return ActivityOutcome.Success(new JsonObject { ["eventId"] = earlier.Id, ["type"] = earlier.Type, ["woke"] = 0, ["repeated"] = true });
        }

        var record = new WorkspaceEvent
        {
            Id = ids.NewId(WorkspaceEvent.IdPrefix),
            WorkspaceId = state.Run.WorkspaceId,
            Type = emitted.Type,
            Source = emitted.Source,
            // Redacted before waits match it, so every record of the event agrees.
            Payload = state.Secrets.Redactor.Redact(emitted.Payload)?.ToJsonString() ?? "null",
            EmittedByRun = state.Run.Id,
            EmittedByStep = stepId,
            IdempotencyKey = emitted.IdempotencyKey,
            Depth = Triggers.EventDispatcher.ChainOf(state.Context),
            CreatedAt = state.Now,
        };
        db.WorkspaceEvents.Add(record);
        var woken = await Triggers.EventWaitClaims.ClaimAsync(db, record, state.Now, cancellationToken);
        state.OtherTasksQueued += woken;
        state.EventsToDispatch = true;
        return ActivityOutcome.Success(new JsonObject { ["eventId"] = record.Id, ["type"] = record.Type, ["woke"] = woken });
    }

    /// <summary>A wait_for_event step's wake-up: its claimed event, or its deadline (<c>{timedOut: true}</c>).</summary>
    internal async Task EventWaitEndedAsync(RunState state, string stepId, CancellationToken cancellationToken)
    {
        var runId = state.Run.Id;
        var iteration = Math.Max(1, state.Steps[stepId].Iteration);
        var wait = await db.EventWaits.FirstOrDefaultAsync(w => w.RunId == runId && w.StepId == stepId && w.Iteration == iteration, cancellationToken);
        if (wait is null)
        {
            return;
        }

        if (wait.EventId is { } eventId)
        {
            var record = await db.WorkspaceEvents.AsNoTracking().FirstAsync(e => e.Id == eventId, cancellationToken);
            db.EventWaits.Remove(wait);
            ApplyOutcome(state, stepId, ActivityOutcome.Success(new JsonObject { ["event"] = EventJson(record) }));
        }
        else if (wait.Deadline is { } deadline && deadline <= state.Now)
        {
            db.EventWaits.Remove(wait);
            ApplyOutcome(state, stepId, ActivityOutcome.Success(new JsonObject { ["timedOut"] = true }));
        }
    }

    internal static JsonObject EventJson(WorkspaceEvent record) => new()
    {
        ["id"] = record.Id,
        ["type"] = record.Type,
        ["source"] = record.Source,
        ["payload"] = RunState.Parse(record.Payload),
        ["occurredAt"] = record.OccurredAt ?? record.CreatedAt,
        ["createdAt"] = record.CreatedAt,
    };

    /// <summary>
    /// Opens an approval: the question, who may answer, the deadline (a durable timer). The step's own
    /// <c>approval</c> settings unless <paramref name="ownSpec"/> is given (a tool's), which is then kept with it.
    /// </summary>
    private void OpenApproval(RunState state, string stepId, JsonNode? summary, ApprovalSpec? ownSpec = null)
    {
        var spec = ownSpec ?? state.Workflow.Steps[stepId].Step.Approval ?? new ApprovalSpec();
        var step = state.Steps[stepId];
        DateTime? deadline = Durations.TryParse(spec.Timeout, out var timeout) ? state.Now + timeout : null;
        var approval = new Approval
        {
            Id = ids.NewId(Approval.IdPrefix),
            WorkspaceId = state.Run.WorkspaceId,
            RunId = state.Run.Id,
            StepId = stepId,
            Iteration = Math.Max(1, step.Iteration),
            Status = "pending",
            Quorum = spec.Quorum ?? 1,
            Deadline = deadline,
            Summary = summary?.ToJsonString() ?? "null",
            Spec = ownSpec is null ? null : System.Text.Json.JsonSerializer.Serialize(ownSpec, StrictJson.Options),
            CreatedAt = state.Now,
            Version = 1,
        };
        state.NewApprovals.Add((approval, spec.Approvers ?? []));
        step.Status = "waiting";
        if (deadline is { } at)
        {
            state.NewTask(stepId, "timer", step.Attempts, at);
        }

        state.EmitStep(stepId, "waiting", new JsonObject { ["reason"] = "approval", ["approvalId"] = approval.Id });
        state.Emit("approval", new JsonObject
        {
            ["approvalId"] = approval.Id,
            ["stepId"] = stepId,
            ["status"] = "pending",
            ["approvers"] = new JsonArray([.. (spec.Approvers ?? []).Select(a => (JsonNode?)JsonValue.Create(a))]),
            ["quorum"] = approval.Quorum,
            ["deadline"] = deadline,
        });
    }

    /// <summary>Records one person's decision; when it settles the approval, the step ends and the run moves on.</summary>
    internal async Task<string?> DecideAsync(RunState state, Approval approval, string actorId, string decision, string? comment, CancellationToken cancellationToken)
    {
        if (approval.Status != "pending")
        {
            return $"The approval is already {approval.Status}.";
        }

        if (await db.ApprovalDecisions.AnyAsync(d => d.ApprovalId == approval.Id && d.UserId == actorId, cancellationToken))
        {
            return "You have already decided on this approval; each approver decides once.";
        }

        db.ApprovalDecisions.Add(new ApprovalDecision { ApprovalId = approval.Id, UserId = actorId, Decision = decision, Comment = comment, CreatedAt = state.Now });
        approval.Version++;
        state.Emit("approval", new JsonObject
        {
            ["approvalId"] = approval.Id,
            ["stepId"] = approval.StepId,
            ["status"] = "pending",
            ["decision"] = new JsonObject { ["by"] = actorId, ["decision"] = decision, ["comment"] = comment, ["at"] = state.Now },
        });
        // The decision just added is not saved yet: counted by hand.
        var approvals = await db.ApprovalDecisions.CountAsync(d => d.ApprovalId == approval.Id && d.Decision == "approve", cancellationToken) + (decision == "approve" ? 1 : 0);
        if (decision == "reject")
        {
            await SettleApprovalAsync(state, approval, "rejected", "rejected", cancellationToken);
        }
        else if (approvals >= approval.Quorum)
        {
            await SettleApprovalAsync(state, approval, "approved", "quorum", cancellationToken);
        }

        return null;
    }

    /// <summary>The approval's deadline passed: reject (default), approve, or ask the escalation approvers once with a new deadline.</summary>
    internal async Task ApprovalDeadlineAsync(RunState state, string stepId, CancellationToken cancellationToken)
    {
        var iteration = Math.Max(1, state.Steps[stepId].Iteration);
        var runId = state.Run.Id;
        var approval = await db.Approvals.FirstOrDefaultAsync(a => a.RunId == runId && a.StepId == stepId && a.Iteration == iteration && a.Status == "pending", cancellationToken);
        if (approval is null)
        {
            return;
        }

        var spec = SpecOf(state, approval);
        switch (spec.OnTimeout)
        {
            case "approve":
                await SettleApprovalAsync(state, approval, "approved", "timeout", cancellationToken);
                break;
            case "escalate" when approval.Escalations == 0 && spec.EscalateTo is { Count: > 0 } next:
                approval.Escalations++;
                approval.Version++;
                approval.Deadline = state.Now + (Durations.TryParse(spec.Timeout, out var timeout) ? timeout : TimeSpan.FromDays(1));
                var approvalId = approval.Id;
                await db.ApprovalApprovers.Where(a => a.ApprovalId == approvalId).ExecuteDeleteAsync(cancellationToken);
                db.ApprovalApprovers.AddRange(next.Distinct(StringComparer.Ordinal).Select(a => new ApprovalApprover { ApprovalId = approvalId, ApproverId = a }));
                state.NewTask(stepId, "timer", state.Steps[stepId].Attempts, approval.Deadline.Value);
                state.Emit("approval", new JsonObject
                {
                    ["approvalId"] = approval.Id,
                    ["stepId"] = stepId,
                    ["status"] = "escalated",
                    ["approvers"] = new JsonArray([.. next.Select(a => (JsonNode?)JsonValue.Create(a))]),
                    ["deadline"] = approval.Deadline,
                });
                break;
            default:
                await SettleApprovalAsync(state, approval, "expired", "timeout", cancellationToken);
                break;
        }
    }

    private static ApprovalSpec SpecOf(RunState state, Approval approval) =>
        (approval.Spec is { } own ? System.Text.Json.JsonSerializer.Deserialize<ApprovalSpec>(own, StrictJson.Options) : null)
        ?? state.Workflow.Steps[approval.StepId].Step.Approval ?? new ApprovalSpec();

    /// <summary>
    /// A timer of a step that suspended itself (an agent): an approval's deadline when one is pending,
    /// else the wake-up it asked for, which runs the step again to see for itself.
    /// </summary>
    internal async Task SuspendedStepTimerAsync(RunState state, string stepId, CancellationToken cancellationToken)
    {
        var iteration = Math.Max(1, state.Steps[stepId].Iteration);
        var runId = state.Run.Id;
        var pending = await db.Approvals.AsNoTracking().Where(a => a.RunId == runId && a.StepId == stepId && a.Iteration == iteration && a.Status == "pending")
            .Select(a => new { a.Deadline }).FirstOrDefaultAsync(cancellationToken);
        if (pending is not null)
        {
            // Another wake-up (a child's end) while people decide changes nothing; their deadline does.
            if (pending.Deadline <= state.Now)
            {
                await ApprovalDeadlineAsync(state, stepId, cancellationToken);
            }

            return;
        }

        Wake(state, stepId, "deadline");
    }

    /// <summary>
    /// Runs a suspended step's activity again, in the same attempt (so it reads back its checkpoint).
    /// A halted run's steps stay as they are: resuming it wakes every suspended step to look again.
    /// </summary>
    internal static void Wake(RunState state, string stepId, string reason)
    {
        if (state.Run.HaltRequested)
        {
            return;
        }

        var step = state.Steps[stepId];
        step.Status = "queued";
        state.NewTask(stepId, "step", step.Attempts, state.Now);
        state.EmitStep(stepId, "queued", new JsonObject { ["reason"] = reason });
        Settle(state);
    }

    /// <summary>Saves a suspending attempt's progress within the commit that records the pause, so the two cannot disagree.</summary>
    internal async Task SaveCheckpointAsync(RunState state, string attemptKey, JsonNode checkpoint, CancellationToken cancellationToken)
    {
        var runId = state.Run.Id;
        var saved = await db.StepCheckpoints.FirstOrDefaultAsync(c => c.RunId == runId && c.AttemptKey == attemptKey, cancellationToken);
        if (saved is null)
        {
            db.StepCheckpoints.Add(new StepCheckpoint { RunId = runId, AttemptKey = attemptKey, State = checkpoint.ToJsonString(), UpdatedAt = state.Now });
        }
        else
        {
            saved.State = checkpoint.ToJsonString();
            saved.UpdatedAt = state.Now;
        }
    }

    /// <summary>Whether the run has ended (a child a suspending step waits for).</summary>
    internal async Task<bool> HasEndedAsync(string runId, CancellationToken cancellationToken) =>
        RunState.IsTerminalStatus(await db.Runs.AsNoTracking().Where(r => r.Id == runId).Select(r => r.Status).FirstOrDefaultAsync(cancellationToken) ?? "failed");

    /// <summary>
    /// Emits an event for a step that is still running (an agent's <c>emit_event</c> tool), in a commit
    /// of its own on the run; the same idempotency key emits once.
    /// </summary>
    internal async Task<JsonObject> EmitNowAsync(string runId, string stepId, EmitEvent emitted, CancellationToken cancellationToken)
    {
        JsonObject? result = null;
        await CommitAsync(runId, async state =>
        {
            result = (JsonObject)((Succeeded)await EmitAsync(state, stepId, emitted, cancellationToken)).Output!;
            return true;
        }, cancellationToken);
        return result ?? throw new InvalidOperationException($"Run {runId} is gone.");
    }

    /// <summary>Whether prompts came for the run's session after <paramref name="afterId"/> (they wake a session that is about to wait).</summary>
    internal Task<bool> PromptsAfterAsync(string runId, long afterId, CancellationToken cancellationToken) =>
        db.RunEvents.AnyAsync(e => e.RunId == runId && e.Type == SessionPrompts.EventType && e.Id > afterId, cancellationToken);

    private async Task SettleApprovalAsync(RunState state, Approval approval, string status, string reason, CancellationToken cancellationToken)
    {
        approval.Status = status;
        approval.OutcomeReason = reason;
        approval.DecidedAt = state.Now;
        approval.Version++;
        state.ApprovalWaits.Add(state.Now - approval.CreatedAt);
        var approvalId = approval.Id;
        var decisions = await db.ApprovalDecisions.AsNoTracking().Where(d => d.ApprovalId == approvalId).OrderBy(d => d.CreatedAt).ToListAsync(cancellationToken);
        // The decision just added is tracked, not yet saved.
        decisions.AddRange(db.ChangeTracker.Entries<ApprovalDecision>().Where(e => e.State == EntityState.Added && e.Entity.ApprovalId == approvalId).Select(e => e.Entity));
        var record = new JsonArray([.. decisions.Select(d => (JsonNode?)new JsonObject { ["by"] = d.UserId, ["decision"] = d.Decision, ["comment"] = d.Comment, ["at"] = d.CreatedAt })]);
        state.Emit("approval", new JsonObject { ["approvalId"] = approval.Id, ["stepId"] = approval.StepId, ["status"] = status, ["reason"] = reason });
        state.Happenings.Add(("approval.decided", new JsonObject
        {
            ["approvalId"] = approval.Id,
            ["runId"] = state.Run.Id,
            ["stepId"] = approval.StepId,
            ["decision"] = status,
            ["decidedBy"] = decisions.LastOrDefault()?.UserId ?? reason,
            ["reason"] = reason,
        }));
        var step = state.Steps[approval.StepId];
        if (step.Status != "waiting" || Math.Max(1, step.Iteration) != approval.Iteration)
        {
            return;
        }

        if (state.Workflow.Steps[approval.StepId].Step.Activity!.UniqueIdentifier != "approval")
        {
            // A tool's approval: the agent runs again and finds the decision.
            Wake(state, approval.StepId, "approval");
            return;
        }

        if (status == "approved")
        {
            ApplyOutcome(state, approval.StepId, new Succeeded(new JsonObject { ["decision"] = "approved", ["reason"] = reason, ["approvalId"] = approval.Id, ["decisions"] = record }));
        }
        else
        {
            FailStep(state, approval.StepId, new ActivityError(
                "approval_rejected",
                reason == "timeout" ? "Nobody approved before the deadline." : "An approver rejected the step.",
                Retryable: false,
                new JsonObject { ["approvalId"] = approval.Id, ["reason"] = reason, ["decisions"] = record }));
        }

        await AdvanceAsync(state, cancellationToken);
    }

    /// <summary>
    /// Ends child runs whose parent ended without them: the parent failed or was compensated while its
    /// run_workflow step still waited (the step is cancelled). Children a step started without
    /// waiting, and children of a halted parent, run on. Called after the parent's final commit and by
    /// the worker's sweep, so a crash in between only delays it.
    /// </summary>
    internal async Task CancelAbandonedChildrenAsync(string? parentRunId, CancellationToken cancellationToken)
    {
        var children = await (
            from child in db.Runs.AsNoTracking()
            join parent in db.Runs on child.ParentRunId equals parent.Id
            join step in db.RunSteps on new { RunId = parent.Id, StepId = child.ParentStepId! } equals new { step.RunId, step.StepId }
            where (parentRunId == null || parent.Id == parentRunId)
                && (parent.Status == "failed" || parent.Status == "compensated") && step.Status == "cancelled"
                && child.Status != "succeeded" && child.Status != "failed" && child.Status != "compensated"
            select new { child.Id, parent.DisplayId, parent.Status }).Take(100).ToListAsync(cancellationToken);
        foreach (var child in children)
        {
            await CommitAsync(child.Id, state =>
            {
                if (state.IsTerminal)
                {
                    return Task.FromResult(false);
                }

                Cancel(state, "cancelled", $"Its parent run {child.DisplayId} ended {child.Status} without it.");
                return Task.FromResult(true);
            }, cancellationToken);
        }
    }

    /// <summary>Lets a run that waited for a concurrency slot begin: its first steps become ready.</summary>
    internal async Task AdmitAsync(RunState state, CancellationToken cancellationToken)
    {
        state.SetRunStatus("running");
        await AdvanceAsync(state, cancellationToken);
    }

    /// <summary>
    /// Halts a run: nothing new is scheduled, queued work is withdrawn (its steps back to pending, so a
    /// resume runs them), in-flight attempts are asked to stop. Timers keep going: a sleep that ends
    /// during the halt is recorded, and the run moves on when resumed.
    /// </summary>
    internal static void Halt(RunState state, string? by)
    {
        state.Run.HaltRequested = true;
        foreach (var (id, step) in state.Steps)
        {
            if (step.Status is "queued" or "retrying")
            {
                step.Status = "pending";
                state.EmitStep(id, "pending", new JsonObject { ["reason"] = "halted" });
            }
        }

        state.CancelQueuedKinds = ["step", "compensation"];
        state.SetRunStatus("halted", new JsonObject { ["by"] = by });
    }

    /// <summary>Resumes a halted run where it stopped: pending steps become ready again and an interrupted unwind carries on.</summary>
    internal async Task ResumeAsync(RunState state, string? by, CancellationToken cancellationToken)
    {
        state.Run.HaltRequested = false;
        var unwinding = RunState.Parse(state.Run.Error) is not null;
        if (unwinding)
        {
            state.SetRunStatus("compensating", new JsonObject { ["by"] = by });
            foreach (var step in state.Steps.Values.Where(s => s.Status == "compensating"))
            {
                state.NewTask(step.StepId, "compensation", 1, state.Now);
            }

            if (!state.Steps.Values.Any(s => s.Status == "compensating") && !StartNextCompensation(state))
            {
                FinishUnwind(state);
            }

            return;
        }

        state.SetRunStatus("running", new JsonObject { ["by"] = by });
        // What a suspended step waited for may have come during the halt (a decision, a prompt, a child's end): it looks again.
        foreach (var id in state.Steps.Where(s => s.Value.Status == "waiting" && state.Workflow.Steps[s.Key].Step.Activity?.UniqueIdentifier == "agent").Select(s => s.Key).ToList())
        {
            Wake(state, id, "resumed");
        }

        await AdvanceAsync(state, cancellationToken);
    }

    /// <summary>
    /// Retry-from-failed: steps that failed, were cancelled by the failure, or were compensated run
    /// again (with new attempt numbers, so new idempotency keys); succeeded steps keep their outputs.
    /// </summary>
    internal async Task RetryFailedAsync(RunState state, string? by, CancellationToken cancellationToken)
    {
        foreach (var (id, step) in state.Steps)
        {
            if (step.Status is "failed" or "cancelled" or "compensated" or "compensation_failed")
            {
                step.Status = "pending";
                step.Error = null;
                step.Output = null;
                step.FinishedAt = null;
                step.CompletedOrder = null;
                state.EmitStep(id, "pending", new JsonObject { ["reason"] = "retry" });
            }
        }

        state.Run.Error = null;
        state.Run.Output = null;
        state.Run.FinishedAt = null;
        state.SetRunStatus("running", new JsonObject { ["by"] = by, ["reason"] = "retry" });
        await AdvanceAsync(state, cancellationToken);
    }

    /// <summary>Ends a run at once without unwinding (a concurrency policy made room): its work is cancelled and it fails with <paramref name="reason"/>.</summary>
    internal static void Cancel(RunState state, string type, string reason)
    {
        var error = new ActivityError(type, reason, Retryable: false).ToJson();
        state.Run.Error = error.ToJsonString();
        state.CancelOpenSteps(compensations: true);
        state.SetRunStatus("failed", new JsonObject { ["error"] = error });
    }

    private static void FinishUnwind(RunState state)
    {
        var error = RunState.Parse(state.Run.Error)?.AsObject();
        var final = (string?)error?["outcome"] ?? "failed";
        state.SetRunStatus(final, new JsonObject { ["error"] = error?.DeepClone() });
    }

    /// <summary>The step's timeout, else the workflow's default, else none.</summary>
    internal static TimeSpan? TimeoutFor(RunState state, string stepId)
    {
        var text = state.Workflow.Steps[stepId].Step.Timeout ?? state.Workflow.Spec.Defaults?.Timeout;
        return Durations.TryParse(text, out var timeout) ? timeout : null;
    }

    internal static RetryPolicy RetryPolicyFor(RunState state, string stepId)
    {
        var defaults = state.Workflow.Spec.Defaults?.RetryPolicy ?? new RetryPolicy();
        var own = state.Workflow.Steps[stepId].Step.RetryPolicy;
        return new RetryPolicy
        {
            MaximumAttempts = own?.MaximumAttempts ?? defaults.MaximumAttempts ?? 3,
            InitialInterval = own?.InitialInterval ?? defaults.InitialInterval ?? "1s",
            BackoffCoefficient = own?.BackoffCoefficient ?? defaults.BackoffCoefficient ?? 2,
            MaximumInterval = own?.MaximumInterval ?? defaults.MaximumInterval ?? "1m",
            NonRetryableErrors = own?.NonRetryableErrors ?? defaults.NonRetryableErrors ?? [],
        };
    }

    /// <summary>initial × coefficient^(attempt − 1), capped, with ±20 % jitter so retries of many runs do not arrive together.</summary>
    internal static TimeSpan Backoff(RetryPolicy policy, int attempt)
    {
        var initial = Durations.TryParse(policy.InitialInterval, out var i) ? i : TimeSpan.FromSeconds(1);
        var maximum = Durations.TryParse(policy.MaximumInterval, out var m) ? m : TimeSpan.FromMinutes(1);
        var raw = initial.TotalMilliseconds * Math.Pow(policy.BackoffCoefficient ?? 2, Math.Max(0, attempt - 1));
        var capped = Math.Min(raw, maximum.TotalMilliseconds);
        var jittered = capped * (0.8 + (Random.Shared.NextDouble() * 0.4));
        return TimeSpan.FromMilliseconds(Math.Min(jittered, maximum.TotalMilliseconds));
    }

    internal IActivity? Activity(string uniqueIdentifier) => _activities.GetValueOrDefault(uniqueIdentifier);

    /// <summary>
    /// Takes, within the commit, the first step task this commit queued that can run now: leased to
    /// this worker and marked started, so it needs neither a lease statement nor a "started" commit.
    /// The rest stay queued for other workers, so parallel branches still spread out.
    /// </summary>
    internal (RunTask Task, IActivity Activity)? TakeNext(RunState state, string owner)
    {
        if (state.IsTerminal || state.Run.HaltRequested)
        {
            return null;
        }

        foreach (var task in state.NewTasks)
        {
            if (task is not { Kind: "step", Status: "queued" } || task.AvailableAt > state.Now
                || state.Steps[task.StepId].Status != "queued"
                || Activity(state.Workflow.Steps[task.StepId].Step.Activity!.UniqueIdentifier!) is not { } activity)
            {
                continue;
            }

            // Saved through EF rather than with the commit's other new rows, so it comes back with its ID.
            state.NewTasks.Remove(task);
            task.Status = "leased";
            task.LeaseOwner = owner;
            task.LeaseExpiresAt = state.Now + options.Value.LeaseDuration;
            task.StartedAt = state.Now;
            db.Tasks.Add(task);
            state.MarkStarted(task.StepId, task.Attempt);
            Settle(state);
            return (task, activity);
        }

        return null;
    }


    [LoggerMessage(Level = LogLevel.Error, Message = "Activity {Activity} threw in run {RunId}, step {StepId}")]
    private static partial void LogActivityCrash(ILogger logger, Exception exception, string activity, string runId, string stepId);
}
