using System.Globalization;
using System.Text.Json.Nodes;
using Cadre.Auth;
using Cadre.Common;
using Cadre.Storage;
using Cadre.Workflows;
using Microsoft.EntityFrameworkCore;

namespace Cadre.Runs;

/// <summary>
/// Runs as the API sees them: start (with concurrency limits and a durable idempotency key), read,
/// list, their attempts and history, and the controls (halt, resume, retry from failed, rerun).
/// </summary>
internal sealed class RunService(
    CadreDbContext db,
    StorageProvider storage,
    RunEngine engine,
    RunNotifier notifier,
    AnnotationService annotations,
    IdGenerator ids,
    TimeProvider time,
    RunWorker worker,
    Files.FileService files,
    Observability.CadreMetrics metrics)
{
    public const int MaxPromptLength = 100_000;
    public const int MaxAttachments = 100;
    public const int MaxReferenceImages = 20;

    /// <summary>Statuses that hold a concurrency slot.</summary>
    private static readonly string[] SlotHolding = RunEngine.SlotHolding;

    /// <summary>Run keys the triggers make (<c>event:{id}</c>, <c>hook:{delivery}</c>, <c>schedule:{tick}</c>): a caller's Idempotency-Key may not take one.</summary>
    public static IReadOnlyList<string> TriggerKeyPrefixes { get; } = ["event:", "hook:", "schedule:"];

    /// <summary>
    /// Starts a run of the workflow's current version. A start with an Idempotency-Key that already
    /// made a run answers that run (<c>Existing</c>), even after a crash lost the first response.
    /// </summary>
    public async Task<ServiceResult<StartedRun>> StartAsync(
        string workspaceId, string workflowRef, StartRunRequest request, Caller caller, string? idempotencyKey, string trigger, CancellationToken cancellationToken,
        JsonObject? triggerDetails = null, JsonObject? contextExtras = null)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(caller);
        if (Check(request) is { IsEmpty: false } errors)
        {
            return ServiceError.Validation(errors);
        }

        if (trigger is "manual" or "rerun" && idempotencyKey is not null && TriggerKeyPrefixes.FirstOrDefault(p => idempotencyKey.StartsWith(p, StringComparison.Ordinal)) is { } taken)
        {
            return ServiceError.Validation("Idempotency-Key", $"Keys starting with '{taken}' belong to Cadre's triggers; choose another key.");
        }

        var workflow = await db.Workflows.AsNoTracking()
            .FirstOrDefaultAsync(w => w.WorkspaceId == workspaceId && w.DeletedAt == null && (w.Id == workflowRef || w.Name == workflowRef), cancellationToken);
        if (workflow is null)
        {
            return ServiceError.NotFound($"Workflow '{workflowRef}' not found.");
        }

        if (idempotencyKey is not null && await ExistingAsync(workflow.Id, idempotencyKey, cancellationToken) is { } earlier)
        {
            return new StartedRun(earlier, Existing: true);
        }

        var fileErrors = new ValidationErrors();
        var fileRefs = await files.ResolveForRunAsync(workspaceId, request.Attachments, request.ReferenceImageIds, fileErrors, cancellationToken);
        if (!fileErrors.IsEmpty)
        {
            return ServiceError.Validation(fileErrors);
        }

        var compiled = await engine.CompiledAsync(workflow.Id, workflow.Version, cancellationToken);
        var values = RunEngine.WorkflowValues(workflow.Id, compiled.Spec, workflow.Version);
        var context = Context(request, fileRefs, compiled.Spec, trigger, caller.ActorId, triggerDetails, contextExtras);
        ActivityError? annotationError = null;
        if (compiled.Spec.Annotations is { Count: > 0 })
        {
            var annotated = await annotations.AnnotateAsync(workspaceId, compiled.Spec, context, values, cancellationToken);
            if (annotated.Error is { } failed)
            {
                var detail = failed.Errors is { Count: > 0 } fields ? string.Join(" ", fields.Select(f => $"{f.Key}: {string.Join(" ", f.Value)}")) : failed.Detail;
                annotationError = new ActivityError("annotation_failed", $"The run's annotations could not be fetched. {detail}", Retryable: false);
            }
        }

        var policy = compiled.Spec.Defaults?.Concurrency;
        // The run's trace: this span (under the request's, if any) is the parent of every span of the run, on any node.
        using var creation = Observability.CadreTelemetry.StartRunCreation(workspaceId, workflow.Id, workflow.Name, trigger);
        var traceParent = Observability.CadreTelemetry.TraceParentFor(creation);
        for (var attempt = 1; ; attempt++)
        {
            // A free worker slot here lets the start commit also lease and start the run's first step (see TryReserveSlot).
            using var slot = annotationError is null ? worker.TryReserveSlot() : null;
            db.ChangeTracker.Clear();
            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            // Taking the number locks the workflow's counter row, so concurrent starts of one workflow count slots one at a time.
            var number = await StorageProvider.NextRunNumberAsync(db, workflow.Id, cancellationToken);
            var admit = true;
            string? cancelOldest = null;
            if (annotationError is null && await SlotsFullAsync(workspaceId, workflow.Id, policy, cancellationToken) is { } full)
            {
                switch (full.WhenFull)
                {
                    case "reject":
                        return ServiceError.Conflict(full.Reason, new Dictionary<string, object?> { ["limit"] = full.Limit, ["active"] = full.Active });
                    case "cancel-oldest" when full.OldestRunId is not null:
                        cancelOldest = full.OldestRunId;
                        break;
                    default:
                        admit = false;
                        break;
                }
            }

            var now = time.GetUtcNowTruncated();
            var run = new Run
            {
                Id = ids.NewId(Run.IdPrefix),
                WorkspaceId = workspaceId,
                WorkflowId = workflow.Id,
                WorkflowVersion = workflow.Version,
                Number = number,
                DisplayId = $"{workflow.Name.ToUpperInvariant()}-{number.ToString(CultureInfo.InvariantCulture)}",
                Status = "queued",
                TriggerType = trigger,
                StartedBy = caller.ActorId,
                Input = (request.Input ?? new JsonObject()).ToJsonString(),
                Context = context.ToJsonString(),
                Links = "{}",
                IdempotencyKey = idempotencyKey,
                ParentRunId = (string?)triggerDetails?["parentRunId"],
                ParentStepId = (string?)triggerDetails?["parentStepId"],
                EventId = (string?)triggerDetails?["eventId"],
                TraceParent = traceParent,
                CreatedAt = now,
                UpdatedAt = now,
            };
            var steps = compiled.Steps.Keys.Select(id => new RunStep { RunId = run.Id, StepId = id, Status = "pending", Iteration = 1 }).ToList();
            db.Runs.Add(run);
            if (!await files.ReferenceAsync(run.Id, fileRefs.FileIds, now, cancellationToken))
            {
                // Deleted or expired since it was checked (the mark waited for this transaction's row lock, or took it first).
                await transaction.RollbackAsync(cancellationToken);
                return ServiceError.Validation(new ValidationErrors().Add(
                    request.ReferenceImageIds is { Count: > 0 } ? "referenceImageIds" : "attachments", "A file the run names was deleted at this moment. Upload it again."));
            }

            var state = new RunState(run, steps, compiled, values, now);
            await engine.AttachSecretsAsync(state, known: null, cancellationToken);
            state.NewSteps.AddRange(steps);
            state.Emit("status", new JsonObject { ["status"] = "queued", ["trigger"] = trigger, ["by"] = caller.ActorId });
            if (annotationError is not null)
            {
                run.Error = annotationError.ToJson().ToJsonString();
                RunEngine.Cancel(state, annotationError.Type, annotationError.Message);
            }
            else if (admit)
            {
                await engine.AdmitAsync(state, cancellationToken);
            }

            var handedOver = slot is null ? null : engine.TakeNext(state, slot.Owner);

            try
            {
                await engine.SaveAsync(state, cancellationToken);
                await transaction.CommitAsync(cancellationToken);
            }
            catch (DbUpdateException ex) when (storage.IsUniqueViolation(ex) && attempt < 3)
            {
                // The same Idempotency-Key raced in from another request: answer the run it made.
                await transaction.RollbackAsync(cancellationToken);
                if (idempotencyKey is not null && await ExistingAsync(workflow.Id, idempotencyKey, cancellationToken) is { } raced)
                {
                    return new StartedRun(raced, Existing: true);
                }

                continue;
            }

            creation?.SetTag(Observability.CadreTelemetry.RunIdTag, run.Id);
            metrics.RunStarted(trigger);
            engine.Announce(state);
            if (handedOver is { } first)
            {
                worker.RunHandedOver(slot!, first.Task, RecentRunStates.Copy(state), first.Activity);
            }

            if (cancelOldest is not null)
            {
                await engine.CommitAsync(cancelOldest, s =>
                {
                    if (s.IsTerminal)
                    {
                        return Task.FromResult(false);
                    }

                    RunEngine.Cancel(s, "cancelled", $"Cancelled to make room for run {run.DisplayId} (concurrency policy cancel-oldest).");
                    return Task.FromResult(true);
                }, cancellationToken);
            }

            // Answered from what was just committed, without reading it back.
            return new StartedRun(Response(run, state.Steps, compiled, workflow.Name), Existing: false);
        }
    }

    /// <summary>Waits until the run ends (or halts) or <paramref name="timeout"/> passes, then answers it as it is.</summary>
    public async Task<RunResponse?> WaitAsync(string runId, TimeSpan timeout, CancellationToken cancellationToken)
    {
        await notifier.WaitForFinishAsync(
            runId,
            async () => await db.Runs.AsNoTracking().Where(r => r.Id == runId).Select(r => r.Status).FirstOrDefaultAsync(cancellationToken) is "succeeded" or "failed" or "compensated" or "halted" or null,
            timeout,
            cancellationToken);
        return await ResponseAsync(runId, cancellationToken);
    }

    public Task<RunResponse?> GetAsync(string workspaceId, string runId, CancellationToken cancellationToken) =>
        engine.DescribeAsync(runId, workspaceId, cancellationToken);

    public async Task<ServiceResult<Page<RunSummary>>> ListAsync(string workspaceId, RunQuery filter, PageRequest page, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(filter);
        var errors = new ValidationErrors();
        var query = db.Runs.AsNoTracking().Where(r => r.WorkspaceId == workspaceId);
        if (filter.Workflow is { } workflowRef)
        {
            var workflowId = await db.Workflows.Where(w => w.WorkspaceId == workspaceId && (w.Id == workflowRef || w.Name == workflowRef && w.DeletedAt == null))
                .Select(w => w.Id).FirstOrDefaultAsync(cancellationToken);
            if (workflowId is null)
            {
                return ServiceError.NotFound($"Workflow '{workflowRef}' not found.");
            }

            query = query.Where(r => r.WorkflowId == workflowId);
        }

        if (filter.Status is { } status)
        {
            var statuses = status.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
            if (statuses.Length == 0 || statuses.Any(s => s is not ("queued" or "running" or "waiting" or "succeeded" or "failed" or "halted" or "compensating" or "compensated")))
            {
                errors.Add("status", "Must be one or more (comma-separated) of queued, running, waiting, succeeded, failed, halted, compensating, compensated.");
            }

            query = query.Where(r => statuses.Contains(r.Status));
        }

        if (filter.Trigger is { } trigger)
        {
            if (trigger is not ("manual" or "event" or "webhook" or "schedule" or "rerun" or "child"))
            {
                errors.Add("trigger", "Must be manual, event, webhook, schedule, rerun or child.");
            }

            query = query.Where(r => r.TriggerType == trigger);
        }

        if (filter.CreatedAfter is { } after)
        {
            var from = after.ToStorageTime();
            query = query.Where(r => r.CreatedAt >= from);
        }

        if (filter.CreatedBefore is { } before)
        {
            var to = before.ToStorageTime();
            query = query.Where(r => r.CreatedAt < to);
        }

        if (!errors.IsEmpty)
        {
            return ServiceError.Validation(errors);
        }

        var runs = await query.ToPageAsync(r => r.Id, page, cancellationToken);
        return runs.Map(Summary);
    }

    public async Task<ServiceResult<Page<RunTaskResponse>>> ListTasksAsync(string workspaceId, string runId, PageRequest page, CancellationToken cancellationToken)
    {
        if (!await InWorkspaceAsync(workspaceId, runId, cancellationToken))
        {
            return ServiceError.NotFound($"Run '{runId}' not found.");
        }

        var tasks = db.Tasks.AsNoTracking().Where(t => t.RunId == runId);
        return await tasks.ToAscendingPageAsync(t => t.Id, page, TaskResponse, cancellationToken);
    }

    public async Task<ServiceResult<Page<RunEventResponse>>> ListEventsAsync(
        string workspaceId, string runId, long? after, IReadOnlyList<string>? types, PageRequest page, CancellationToken cancellationToken)
    {
        if (!await InWorkspaceAsync(workspaceId, runId, cancellationToken))
        {
            return ServiceError.NotFound($"Run '{runId}' not found.");
        }

        var events = db.RunEvents.AsNoTracking().Where(e => e.RunId == runId);
        if (after is { } afterId)
        {
            events = events.Where(e => e.Id > afterId);
        }

        if (types is { Count: > 0 })
        {
            events = events.Where(e => types.Contains(e.Type));
        }

        return await events.ToAscendingPageAsync(e => e.Id, page, EventResponse, cancellationToken);
    }

    /// <summary>Events after <paramref name="afterId"/> of one run, or of a workspace's runs, oldest first: what a stream replays before going live.</summary>
    public async Task<List<RunEventMessage>> EventsAfterAsync(
        string workspaceId, string? runId, long afterId, int limit, CancellationToken cancellationToken, string? workflowId = null)
    {
        var query = db.RunEvents.AsNoTracking().Where(e => e.WorkspaceId == workspaceId && e.Id > afterId);
        if (runId is not null)
        {
            query = query.Where(e => e.RunId == runId);
        }

        if (workflowId is not null)
        {
            query = query.Where(e => db.Runs.Any(r => r.Id == e.RunId && r.WorkflowId == workflowId));
        }

        var rows = await query.OrderBy(e => e.Id).Take(limit).ToListAsync(cancellationToken);
        return [.. rows.Select(e => new RunEventMessage(e.Id, e.RunId, e.WorkspaceId, e.Type, JsonNode.Parse(e.Data)!.AsObject(), e.CreatedAt))];
    }

    /// <summary>A live workflow's ID by ID or name, or null.</summary>
    public Task<string?> WorkflowIdAsync(string workspaceId, string workflowRef, CancellationToken cancellationToken) =>
        db.Workflows.AsNoTracking().Where(w => w.WorkspaceId == workspaceId && w.DeletedAt == null && (w.Id == workflowRef || w.Name == workflowRef))
            .Select(w => w.Id).FirstOrDefaultAsync(cancellationToken);

    /// <summary>The run's status, or null when it is not in the workspace.</summary>
    public Task<string?> StatusAsync(string workspaceId, string runId, CancellationToken cancellationToken) =>
        db.Runs.AsNoTracking().Where(r => r.Id == runId && r.WorkspaceId == workspaceId).Select(r => r.Status).FirstOrDefaultAsync(cancellationToken);

    public Task<ServiceResult<RunResponse>> HaltAsync(string workspaceId, string runId, Caller caller, CancellationToken cancellationToken) =>
        ControlAsync(workspaceId, runId, state =>
        {
            if (state.IsTerminal || state.Run.HaltRequested)
            {
                return Task.FromResult<ServiceError?>(ServiceError.Conflict($"Run {state.Run.DisplayId} is {state.Run.Status}; only a run in progress can be halted."));
            }

            RunEngine.Halt(state, caller.ActorId);
            return Task.FromResult<ServiceError?>(null);
        }, halted: true, cancellationToken);

    public Task<ServiceResult<RunResponse>> ResumeAsync(string workspaceId, string runId, Caller caller, CancellationToken cancellationToken) =>
        ControlAsync(workspaceId, runId, async state =>
        {
            if (!state.Run.HaltRequested)
            {
                return ServiceError.Conflict($"Run {state.Run.DisplayId} is {state.Run.Status}; only a halted run can be resumed.");
            }

            await engine.ResumeAsync(state, caller.ActorId, cancellationToken);
            return null;
        }, halted: false, cancellationToken);

    public Task<ServiceResult<RunResponse>> RetryAsync(string workspaceId, string runId, Caller caller, CancellationToken cancellationToken) =>
        ControlAsync(workspaceId, runId, async state =>
        {
            if (state.Run.Status != "failed")
            {
                return ServiceError.Conflict($"Run {state.Run.DisplayId} is {state.Run.Status}; only a failed run can be retried from its failed steps.");
            }

            await engine.RetryFailedAsync(state, caller.ActorId, cancellationToken);
            return null;
        }, halted: false, cancellationToken);

    /// <summary>A fresh run of the workflow's current version with the same input, prompt, attachments, config and repository.</summary>
    public async Task<ServiceResult<StartedRun>> RerunAsync(string workspaceId, string runId, Caller caller, string? idempotencyKey, CancellationToken cancellationToken)
    {
        var run = await db.Runs.AsNoTracking().FirstOrDefaultAsync(r => r.Id == runId && r.WorkspaceId == workspaceId, cancellationToken);
        if (run is null)
        {
            return ServiceError.NotFound($"Run '{runId}' not found.");
        }

        var context = JsonNode.Parse(run.Context)!.AsObject();
        var request = new StartRunRequest
        {
            Input = JsonNode.Parse(run.Input),
            Prompt = (string?)context["prompt"],
            Attachments = context["attachments"]?.DeepClone().AsArray(),
            ReferenceImageIds = context["referenceImages"] is JsonArray images ? [.. images.Select(i => (string?)i?["storageId"]).OfType<string>()] : null,
            Config = context["config"]?.DeepClone().AsObject(),
            GithubRepoUrl = (string?)context["repo"]?["url"],
            BranchName = (string?)context["repo"]?["branch"],
        };
        return await StartAsync(workspaceId, run.WorkflowId, request, caller, idempotencyKey, "rerun", cancellationToken, new JsonObject { ["rerunOf"] = run.Id });
    }

    private async Task<ServiceResult<RunResponse>> ControlAsync(
        string workspaceId, string runId, Func<RunState, Task<ServiceError?>> control, bool halted, CancellationToken cancellationToken)
    {
        if (!await InWorkspaceAsync(workspaceId, runId, cancellationToken))
        {
            return ServiceError.NotFound($"Run '{runId}' not found.");
        }

        ServiceError? refused = null;
        await engine.CommitAsync(runId, async state =>
        {
            refused = await control(state);
            return refused is null;
        }, cancellationToken);
        if (refused is not null)
        {
            return refused;
        }

        if (halted)
        {
            notifier.Halted(runId);
        }

        return (await ResponseAsync(runId, cancellationToken))!;
    }

    private async Task<RunResponse?> ExistingAsync(string workflowId, string idempotencyKey, CancellationToken cancellationToken)
    {
        var id = await db.Runs.AsNoTracking().Where(r => r.WorkflowId == workflowId && r.IdempotencyKey == idempotencyKey).Select(r => r.Id).FirstOrDefaultAsync(cancellationToken);
        return id is null ? null : await ResponseAsync(id, cancellationToken);
    }

    private sealed record FullSlots(string WhenFull, string Reason, int Limit, int Active, string? OldestRunId);

    /// <summary>Whether the workflow's or the workspace's limit leaves no slot (or earlier runs already queue for one).</summary>
    private async Task<FullSlots?> SlotsFullAsync(string workspaceId, string workflowId, ConcurrencyPolicy? policy, CancellationToken cancellationToken)
    {
        var whenFull = policy?.WhenFull ?? "queue";
        if (policy?.MaxRuns is > 0 and var max)
        {
            var active = db.Runs.Where(r => r.WorkflowId == workflowId && SlotHolding.Contains(r.Status));
            var count = await active.CountAsync(cancellationToken);
            var waiting = whenFull == "queue" && await db.Runs.AnyAsync(r => r.WorkflowId == workflowId && r.Status == "queued", cancellationToken);
            if (count >= max || waiting)
            {
                var oldest = whenFull == "cancel-oldest" ? await active.OrderBy(r => r.Id).Select(r => r.Id).FirstOrDefaultAsync(cancellationToken) : null;
                return new FullSlots(whenFull, $"The workflow allows {max} run(s) at once and {count} are in progress.", max, count, oldest);
            }
        }

        if (await engine.WorkspaceRunLimitAsync(workspaceId, cancellationToken) is > 0 and var workspaceMax)
        {
            var count = await db.Runs.CountAsync(r => r.WorkspaceId == workspaceId && SlotHolding.Contains(r.Status), cancellationToken);
            var waiting = await db.Runs.AnyAsync(r => r.WorkspaceId == workspaceId && r.Status == "queued", cancellationToken);
            if (count >= workspaceMax || waiting)
            {
                // The workspace limit queues: it is the operator's guard, not the workflow author's policy.
                return new FullSlots("queue", $"The workspace allows {workspaceMax} run(s) at once and {count} are in progress.", workspaceMax, count, null);
            }
        }

        return null;
    }

    private static ValidationErrors Check(StartRunRequest request)
    {
        var errors = new ValidationErrors();
        if (request.Prompt is { Length: > MaxPromptLength })
        {
            errors.Add("prompt", $"Must be at most {MaxPromptLength} characters.");
        }

        if (request.Attachments is { } attachments)
        {
            if (attachments.Count > MaxAttachments)
            {
                errors.Add("attachments", $"At most {MaxAttachments} attachments.");
            }

            for (var i = 0; i < attachments.Count; i++)
            {
                if (attachments[i] is not JsonObject)
                {
                    errors.Add($"attachments[{i}]", "Must be an object, such as {\"name\": \"spec.pdf\", \"url\": \"https://…\"}.");
                }
            }
        }

        if (request.ReferenceImageIds is { Count: > MaxReferenceImages })
        {
            errors.Add("referenceImageIds", $"At most {MaxReferenceImages} reference images.");
        }

        if (request.GithubRepoUrl is { } url && (url.Length > 2048 || !Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("https" or "http")))
        {
            errors.Add("githubRepoUrl", "Must be an absolute http(s) URL.");
        }

        if (request.BranchName is { } branch && (branch.Length is 0 or > 255 || branch.Any(c => char.IsWhiteSpace(c) || char.IsControl(c))))
        {
            errors.Add("branchName", "Must be 1 to 255 characters without spaces.");
        }

        return errors;
    }

    private static JsonObject Context(
        StartRunRequest request, Files.RunFileRefs files, WorkflowSpec spec, string trigger, string startedBy, JsonObject? details, JsonObject? extras)
    {
        var triggerInfo = new JsonObject { ["type"] = trigger, ["startedBy"] = startedBy };
        foreach (var (key, value) in details ?? [])
        {
            triggerInfo[key] = value?.DeepClone();
        }

        var context = new JsonObject
        {
            ["body"] = request.Input?.DeepClone() ?? new JsonObject(),
            ["prompt"] = request.Prompt,
            ["attachments"] = files.Attachments?.DeepClone() ?? new JsonArray(),
            ["referenceImages"] = files.ReferenceImages?.DeepClone() ?? new JsonArray(),
            ["config"] = request.Config?.DeepClone() ?? new JsonObject(),
            ["repo"] = new JsonObject
            {
                ["url"] = request.GithubRepoUrl ?? spec.Repository?.RepoUrl,
                ["branch"] = request.BranchName ?? spec.Repository?.RepoBranch,
            },
            ["trigger"] = triggerInfo,
            ["annotations"] = new JsonObject(),
        };
        // What a trigger adds beside the body: the event (context.event), a webhook's headers and query.
        foreach (var (key, value) in extras ?? [])
        {
            context[key] = value?.DeepClone();
        }

        return context;
    }

    private Task<RunResponse?> ResponseAsync(string runId, CancellationToken cancellationToken) => engine.DescribeAsync(runId, null, cancellationToken);

    private Task<bool> InWorkspaceAsync(string workspaceId, string runId, CancellationToken cancellationToken) =>
        db.Runs.AsNoTracking().AnyAsync(r => r.Id == runId && r.WorkspaceId == workspaceId, cancellationToken);

    internal static RunResponse Response(Run run, Dictionary<string, RunStep> steps, CompiledWorkflow compiled, string workflowName)
    {
        // Steps in the definition's order, which is how people read the workflow.
        var stepResponses = compiled.Spec.Steps!.Select(spec => steps[spec.Id!]).Select(s => new RunStepResponse(
            s.StepId,
            compiled.Steps[s.StepId].Step.Activity!.UniqueIdentifier!,
            s.Status,
            s.Attempts,
            Math.Max(1, s.Iteration),
            RunState.Parse(s.Output),
            RunState.Parse(s.Error)?.AsObject(),
            s.StartedAt,
            s.FinishedAt)).ToList();
        return new RunResponse(
            run.Id,
            run.WorkflowId,
            workflowName,
            run.WorkflowVersion,
            run.Number,
            run.DisplayId,
            run.Status,
            run.HaltRequested,
            Trigger(run),
            RunState.Parse(run.Input),
            JsonNode.Parse(run.Context)!.AsObject(),
            RunState.Parse(run.Output),
            RunState.Parse(run.Error)?.AsObject(),
            JsonNode.Parse(run.Links)!.AsObject(),
            stepResponses,
            RunUsage.Of(run),
            run.CreatedAt,
            run.StartedAt,
            run.FinishedAt,
            run.UpdatedAt,
            run.Version);
    }

    private static RunTrigger Trigger(Run run) => new(run.TriggerType, run.StartedBy, run.ParentRunId, run.ParentStepId);

    private static RunSummary Summary(Run run) => new(
        run.Id, run.WorkflowId, run.WorkflowVersion, run.Number, run.DisplayId, run.Status, Trigger(run),
        RunState.Parse(run.Output), RunState.Parse(run.Error)?.AsObject(), run.ParentRunId, run.CreatedAt, run.StartedAt, run.FinishedAt, run.UpdatedAt)
    {
        Usage = RunUsage.Of(run),
    };

    private static RunTaskResponse TaskResponse(RunTask task) => new(
        task.Id, task.StepId, task.Kind, task.Attempt, task.Status, task.IdempotencyKey, task.AvailableAt, task.StartedAt, task.FinishedAt,
        task.LeaseOwner, RunState.Parse(task.Error)?.AsObject());

    private static RunEventResponse EventResponse(RunEvent e) => new(e.Id, e.RunId, e.Type, JsonNode.Parse(e.Data)!.AsObject(), e.CreatedAt);
}

/// <summary>A started run, and whether the start found an earlier run of the same Idempotency-Key.</summary>
public sealed record StartedRun(RunResponse Run, bool Existing);
