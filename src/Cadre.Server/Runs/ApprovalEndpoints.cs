using Cadre.Auth;
using Cadre.Runs;
using Cadre.Server.Auth;
using Cadre.Server.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace Cadre.Server.Runs;

/// <summary>The filters of the approval inbox.</summary>
/// <param name="Status"><c>pending</c>, <c>approved</c>, <c>rejected</c>, <c>expired</c> or <c>cancelled</c>.</param>
/// <param name="Approver">A team, user or service-account ID, or <c>me</c> (the caller and their teams).</param>
/// <param name="Run">Only approvals of this run.</param>
public sealed record ApprovalListQuery(
    [FromQuery(Name = "status")] string? Status,
    [FromQuery(Name = "approver")] string? Approver,
    [FromQuery(Name = "run")] string? Run)
{
    internal ApprovalQuery ToQuery() => new(Status, Approver, Run);
}

internal static class ApprovalEndpoints
{
    public static IEndpointRouteBuilder MapApprovals(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/workspaces/{workspace}/approvals").WithTags("Approvals");
        group.MapGet("/", List)
            .WithName("ListApprovals").WithSummary("The approval inbox, newest first")
            .RequireWorkspaceRole(WorkspaceRole.Viewer).WithQueryErrors();
        group.MapGet("/{approval}", Get)
            .WithName("GetApproval").WithSummary("An approval with its approvers and every decision (who, when, comment)")
            .RequireWorkspaceRole(WorkspaceRole.Viewer);
        group.MapPost("/{approval}/decisions", Decide)
            .WithName("DecideApproval").WithSummary("Approve or reject, once per approver")
            .WithDescription("The quorum of approvals approves; any rejection rejects (the step fails with approval_rejected). " +
                "403 if the caller is not an approver, 409 if the approval is settled or the caller already decided.")
            .RequireWorkspaceRole(WorkspaceRole.Operator).WithJsonBodyErrors().ProducesProblem(StatusCodes.Status409Conflict);
        return app;
    }

    private static Task<Results<Ok<PagedResponse<ApprovalResponse>>, ProblemHttpResult>> List(
        [AsParameters] PageQuery page, [AsParameters] ApprovalListQuery query, WorkspaceAccess access, ApprovalService approvals, HttpRequest request, CancellationToken cancellationToken) =>
        Paging.PageAsync(page, request, p => approvals.ListAsync(access.Workspace.Id, query.ToQuery(), access.Caller, p, cancellationToken));

    private static async Task<Results<Ok<ApprovalResponse>, ProblemHttpResult>> Get(string approval, WorkspaceAccess access, ApprovalService approvals, CancellationToken cancellationToken) =>
        await approvals.GetAsync(access.Workspace.Id, approval, cancellationToken) is { } found ? TypedResults.Ok(found) : Problems.NotFound($"Approval '{approval}' not found.");

    private static async Task<Results<Ok<ApprovalResponse>, ProblemHttpResult>> Decide(
        string approval, ApprovalDecisionRequest request, WorkspaceAccess access, ApprovalService approvals, CancellationToken cancellationToken)
    {
        var result = await approvals.DecideAsync(access.Workspace.Id, approval, request, access.Caller, cancellationToken);
        return result.Value is { } decided ? TypedResults.Ok(decided) : Problems.From(result.Error!);
    }
}
