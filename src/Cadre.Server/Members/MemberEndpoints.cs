using Cadre.Auth;
using Cadre.Common;
using Cadre.Members;
using Cadre.Server.Auth;
using Cadre.Server.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace Cadre.Server.Members;

internal static class MemberEndpoints
{
    public static IEndpointRouteBuilder MapMembers(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/workspaces/{workspace}/members").WithTags("Members");

        group.MapGet("/", List)
            .WithName("ListMembers")
            .WithSummary("List the workspace's members")
            .RequireWorkspaceRole(WorkspaceRole.Viewer)
            .WithQueryErrors();

        group.MapPost("/", Add)
            .WithName("AddMember")
            .WithSummary("Add an existing user with a role")
            .WithDescription("The role may not exceed yours. To bring in someone without an account, invite them.")
            .RequireWorkspaceRole(WorkspaceRole.Admin)
            .WithJsonBodyErrors()
            .ProducesProblem(StatusCodes.Status409Conflict);

        group.MapGet("/{userId}", Get)
            .WithName("GetMember")
            .WithSummary("Get a member")
            .RequireWorkspaceRole(WorkspaceRole.Viewer);

        group.MapPatch("/{userId}", Update)
            .WithName("UpdateMember")
            .WithSummary("Change a member's role")
            .WithDescription("Neither the member's current role nor the new one may exceed yours. The last owner cannot be demoted (409).")
            .RequireWorkspaceRole(WorkspaceRole.Admin)
            .WithJsonBodyErrors()
            .ProducesProblem(StatusCodes.Status409Conflict);

        group.MapDelete("/{userId}", Remove)
            .WithName("RemoveMember")
            .WithSummary("Remove a member, or leave the workspace")
            .WithDescription("Admins remove members up to their own role; anyone may remove themselves. The last owner cannot leave (409). " +
                "The person's keys limited to this workspace stop working, and they leave its teams.")
            .RequireWorkspaceRole(WorkspaceRole.Viewer)
            .ProducesProblem(StatusCodes.Status409Conflict);

        app.MapPost("/api/v1/workspaces/{workspace}/transfer-ownership", Transfer)
            .WithTags("Members")
            .WithName("TransferOwnership")
            .WithSummary("Make another member owner")
            .WithDescription("A person handing over ownership becomes admin.")
            .RequireWorkspaceRole(WorkspaceRole.Owner)
            .WithJsonBodyErrors();

        return app;
    }

    private static Task<Results<Ok<PagedResponse<MemberResponse>>, ProblemHttpResult>> List(
        [AsParameters] PageQuery query,
        [FromQuery(Name = "role")] string? role,
        [FromQuery(Name = "team")] string? team,
        [FromQuery(Name = "search")] string? search,
        WorkspaceAccess access,
        MembershipService members,
        HttpRequest request,
        CancellationToken cancellationToken) =>
        Paging.PageAsync(query, request, page => members.ListAsync(access.Workspace.Id, new MemberListFilter(role, team, search), page, cancellationToken));

    private static async Task<Results<Created<MemberResponse>, ProblemHttpResult>> Add(
        AddMemberRequest request, WorkspaceAccess access, MembershipService members, CancellationToken cancellationToken)
    {
        var result = await members.AddAsync(access.Workspace.Id, request, access.Caller, access.Role, cancellationToken);
        return result.Value is { } member
            ? TypedResults.Created($"/api/v1/workspaces/{access.Workspace.Name}/members/{member.User.Id}", member)
            : Problems.From(result.Error!);
    }

    private static async Task<Results<Ok<MemberResponse>, ProblemHttpResult>> Get(
        string userId, WorkspaceAccess access, MembershipService members, CancellationToken cancellationToken) =>
        await members.GetAsync(access.Workspace.Id, userId, cancellationToken) is { } member
            ? TypedResults.Ok(member)
            : Problems.NotFound($"User '{userId}' is not a member of this workspace.");

    private static async Task<Results<Ok<MemberResponse>, ProblemHttpResult>> Update(
        string userId, UpdateMemberRequest request, WorkspaceAccess access, MembershipService members, CancellationToken cancellationToken)
    {
        var result = await members.UpdateRoleAsync(access.Workspace.Id, userId, request, access.Role, cancellationToken);
        return result.Value is { } member ? TypedResults.Ok(member) : Problems.From(result.Error!);
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> Remove(
        string userId, WorkspaceAccess access, MembershipService members, CancellationToken cancellationToken)
    {
        var result = await members.RemoveAsync(access.Workspace.Id, userId, access.Caller, access.Role, cancellationToken);
        return result.IsSuccess ? TypedResults.NoContent() : Problems.From(result.Error!);
    }

    private static async Task<Results<Ok<MemberResponse>, ProblemHttpResult>> Transfer(
        TransferOwnershipRequest request, WorkspaceAccess access, MembershipService members, CancellationToken cancellationToken)
    {
        var result = await members.TransferOwnershipAsync(access.Workspace.Id, request, access.Caller, access.Role, cancellationToken);
        return result.Value is { } member ? TypedResults.Ok(member) : Problems.From(result.Error!);
    }
}
