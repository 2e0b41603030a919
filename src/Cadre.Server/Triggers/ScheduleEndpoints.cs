using Cadre.Auth;
using Cadre.Server.Auth;
using Cadre.Server.Http;
using Cadre.Triggers;
using Cadre.Workflows;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Cadre.Server.Triggers;

/// <summary>A schedule workflow's schedule. Pausing and resuming it are the workflow's deactivate and activate.</summary>
internal static class ScheduleEndpoints
{
    public static IEndpointRouteBuilder MapSchedules(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/workspaces/{workspace}/workflows").WithTags("Workflows");

        group.MapGet("/{workflow}/schedule", Get)
            .WithName("GetWorkflowSchedule").WithSummary("A schedule workflow's schedule: its settings, last and next tick, and the next five fire times")
            .WithDescription("404 for a workflow that is not a schedule workflow. paused is true while the workflow is inactive or in the bin; " +
                "next lists the coming ticks (UTC, in the schedule's time zone, and when each run starts with its jitter) either way.")
            .RequireWorkspaceRole(WorkspaceRole.Viewer);
        return app;
    }

    private static async Task<Results<Ok<ScheduleResponse>, ProblemHttpResult>> Get(
        string workflow, WorkspaceAccess access, WorkflowService workflows, ScheduleService schedules, CancellationToken cancellationToken)
    {
        if (await workflows.GetAsync(access.Workspace.Id, workflow, cancellationToken) is not { } found)
        {
            return Problems.NotFound($"Workflow '{workflow}' not found.");
        }

        var result = await schedules.DescribeAsync(found, cancellationToken);
        return result.Value is { } schedule ? TypedResults.Ok(schedule) : Problems.From(result.Error!);
    }
}
