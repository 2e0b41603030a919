using Cadre.Auth;
using Cadre.Common;
using Cadre.Runs;
using Cadre.Server.Auth;
using Cadre.Server.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace Cadre.Server.Runs;

/// <summary>The filters of a run list.</summary>
/// <param name="Workflow">Only runs of this workflow (ID or name).</param>
/// <param name="Status">One or more statuses, comma-separated.</param>
/// <param name="Trigger"><c>manual</c>, <c>event</c>, <c>webhook</c>, <c>schedule</c>, <c>rerun</c> or <c>child</c>.</param>
/// <param name="CreatedAfter">Only runs created at or after this time.</param>
/// <param name="CreatedBefore">Only runs created before this time.</param>
public sealed record RunListQuery(
    [FromQuery(Name = "workflow")] string? Workflow,
    [FromQuery(Name = "status")] string? Status,
    [FromQuery(Name = "trigger")] string? Trigger,
    [FromQuery(Name = "createdAfter")] DateTimeOffset? CreatedAfter,
    [FromQuery(Name = "createdBefore")] DateTimeOffset? CreatedBefore)
{
    internal RunQuery ToQuery(string? workflow = null) => new(workflow ?? Workflow, Status, Trigger, CreatedAfter, CreatedBefore);
}

internal static class RunEndpoints
{
    /// <summary>The longest <c>?wait=</c> a start may ask for.</summary>
    public static readonly TimeSpan MaxWait = TimeSpan.FromMinutes(5);

    public static IEndpointRouteBuilder MapRuns(this IEndpointRouteBuilder app)
    {
        var workflows = app.MapGroup("/api/v1/workspaces/{workspace}/workflows/{workflow}/runs").WithTags("Runs");
        workflows.MapPost("/", Start)
            .WithName("StartRun").WithSummary("Start a run of the workflow's current version")
            .WithDescription("Answers 201 with the run at once, or with wait=30s (at most 5m) when it has ended, halted or the wait ran out. " +
                "An Idempotency-Key makes the start safe to retry, even across a restart: the same key answers the run it made.")
            .RequireWorkspaceRole(WorkspaceRole.Operator).WithIdempotency().WithJsonBodyErrors();
        workflows.MapGet("/", ListOfWorkflow)
            .WithName("ListWorkflowRuns").WithSummary("List a workflow's runs, newest first")
            .RequireWorkspaceRole(WorkspaceRole.Viewer).WithQueryErrors();

        var runs = app.MapGroup("/api/v1/workspaces/{workspace}/runs").WithTags("Runs");
        runs.MapGet("/", List)
            .WithName("ListRuns").WithSummary("List and filter runs, newest first")
            .RequireWorkspaceRole(WorkspaceRole.Viewer).WithQueryErrors();
        runs.MapGet("/{run}", Get)
            .WithName("GetRun").WithSummary("A run: status, input, output, error, pinned version, each step's state")
            .RequireWorkspaceRole(WorkspaceRole.Viewer);
        runs.MapGet("/{run}/tasks", ListTasks)
            .WithName("ListRunTasks").WithSummary("Every attempt of the run, oldest first, with timing, worker, error and idempotency key")
            .RequireWorkspaceRole(WorkspaceRole.Viewer).WithQueryErrors();
        runs.MapGet("/{run}/events", ListEvents)
            .WithName("ListRunEvents").WithSummary("The run's history, oldest first")
            .WithDescription("after=<event id> reads only later events; type=step,status filters by type.")
            .RequireWorkspaceRole(WorkspaceRole.Viewer).WithQueryErrors();
        runs.MapPost("/{run}/messages", SendMessage)
            .WithName("SendRunMessage").WithSummary("Send a session run a further prompt (or end: true to end the session)")
            .WithDescription("Answers 201 at once with the message; the agent answers on the workers, streamed like any step. " +
                "While the agent is still answering, ifBusy (default: the step's ifBusy, else queue) queues the prompt, refuses it (409) or interrupts the answer.")
            .RequireWorkspaceRole(WorkspaceRole.Operator).WithJsonBodyErrors().ProducesProblem(StatusCodes.Status409Conflict);
        runs.MapGet("/{run}/messages", ListMessages)
            .WithName("ListRunMessages").WithSummary("The run's conversation: prompts and the agents' answers, oldest first")
            .RequireWorkspaceRole(WorkspaceRole.Viewer);
        runs.MapPost("/{run}/halt", Halt)
            .WithName("HaltRun").WithSummary("Stop a run: in-flight steps are cancelled, nothing new starts; timers keep counting")
            .RequireWorkspaceRole(WorkspaceRole.Operator).ProducesProblem(StatusCodes.Status409Conflict);
        runs.MapPost("/{run}/resume", Resume)
            .WithName("ResumeRun").WithSummary("Carry on a halted run where it stopped")
            .RequireWorkspaceRole(WorkspaceRole.Operator).ProducesProblem(StatusCodes.Status409Conflict);
        runs.MapPost("/{run}/retry", Retry)
            .WithName("RetryRun").WithSummary("Run a failed run's failed steps (and what depends on them) again, keeping earlier outputs")
            .RequireWorkspaceRole(WorkspaceRole.Operator).ProducesProblem(StatusCodes.Status409Conflict);
        runs.MapPost("/{run}/rerun", Rerun)
            .WithName("RerunRun").WithSummary("Start a fresh run of the workflow's current version with the same input")
            .RequireWorkspaceRole(WorkspaceRole.Operator).WithIdempotency();
        runs.MapGet("/{run}/stream", RunStreams.StreamRun)
            .WithName("StreamRun").WithSummary("The run's events live, as server-sent events")
            .WithDescription("Replays what Last-Event-ID (or ?after=) has not seen, then follows live; ends after the run's final status. " +
                "A client more than 1024 events behind is disconnected and resumes from its last id.")
            .Produces(StatusCodes.Status200OK, contentType: "text/event-stream")
            .RequireWorkspaceRole(WorkspaceRole.Viewer).WithQueryErrors();
        app.MapGet("/api/v1/workspaces/{workspace}/stream", RunStreams.StreamWorkspace)
            .WithTags("Runs").WithName("StreamWorkspaceRuns").WithSummary("Events of all the workspace's runs live, as server-sent events")
            .WithDescription("Filter with workflow=<id or name>, run=<id> and type=step,status. Resumes with Last-Event-ID.")
            .Produces(StatusCodes.Status200OK, contentType: "text/event-stream")
            .RequireWorkspaceRole(WorkspaceRole.Viewer).WithQueryErrors();
        return app;
    }

    private static async Task<Results<Created<RunResponse>, Ok<RunResponse>, ProblemHttpResult>> Start(
        string workflow, StartRunRequest? request, [FromQuery(Name = "wait")] string? wait, WorkspaceAccess access, RunService runs, HttpContext http, CancellationToken cancellationToken)
    {
        TimeSpan? waitFor = null;
        if (wait is not null)
        {
            if (!Durations.TryParse(wait, out var parsed) || parsed <= TimeSpan.Zero || parsed > MaxWait)
            {
                return Problems.BadQuery(new Dictionary<string, string[]> { ["wait"] = ["Must be a duration from 1ms to 5m, such as 30s."] });
            }

            waitFor = parsed;
        }

        var key = http.Request.Headers[IdempotencyMiddleware.HeaderName].ToString() is { Length: > 0 } header ? header : null;
        var result = await runs.StartAsync(access.Workspace.Id, workflow, request ?? new StartRunRequest(), access.Caller, key, "manual", cancellationToken);
        if (result.Value is not { } started)
        {
            return Problems.From(result.Error!);
        }

        var run = started.Run;
        if (waitFor is { } timeout && !RunFinished(run.Status))
        {
            run = await runs.WaitAsync(run.Id, timeout, cancellationToken) ?? run;
        }

        if (started.Existing)
        {
            http.Response.Headers[IdempotencyMiddleware.ReplayedHeader] = "true";
            return TypedResults.Ok(run);
        }

        return TypedResults.Created($"/api/v1/workspaces/{access.Workspace.Name}/runs/{run.Id}", run);
    }

    private static bool RunFinished(string status) => status is "succeeded" or "failed" or "compensated" or "halted";

    private static Task<Results<Ok<PagedResponse<RunSummary>>, ProblemHttpResult>> ListOfWorkflow(
        string workflow, [AsParameters] PageQuery page, [AsParameters] RunListQuery query, WorkspaceAccess access, RunService runs, HttpRequest request, CancellationToken cancellationToken) =>
        Paging.PageAsync(page, request, p => runs.ListAsync(access.Workspace.Id, query.ToQuery(workflow), p, cancellationToken));

    private static async Task<Results<Ok<PagedResponse<RunSummary>>, ProblemHttpResult>> List(
        [AsParameters] PageQuery page, [AsParameters] RunListQuery query, WorkspaceAccess access, RunService runs, HttpRequest request, CancellationToken cancellationToken)
    {
        var result = await Paging.PageAsync(page, request, p => runs.ListAsync(access.Workspace.Id, query.ToQuery(), p, cancellationToken));
        // An unknown workflow in a filter is a bad filter value here (the path named none).
        return result.Result is ProblemHttpResult { StatusCode: StatusCodes.Status404NotFound }
            ? Problems.BadQuery(new Dictionary<string, string[]> { ["workflow"] = [$"No workflow '{query.Workflow}' in this workspace."] })
            : result;
    }

    private static async Task<Results<Ok<RunResponse>, ProblemHttpResult>> Get(
        string run, WorkspaceAccess access, RunService runs, ConversationService sessions, CancellationToken cancellationToken)
    {
        if (await runs.GetAsync(access.Workspace.Id, run, cancellationToken) is not { } found)
        {
            return Problems.NotFound($"Run '{run}' not found.");
        }

        return TypedResults.Ok(found with
        {
            Messages = await sessions.MessagesAsync(found.Id, cancellationToken),
            Logs = await sessions.LogsAsync(found.Id, LogLinesShown, cancellationToken),
        });
    }

    private const int LogLinesShown = 100;

    private static async Task<Results<Created<RunMessage>, ProblemHttpResult>> SendMessage(
        string run, SendMessageRequest? request, WorkspaceAccess access, ConversationService sessions, CancellationToken cancellationToken)
    {
        var result = await sessions.SendAsync(access.Workspace.Id, run, request ?? new SendMessageRequest(), access.Caller, cancellationToken);
        return result.Value is { } message
            ? TypedResults.Created($"/api/v1/workspaces/{access.Workspace.Name}/runs/{run}/messages", message)
            : Problems.From(result.Error!);
    }

    private static async Task<Results<Ok<IReadOnlyList<RunMessage>>, ProblemHttpResult>> ListMessages(
        string run, WorkspaceAccess access, RunService runs, ConversationService sessions, CancellationToken cancellationToken) =>
        await runs.StatusAsync(access.Workspace.Id, run, cancellationToken) is null
            ? Problems.NotFound($"Run '{run}' not found.")
            : TypedResults.Ok(await sessions.MessagesAsync(run, cancellationToken));

    private static Task<Results<Ok<PagedResponse<RunTaskResponse>>, ProblemHttpResult>> ListTasks(
        string run, [AsParameters] PageQuery page, WorkspaceAccess access, RunService runs, HttpRequest request, CancellationToken cancellationToken) =>
        Paging.PageAsync(page, request, p => runs.ListTasksAsync(access.Workspace.Id, run, p, cancellationToken));

    private static Task<Results<Ok<PagedResponse<RunEventResponse>>, ProblemHttpResult>> ListEvents(
        string run, [AsParameters] PageQuery page, [FromQuery(Name = "after")] long? after, [FromQuery(Name = "type")] string? type,
        WorkspaceAccess access, RunService runs, HttpRequest request, CancellationToken cancellationToken) =>
        Paging.PageAsync(page, request, p => runs.ListEventsAsync(access.Workspace.Id, run, after, RunStreams.Types(type), p, cancellationToken));

    private static async Task<Results<Ok<RunResponse>, ProblemHttpResult>> Halt(string run, WorkspaceAccess access, RunService runs, CancellationToken cancellationToken) =>
        Answer(await runs.HaltAsync(access.Workspace.Id, run, access.Caller, cancellationToken));

    private static async Task<Results<Ok<RunResponse>, ProblemHttpResult>> Resume(string run, WorkspaceAccess access, RunService runs, CancellationToken cancellationToken) =>
        Answer(await runs.ResumeAsync(access.Workspace.Id, run, access.Caller, cancellationToken));

    private static async Task<Results<Ok<RunResponse>, ProblemHttpResult>> Retry(string run, WorkspaceAccess access, RunService runs, CancellationToken cancellationToken) =>
        Answer(await runs.RetryAsync(access.Workspace.Id, run, access.Caller, cancellationToken));

    private static async Task<Results<Created<RunResponse>, ProblemHttpResult>> Rerun(
        string run, WorkspaceAccess access, RunService runs, CancellationToken cancellationToken)
    {
        var result = await runs.RerunAsync(access.Workspace.Id, run, access.Caller, null, cancellationToken);
        return result.Value is { } started
            ? TypedResults.Created($"/api/v1/workspaces/{access.Workspace.Name}/runs/{started.Run.Id}", started.Run)
            : Problems.From(result.Error!);
    }

    private static Results<Ok<RunResponse>, ProblemHttpResult> Answer(ServiceResult<RunResponse> result) =>
        result.Value is { } run ? TypedResults.Ok(run) : Problems.From(result.Error!);
}
