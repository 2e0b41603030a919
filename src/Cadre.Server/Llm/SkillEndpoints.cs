using Cadre.Auth;
using Cadre.Common;
using Cadre.Llm;
using Cadre.Server.Auth;
using Cadre.Server.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Cadre.Server.Llm;

/// <summary>The workspace's skills: tools its agents may call, by name (built-in tools need no entry).</summary>
internal static class SkillEndpoints
{
    public static IEndpointRouteBuilder MapSkills(this IEndpointRouteBuilder app)
    {
        var skills = app.MapGroup("/api/v1/workspaces/{workspace}/skills").WithTags("Models");
        skills.MapGet("/", List)
            .WithName("ListSkills").WithSummary("The workspace's skills (tools for agents), by name")
            .RequireWorkspaceRole(WorkspaceRole.Viewer).WithQueryErrors();
        skills.MapPost("/", Create)
            .WithName("CreateSkill").WithSummary("Define a tool for agents: an HTTP request made from templates over the model's arguments")
            .WithDescription("The auth header's value is stored encrypted and never returned.")
            .RequireWorkspaceRole(WorkspaceRole.Editor).WithIdempotency().WithJsonBodyErrors().ProducesProblem(StatusCodes.Status409Conflict);
        skills.MapGet("/{skill}", Get)
            .WithName("GetSkill").WithSummary("Get a skill by name or ID")
            .RequireWorkspaceRole(WorkspaceRole.Viewer);
        skills.MapPatch("/{skill}", Update)
            .WithName("UpdateSkill").WithSummary("Change a skill's description, request template or auth")
            .WithDescription("The name and kind stay. An auth with an empty value removes it. Honours If-Match.")
            .RequireWorkspaceRole(WorkspaceRole.Editor).WithJsonBodyErrors()
            .ProducesProblem(StatusCodes.Status409Conflict).ProducesProblem(StatusCodes.Status412PreconditionFailed);
        skills.MapDelete("/{skill}", Delete)
            .WithName("DeleteSkill").WithSummary("Delete a skill")
            .RequireWorkspaceRole(WorkspaceRole.Editor);
        return app;
    }

    private static Task<Results<Ok<PagedResponse<SkillResponse>>, ProblemHttpResult>> List(
        [AsParameters] PageQuery page, WorkspaceAccess access, SkillService skills, HttpRequest request, CancellationToken cancellationToken) =>
        Paging.PageAsync(page, request, p => skills.ListAsync(access.Workspace.Id, p, cancellationToken));

    private static async Task<Results<Created<SkillResponse>, ProblemHttpResult>> Create(
        SkillRequest request, WorkspaceAccess access, SkillService skills, HttpResponse response, CancellationToken cancellationToken)
    {
        var result = await skills.CreateAsync(access.Workspace.Id, request, access.Caller, cancellationToken);
        return ETags.Created(result, c => c.Version, c => $"/api/v1/workspaces/{access.Workspace.Name}/skills/{c.Name}", response);
    }

    private static async Task<Results<Ok<SkillResponse>, ProblemHttpResult>> Get(
        string skill, WorkspaceAccess access, SkillService skills, HttpResponse response, CancellationToken cancellationToken)
    {
        return ETags.Found(await skills.GetAsync(access.Workspace.Id, skill, cancellationToken), f => f.Version, $"Skill '{skill}' not found.", response);
    }

    private static async Task<Results<Ok<SkillResponse>, ProblemHttpResult>> Update(
        string skill, SkillRequest request, WorkspaceAccess access, SkillService skills, HttpContext http, CancellationToken cancellationToken)
    {
        var result = await skills.UpdateAsync(access.Workspace.Id, skill, request, access.Caller, ETags.IfMatch(http.Request), cancellationToken);
        return ETags.Ok(result, u => u.Version, http.Response);
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> Delete(
        string skill, WorkspaceAccess access, SkillService skills, CancellationToken cancellationToken)
    {
        var result = await skills.DeleteAsync(access.Workspace.Id, skill, cancellationToken);
        return result.IsSuccess ? TypedResults.NoContent() : Problems.From(result.Error!);
    }
}
