using Cadre.Analytics;
using Cadre.Auth;
using Cadre.Common;
using Cadre.Server.Auth;
using Cadre.Server.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace Cadre.Server.Analytics;

/// <summary>Where money and time go: analytics of a workflow, a persona and the workspace, and what a workflow is connected to.</summary>
internal static class AnalyticsEndpoints
{
    private const string QueryDescription =
        "days (1–366, default 30) counts local days up to and including today; granularity is daily (default), weekly (ISO weeks from Monday) " +
        "or monthly, the first and last period clipped to the window; timeZone (an IANA name) overrides the workspace's settings.timeZone (default UTC). " +
        "Every period is present, empty ones as zeros. A run counts when it comes to rest (succeeded, failed, compensated or halted) in the period it rested in; " +
        "a run resumed or retried is taken back and counted again when it rests anew. Cost and tokens count when each model call was made, at the price in force then. " +
        "Durations run from a run's start to its rest; p50 and p95 are within 1 %. Figures are exact at every instant (rollups plus the facts not yet folded into them).";

    public static IEndpointRouteBuilder MapAnalytics(this IEndpointRouteBuilder app)
    {
        var workspace = app.MapGroup("/api/v1/workspaces/{workspace}").WithTags("Analytics");

        workspace.MapGet("/analytics", ForWorkspace)
            .WithName("GetWorkspaceAnalytics").WithSummary("The workspace's runs, cost, tokens and approvals over time, by model, persona and workflow, with its top workflows")
            .WithDescription(QueryDescription + " top lists the five workflows that cost most, failed most and ran longest (total run time) in the window.")
            .RequireWorkspaceRole(WorkspaceRole.Viewer).WithQueryErrors();

        workspace.MapGet("/workflows/{workflow}/analytics", ForWorkflow)
            .WithName("GetWorkflowAnalytics").WithSummary("A workflow's runs, success rate, durations, cost, tokens and approvals over time, by model, persona, persona version and step")
            .WithDescription(QueryDescription)
            .RequireWorkspaceRole(WorkspaceRole.Viewer).WithQueryErrors();

        workspace.MapGet("/personas/{persona}/analytics", ForPersona)
            .WithName("GetPersonaAnalytics").WithSummary("A persona's runs, success rate, durations, cost and tokens over time, by model, workflow and version")
            .WithDescription(QueryDescription + " A persona's runs are the runs in which it made a model call; its cost is its own calls'.")
            .RequireWorkspaceRole(WorkspaceRole.Viewer).WithQueryErrors();

        workspace.MapGet("/workflows/{workflow}/related", Related)
            .WithName("GetWorkflowRelated").WithSummary("What a workflow is connected to: personas by version, skills, event types, child and parent workflows, recent runs and persona version changes")
            .WithDescription("personas lists those the definition names and those its runs used, each version with its runs, success rate, cost and the quarter hours it was first and last seen. " +
                "versionChanges lists, newest first, the runs (among the newest 200) that used another version of a persona than the run before, with how both versions did, " +
                "so an edit that changed the results can be found.")
            .RequireWorkspaceRole(WorkspaceRole.Viewer);
        return app;
    }

    private static async Task<Results<Ok<AnalyticsResponse>, ProblemHttpResult>> ForWorkspace(
        [AsParameters] AnalyticsParameters query, WorkspaceAccess access, AnalyticsService analytics, CancellationToken cancellationToken) =>
        Answer(await analytics.ForWorkspaceAsync(access.Workspace, query.ToQuery(), cancellationToken));

    private static async Task<Results<Ok<AnalyticsResponse>, ProblemHttpResult>> ForWorkflow(
        string workflow, [AsParameters] AnalyticsParameters query, WorkspaceAccess access, AnalyticsService analytics, CancellationToken cancellationToken) =>
        Answer(await analytics.ForWorkflowAsync(access.Workspace.Id, workflow, query.ToQuery(), cancellationToken));

    private static async Task<Results<Ok<AnalyticsResponse>, ProblemHttpResult>> ForPersona(
        string persona, [AsParameters] AnalyticsParameters query, WorkspaceAccess access, AnalyticsService analytics, CancellationToken cancellationToken) =>
        Answer(await analytics.ForPersonaAsync(access.Workspace.Id, persona, query.ToQuery(), cancellationToken));

    private static async Task<Results<Ok<RelatedResponse>, ProblemHttpResult>> Related(
        string workflow, WorkspaceAccess access, RelatedService related, CancellationToken cancellationToken)
    {
        var result = await related.ForWorkflowAsync(access.Workspace.Id, workflow, cancellationToken);
        return result.Value is { } answer ? TypedResults.Ok(answer) : Problems.From(result.Error!);
    }

    private static Results<Ok<AnalyticsResponse>, ProblemHttpResult> Answer(ServiceResult<AnalyticsResponse> result) =>
        result.Value is { } answer ? TypedResults.Ok(answer)
        : result.Error!.Kind == ServiceErrorKind.Validation ? Problems.BadQuery(result.Error.Errors!)
        : Problems.From(result.Error);

    /// <summary>The query every analytics endpoint takes.</summary>
    internal sealed record AnalyticsParameters(
        [property: FromQuery(Name = "days")] int? Days,
        [property: FromQuery(Name = "granularity")] string? Granularity,
        [property: FromQuery(Name = "timeZone")] string? TimeZone)
    {
        public AnalyticsQuery ToQuery() => new(Days, Granularity, TimeZone);
    }
}
