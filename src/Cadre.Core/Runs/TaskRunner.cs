using System.Text.Json.Nodes;
using Cadre.Common;
using Cadre.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Cadre.Runs;

/// <summary>
/// Runs one leased task: checkpoints the attempt as started, runs the activity under its timeout
/// while renewing the lease, then commits the result, the run's new state and the next ready work
/// together. A result only lands while this worker still holds the lease, so an attempt that was
/// taken over after a stall never completes twice.
/// </summary>
internal sealed partial class TaskRunner(
    CadreDbContext db,
    RunEngine engine,
    StorageProvider storage,
    RunNotifier notifier,
    TimeProvider time,
    IOptions<EngineOptions> options,
    Observability.CadreMetrics metrics,
    ILogger<TaskRunner> logger)
{
    // Every log line of an attempt (the engine's and its activity's) says whose it is.
    private static readonly Func<ILogger, string, string, string, int, IDisposable?> AttemptScope =
        LoggerMessage.DefineScope<string, string, string, int>("WorkspaceId:{WorkspaceId} RunId:{RunId} StepId:{StepId} Attempt:{Attempt}");

    private IDisposable? BeginAttemptScope(RunTask task) => AttemptScope(logger, task.WorkspaceId, task.RunId, task.StepId, task.Attempt);

    public async Task RunAsync(RunTask task, string owner, CancellationToken stopping)
    {
        ArgumentNullException.ThrowIfNull(task);
        switch (task.Kind)
        {
            case "timer":
                using (BeginAttemptScope(task))
                {
                    await CommitRetryingAsync(task, async state => await FireTimerAsync(state, task, owner, stopping), stopping);
                }

                break;
            default:
                await RunAttemptAsync(task, owner, stopping);
                break;
        }
    }

    private async Task RunAttemptAsync(RunTask task, string owner, CancellationToken stopping)
    {
        var compensation = task.Kind == "compensation";
        IActivity? activity = null;
        RunState? started;
        using (BeginAttemptScope(task))
        {
            started = await StartAttemptAsync();
        }

        if (started is null || activity is null || started.Steps[task.StepId].Status is not ("running" or "compensating"))
        {
            return;
        }

        await RunStartedAsync(task, owner, started, activity, stopping);

        Task<RunState?> StartAttemptAsync() => CommitRetryingAsync(task, async state =>
        {
            var row = await OwnedAsync(task, owner, stopping);
            if (row is null)
            {
                return false;
            }

            var step = state.Steps[task.StepId];
            var expected = compensation ? step.Status == "compensating" : step.Status is "queued" or "retrying";
            if (!expected || state.IsTerminal && !compensation || state.Run.HaltRequested)
            {
                // Stale (the run moved on, or was halted while this sat in the queue): record and drop.
                Finish(row, "cancelled", state.Now, null);
                if (state.Run.HaltRequested && step.Status is "queued" or "retrying")
                {
                    step.Status = "pending";
                }

                return true;
            }

            var spec = state.Workflow.Steps[task.StepId].Step;
            var activityId = compensation ? spec.Compensation!.Activity!.UniqueIdentifier! : spec.Activity!.UniqueIdentifier!;
            activity = engine.Activity(activityId);
            row.StartedAt = state.Now;
            if (activity is null)
            {
                Finish(row, "failed", state.Now, new ActivityError("unknown_activity", $"No activity '{activityId}' is registered on this node.", Retryable: false));
                engine.FailStep(state, task.StepId, new ActivityError("unknown_activity", $"No activity '{activityId}' is registered on this node.", Retryable: false));
                return true;
            }

            if (compensation)
            {
                state.EmitStep(task.StepId, "compensation_started", new JsonObject { ["attempt"] = task.Attempt });
            }
            else
            {
                state.MarkStarted(task.StepId, task.Attempt);
                RunEngine.Settle(state);
            }

            return true;
        }, stopping, engine.Recall(task.RunId));
    }

    /// <summary>
    /// Runs an attempt already leased to this worker and marked started (by its own start commit, or by
    /// the commit that queued it), then each next step that attempt's commit hands this worker: a
    /// chain of side-effecting steps costs one commit per step, not three.
    /// </summary>
    public async Task RunStartedAsync(RunTask task, string owner, RunState started, IActivity activity, CancellationToken stopping)
    {
        (RunTask Task, RunState State, IActivity Activity)? next = (task, started, activity);
        while (next is { } current && !stopping.IsCancellationRequested)
        {
            next = await ExecuteAsync(current.Task, owner, current.State, current.Activity, stopping);
        }
    }

    /// <summary>Runs a started attempt and commits its result; answers the next step this worker took on in that commit, if any.</summary>
    private async Task<(RunTask Task, RunState State, IActivity Activity)?> ExecuteAsync(
        RunTask task, string owner, RunState started, IActivity activity, CancellationToken stopping)
    {
        using var scope = BeginAttemptScope(task);
        var span = Observability.CadreTelemetry.StartAttempt(started.Run, task.StepId, activity.Name, task.Attempt, task.Iteration, task.Kind);
        var began = time.GetTimestamp();
        // Unless the result is committed, the attempt was given up here (shutdown, a lost lease, a failure).
        var ended = (Outcome: "abandoned", Error: (ActivityError?)null);
        try
        {
            var (next, outcome) = await ExecuteAttemptAsync(task, owner, started, activity, stopping);
            ended = outcome ?? ended;
            return next;
        }
        finally
        {
            Observability.CadreTelemetry.EndAttempt(span, ended.Outcome, ended.Error);
            metrics.StepAttempted(activity.Name, ended.Outcome, time.GetElapsedTime(began));
        }
    }

    /// <summary><see cref="ExecuteAsync"/>'s work; also answers how the attempt ended, once its result is committed.</summary>
    private async Task<((RunTask Task, RunState State, IActivity Activity)? Next, (string Outcome, ActivityError? Error)? Ended)> ExecuteAttemptAsync(
        RunTask task, string owner, RunState started, IActivity activity, CancellationToken stopping)
    {
        var compensation = task.Kind == "compensation";
        using var attempt = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        var timeout = RunEngine.TimeoutFor(started, task.StepId);
        if (timeout is { } limit)
        {
            attempt.CancelAfter(limit);
        }

        var signals = new AttemptSignals();
        using var halt = notifier.OnHalt(task.RunId, () =>
        {
            signals.Halted = true;
            attempt.Cancel();
        });
        var heartbeat = KeepLeaseAsync(task, owner, attempt, signals);
        var template = compensation ? started.Workflow.Steps[task.StepId].CompensationInput! : started.Workflow.Steps[task.StepId].Input;
        var (outcome, log) = await engine.ExecuteActivityAsync(started, task.StepId, activity, template, task.Attempt, attempt.Token);
        await attempt.CancelAsync();
        await heartbeat;
        if (stopping.IsCancellationRequested || signals.Lost)
        {
            // Shutting down, or another worker owns the attempt now: leave the result unrecorded.
            return (null, null);
        }

        if (outcome is FailedOutcome { Error.Type: "cancelled" } && timeout is not null && !signals.Halted)
        {
            outcome = ActivityOutcome.Failure("timeout", $"The step took longer than its timeout of {timeout.Value.TotalSeconds:0.###} s.");
        }

        (RunTask Task, IActivity Activity)? chained = null;
        var committed = await CommitRetryingAsync(task, async state =>
        {
            chained = null;
            var row = await OwnedAsync(task, owner, CancellationToken.None);
            if (row is null)
            {
                return false;
            }

            RunEngine.EmitLog(state, task.StepId, log);
            var step = state.Steps[task.StepId];
            if (signals.Halted && outcome is FailedOutcome)
            {
                // Stopped by the halt, not by its own fault: the step runs again on resume.
                Finish(row, "cancelled", state.Now, null);
                if (step.Status == "running")
                {
                    step.Status = "pending";
                    state.EmitStep(task.StepId, "pending", new JsonObject { ["reason"] = "halted" });
                }

                return true;
            }

            Finish(row, outcome is FailedOutcome ? "failed" : "succeeded", state.Now, (outcome as FailedOutcome)?.Error);
            if (compensation)
            {
                if (step.Status == "compensating")
                {
                    // An undo runs to its end: it cannot wait on people, prompts or a child run.
                    RunEngine.ApplyCompensation(state, task.StepId, task.Attempt, outcome is Suspend suspended
                        ? ActivityOutcome.Failure("cannot_wait", $"A compensation cannot wait ({suspended.Reason}); give it an activity that finishes on its own.", retryable: false)
                        : outcome);
                }

                return true;
            }

            if (step.Status != "running" || step.Attempts != task.Attempt)
            {
                // The run moved on while this ran (it failed elsewhere, or was cancelled): the attempt is recorded, nothing follows from it.
                return true;
            }

            // A local: a retried commit must emit the event again, not reuse the first try's answer.
            var result = outcome is EmitEvent emitted ? await engine.EmitAsync(state, task.StepId, emitted, CancellationToken.None) : outcome;
            if (result is Suspend suspend)
            {
                await engine.SaveCheckpointAsync(state, task.IdempotencyKey, suspend.Checkpoint, CancellationToken.None);
            }

            engine.ApplyOutcome(state, task.StepId, result);
            if (result is Suspend { Reason: "session" } waiting && SessionPrompts.ConsumedUpTo(waiting.Checkpoint) is { } consumed
                && await engine.PromptsAfterAsync(task.RunId, consumed, CancellationToken.None))
            {
                // A prompt came while the turn ran (it found the step busy and queued): answer it now.
                RunEngine.Wake(state, task.StepId, "prompt");
            }
            else if (result is Suspend { ChildRunId: { } childRunId } && await engine.HasEndedAsync(childRunId, CancellationToken.None))
            {
                // The child ended before this commit; its wake-up found the step still running.
                RunEngine.Wake(state, task.StepId, "child");
            }

            if (result is WaitForChild)
            {
                // The child may have ended before this commit; its wake-up would have found the step not yet waiting.
                await engine.ChildEndedAsync(state, task.StepId, CancellationToken.None);
            }

            await engine.AdvanceAsync(state, CancellationToken.None);
            chained = engine.TakeNext(state, owner);
            return true;
        }, CancellationToken.None, started);
        if (committed is null)
        {
            return (null, null);
        }

        var ended = signals.Halted && outcome is FailedOutcome ? ("halted", null) : (Observability.CadreTelemetry.Outcome(outcome), (outcome as FailedOutcome)?.Error);
        return (chained is { } next ? (next.Task, committed, next.Activity) : null, ended);
    }

    /// <summary>
    /// <see cref="RunEngine.CommitAsync"/> on the task's run, tried again while the database fails in
    /// a way a retry may cure (PostgreSQL restarting, pooled connections it broke), for as long as a
    /// lease lasts: a live worker's attempt is not left to lapse, be counted as lost and run again
    /// because the database blinked. Each try is one transaction that first checks the lease, so a
    /// try that committed though its answer was lost makes the next find the task no longer leased
    /// and change nothing.
    /// </summary>
    private async Task<RunState?> CommitRetryingAsync(RunTask task, Func<RunState, Task<bool>> decide, CancellationToken cancellationToken, RunState? known = null)
    {
        var giveUp = time.GetUtcNow() + options.Value.LeaseDuration;
        for (var pause = TimeSpan.FromMilliseconds(50); ; pause = TimeSpan.FromTicks(Math.Min(pause.Ticks * 2, TimeSpan.TicksPerSecond)))
        {
            try
            {
                return await engine.CommitAsync(task.RunId, decide, cancellationToken, known);
            }
            catch (Exception ex) when (storage.IsTransientFailure(ex) && !cancellationToken.IsCancellationRequested && time.GetUtcNow() + pause < giveUp)
            {
                LogCommitRetried(logger, ex, task.Id);
                // The failed try changed the known state's rows in memory: read the run afresh.
                known = null;
                await Task.Delay(pause, time, cancellationToken);
            }
        }
    }

    /// <summary>A sleep ends, or a deadline passes.</summary>
    private async Task<bool> FireTimerAsync(RunState state, RunTask task, string owner, CancellationToken cancellationToken)
    {
        var row = await OwnedAsync(task, owner, cancellationToken);
        if (row is null)
        {
            return false;
        }

        var step = state.Steps[task.StepId];
        row.StartedAt = state.Now;
        if (step.Status != "waiting" || step.Attempts != task.Attempt || Math.Max(1, step.Iteration) != task.Iteration)
        {
            Finish(row, "cancelled", state.Now, null);
            return true;
        }

        Finish(row, "succeeded", state.Now, null);
        switch (state.Workflow.Steps[task.StepId].Step.Activity!.UniqueIdentifier)
        {
            case "approval":
                await engine.ApprovalDeadlineAsync(state, task.StepId, cancellationToken);
                break;
            case "run_workflow":
                await engine.ChildEndedAsync(state, task.StepId, cancellationToken);
                break;
            case "wait_for_event":
                await engine.EventWaitEndedAsync(state, task.StepId, cancellationToken);
                break;
            case "agent":
                await engine.SuspendedStepTimerAsync(state, task.StepId, cancellationToken);
                break;
            default:
                // A sleep: its output was set when it began waiting.
                engine.ApplyOutcome(state, task.StepId, new Succeeded(RunState.Parse(step.Output)));
                break;
        }

        await engine.AdvanceAsync(state, cancellationToken);
        return true;
    }

    /// <summary>The task's row, tracked, if this worker still holds its lease.</summary>
    private async Task<RunTask?> OwnedAsync(RunTask task, string owner, CancellationToken cancellationToken)
    {
        var row = await db.Tasks.FirstOrDefaultAsync(t => t.Id == task.Id, cancellationToken);
        return row is { Status: "leased" } && row.LeaseOwner == owner ? row : null;
    }

    private static void Finish(RunTask row, string status, DateTime now, ActivityError? error)
    {
        row.Status = status;
        row.FinishedAt = now;
        row.StartedAt ??= now;
        row.Error = error?.ToJson().ToJsonString();
    }

    /// <summary>Renews the lease until the attempt ends; a renewal that finds the lease gone stops the attempt.</summary>
    private async Task KeepLeaseAsync(RunTask task, string owner, CancellationTokenSource attempt, AttemptSignals signals)
    {
        var duration = options.Value.LeaseDuration;
        using var timer = new PeriodicTimer(duration / 3, time);
        try
        {
            while (await timer.WaitForNextTickAsync(attempt.Token))
            {
                var until = time.GetUtcNowTruncated() + duration;
                int renewed;
                bool halted;
                try
                {
                    renewed = await db.Tasks.Where(t => t.Id == task.Id && t.Status == "leased" && t.LeaseOwner == owner)
                        .ExecuteUpdateAsync(t => t.SetProperty(x => x.LeaseExpiresAt, until), attempt.Token);
                    // Another node may have halted the run: it says so in the row, and the attempt stops here.
                    halted = await db.Runs.Where(r => r.Id == task.RunId).Select(r => r.HaltRequested).FirstOrDefaultAsync(attempt.Token);
                }
                catch (Exception ex) when (ex is DbUpdateException or InvalidOperationException or System.Data.Common.DbException && !attempt.IsCancellationRequested)
                {
                    // The database is unreachable for now (restarting, say): the attempt carries on and the
                    // next tick renews; should the lease lapse meanwhile, the result is refused at commit.
                    LogHeartbeatFailed(logger, ex, task.Id);
                    continue;
                }

                if (renewed == 0 || halted)
                {
                    signals.Lost = renewed == 0;
                    signals.Halted = halted;
                    await attempt.CancelAsync();
                    return;
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (Exception ex) when (ex is DbUpdateException or InvalidOperationException or System.Data.Common.DbException)
        {
            // A failure as the attempt ended: nothing left to renew.
            LogHeartbeatFailed(logger, ex, task.Id);
        }
    }

    /// <summary>Why an attempt was stopped early, set from the heartbeat and the halt signal.</summary>
    private sealed class AttemptSignals
    {
        public volatile bool Lost;
        public volatile bool Halted;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not commit on task {TaskId}: the database failed; trying again")]
    private static partial void LogCommitRetried(ILogger logger, Exception exception, long taskId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not renew the lease of task {TaskId}")]
    private static partial void LogHeartbeatFailed(ILogger logger, Exception exception, long taskId);
}
