using Cadre.Auth;
using Cadre.Common;
using Cadre.Server.Auth;
using Cadre.Server.Http;
using Cadre.Teams;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace Cadre.Server.Teams;

internal static class TeamEndpoints
{
    public static IEndpointRouteBuilder MapTeams(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/workspaces/{workspace}/teams").WithTags("Teams");

        group.MapGet("/", List)
            .WithName("ListTeams")
            .WithSummary("List the workspace's teams")
            .WithDescription("member=<userId> (or member=me) lists the teams someone belongs to.")
            .RequireWorkspaceRole(WorkspaceRole.Viewer)
            .WithQueryErrors();

        group.MapPost("/", Create)
            .WithName("CreateTeam")
            .WithSummary("Create a team")
            .RequireWorkspaceRole(WorkspaceRole.Admin)
            .WithJsonBodyErrors()
            .ProducesProblem(StatusCodes.Status409Conflict);

        group.MapGet("/{teamId}", Get)
            .WithName("GetTeam")
            .WithSummary("Get a team")
            .RequireWorkspaceRole(WorkspaceRole.Viewer);

        group.MapPatch("/{teamId}", Update)
            .WithName("UpdateTeam")
            .WithSummary("Rename or re-describe a team")
            .WithDescription("Honours If-Match.")
            .RequireWorkspaceRole(WorkspaceRole.Admin)
            .WithJsonBodyErrors()
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status412PreconditionFailed);

        group.MapDelete("/{teamId}", Delete)
            .WithName("DeleteTeam")
            .WithSummary("Delete a team")
            .RequireWorkspaceRole(WorkspaceRole.Admin);

        group.MapGet("/{teamId}/members", ListMembers)
            .WithName("ListTeamMembers")
            .WithSummary("List a team's members")
            .RequireWorkspaceRole(WorkspaceRole.Viewer)
            .WithQueryErrors();

        group.MapPut("/{teamId}/members/{userId}", AddMember)
            .WithName("AddTeamMember")
            .WithSummary("Put a workspace member in the team")
            .WithDescription("Idempotent: putting someone already in the team succeeds and changes nothing.")
            .RequireWorkspaceRole(WorkspaceRole.Admin)
            .ProducesValidationProblem(StatusCodes.Status422UnprocessableEntity);

        group.MapDelete("/{teamId}/members/{userId}", RemoveMember)
            .WithName("RemoveTeamMember")
            .WithSummary("Take someone out of the team")
            .RequireWorkspaceRole(WorkspaceRole.Admin);

        return app;
    }

    private static Task<Results<Ok<PagedResponse<TeamResponse>>, ProblemHttpResult>> List(
        [AsParameters] PageQuery query,
        [FromQuery(Name = "member")] string? member,
        [FromQuery(Name = "search")] string? search,
        WorkspaceAccess access,
        TeamService teams,
        HttpRequest request,
        CancellationToken cancellationToken) =>
        Paging.PageAsync(query, request, page => teams.ListAsync(access.Workspace.Id, new TeamListFilter(member, search), access.Caller, page, cancellationToken));

    private static async Task<Results<Created<TeamResponse>, ProblemHttpResult>> Create(
        CreateTeamRequest request, WorkspaceAccess access, TeamService teams, HttpResponse response, CancellationToken cancellationToken)
    {
        var result = await teams.CreateAsync(access.Workspace.Id, request, access.Caller, cancellationToken);
        if (result.Value is not { } team)
        {
            return Problems.From(result.Error!);
        }

        response.Headers.ETag = ETags.For(team.Version);
        return TypedResults.Created($"/api/v1/workspaces/{access.Workspace.Name}/teams/{team.Id}", team);
    }

    private static async Task<Results<Ok<TeamResponse>, ProblemHttpResult>> Get(
        string teamId, WorkspaceAccess access, TeamService teams, HttpResponse response, CancellationToken cancellationToken)
    {
        if (await teams.GetAsync(access.Workspace.Id, teamId, cancellationToken) is not { } team)
        {
            return Problems.NotFound($"Team '{teamId}' not found.");
        }

        response.Headers.ETag = ETags.For(team.Version);
        return TypedResults.Ok(team);
    }

    private static async Task<Results<Ok<TeamResponse>, ProblemHttpResult>> Update(
        string teamId, UpdateTeamRequest request, WorkspaceAccess access, TeamService teams, HttpContext http, CancellationToken cancellationToken)
    {
        var result = await teams.UpdateAsync(access.Workspace.Id, teamId, request, access.Caller, ETags.IfMatch(http.Request), cancellationToken);
        if (result.Value is not { } team)
        {
            return Problems.From(result.Error!);
        }

        http.Response.Headers.ETag = ETags.For(team.Version);
        return TypedResults.Ok(team);
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> Delete(
        string teamId, WorkspaceAccess access, TeamService teams, CancellationToken cancellationToken)
    {
        var result = await teams.DeleteAsync(access.Workspace.Id, teamId, cancellationToken);
        return result.IsSuccess ? TypedResults.NoContent() : Problems.From(result.Error!);
    }

    private static Task<Results<Ok<PagedResponse<TeamMemberResponse>>, ProblemHttpResult>> ListMembers(
        string teamId, [AsParameters] PageQuery query, WorkspaceAccess access, TeamService teams, HttpRequest request, CancellationToken cancellationToken) =>
        Paging.PageAsync(query, request, page => teams.ListMembersAsync(access.Workspace.Id, teamId, page, cancellationToken));

    private static async Task<Results<Ok<TeamMemberResponse>, ProblemHttpResult>> AddMember(
        string teamId, string userId, WorkspaceAccess access, TeamService teams, CancellationToken cancellationToken)
    {
        var result = await teams.AddMemberAsync(access.Workspace.Id, teamId, userId, access.Caller, cancellationToken);
        return result.Value is { } member ? TypedResults.Ok(member) : Problems.From(result.Error!);
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> RemoveMember(
        string teamId, string userId, WorkspaceAccess access, TeamService teams, CancellationToken cancellationToken)
    {
        var result = await teams.RemoveMemberAsync(access.Workspace.Id, teamId, userId, cancellationToken);
        return result.IsSuccess ? TypedResults.NoContent() : Problems.From(result.Error!);
    }
}
