using System.Security.Claims;
using Cadre.Auth;
using Cadre.Common;
using Cadre.Server.Auth;
using Cadre.Server.Http;
using Cadre.Workspaces;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Cadre.Server.Workspaces;

internal static class WorkspaceEndpoints
{
    public static IEndpointRouteBuilder MapWorkspaces(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/workspaces").WithTags("Workspaces");

        group.MapPost("/", Create)
            .WithName("CreateWorkspace")
            .WithSummary("Create a workspace")
            .RequireInstanceAdmin()
            .WithIdempotency()
            .WithJsonBodyErrors();

        group.MapGet("/", List)
            .WithName("ListWorkspaces")
            .WithSummary("List workspaces")
            .WithDescription("An instance admin sees every workspace; a person the ones they belong to; a service account its own.")
            .RequireAnyKey()
            .WithQueryErrors();

        group.MapGet("/{workspace}", Get)
            .WithName("GetWorkspace")
            .WithSummary("Get a workspace")
            .RequireWorkspaceRole(WorkspaceRole.Viewer);

        group.MapPatch("/{workspace}", Update)
            .WithName("UpdateWorkspace")
            .WithSummary("Change a workspace")
            .WithDescription("Renames, changes the display name or merges settings (RFC 7396). Honours If-Match.")
            .Accepts<UpdateWorkspaceRequest>("application/json", "application/merge-patch+json")
            .RequireWorkspaceRole(WorkspaceRole.Admin)
            .WithJsonBodyErrors()
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status412PreconditionFailed);

        group.MapDelete("/{workspace}", Delete)
            .WithName("DeleteWorkspace")
            .WithSummary("Delete a workspace and everything in it")
            .WithDescription("Irreversible: its keys and every resource in it go too. Honours If-Match.")
            .RequireWorkspaceRole(WorkspaceRole.Owner)
            .ProducesProblem(StatusCodes.Status412PreconditionFailed);

        return app;
    }

    private static async Task<Results<Created<WorkspaceResponse>, ProblemHttpResult>> Create(
        CreateWorkspaceRequest request, WorkspaceService workspaces, HttpContext http, CancellationToken cancellationToken)
    {
        var result = await workspaces.CreateAsync(request, http.User.GetCaller()!, cancellationToken);
        if (result.Value is not { } workspace)
        {
            return Problems.From(result.Error!);
        }

        http.Response.Headers.ETag = ETags.For(workspace.Version);
        return TypedResults.Created($"/api/v1/workspaces/{workspace.Name}", workspace);
    }

    private static Task<Results<Ok<PagedResponse<WorkspaceResponse>>, ProblemHttpResult>> List(
        [AsParameters] PageQuery query, ClaimsPrincipal user, WorkspaceService workspaces, HttpRequest request, CancellationToken cancellationToken) =>
        Paging.PageAsync<WorkspaceResponse>(query, request, async page => await workspaces.ListAsync(user.GetCaller()!, page, cancellationToken));

    private static async Task<Results<Ok<WorkspaceResponse>, ProblemHttpResult>> Get(
        WorkspaceAccess access, WorkspaceService workspaces, HttpResponse response, CancellationToken cancellationToken)
    {
        if (await workspaces.GetAsync(access.Workspace.Id, cancellationToken) is not { } workspace)
        {
            return Problems.NotFound($"Workspace '{access.Workspace.Name}' not found.");
        }

        response.Headers.ETag = ETags.For(workspace.Version);
        return TypedResults.Ok(workspace);
    }

    private static async Task<Results<Ok<WorkspaceResponse>, ProblemHttpResult>> Update(
        UpdateWorkspaceRequest request, WorkspaceAccess access, WorkspaceService workspaces, HttpContext http, CancellationToken cancellationToken)
    {
        var result = await workspaces.UpdateAsync(access.Workspace.Id, request, access.Caller, ETags.IfMatch(http.Request), cancellationToken);
        if (result.Value is not { } workspace)
        {
            return Problems.From(result.Error!);
        }

        http.Response.Headers.ETag = ETags.For(workspace.Version);
        return TypedResults.Ok(workspace);
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> Delete(
        WorkspaceAccess access, WorkspaceService workspaces, HttpRequest request, CancellationToken cancellationToken)
    {
        var result = await workspaces.DeleteAsync(access.Workspace.Id, ETags.IfMatch(request), cancellationToken);
        return result.IsSuccess ? TypedResults.NoContent() : Problems.From(result.Error!);
    }
}
