using Cadre.Auth;
using Cadre.Common;
using Cadre.Llm;
using Cadre.Server.Auth;
using Cadre.Server.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Cadre.Server.Llm;

/// <summary>The workspace's guardrails: named checks that personas and model steps refer to.</summary>
internal static class GuardrailEndpoints
{
    public static IEndpointRouteBuilder MapGuardrails(this IEndpointRouteBuilder app)
    {
        var guardrails = app.MapGroup("/api/v1/workspaces/{workspace}/guardrails").WithTags("Models");
        guardrails.MapGet("/", List)
            .WithName("ListGuardrails").WithSummary("The workspace's guardrails, by name")
            .RequireWorkspaceRole(WorkspaceRole.Viewer).WithQueryErrors();
        guardrails.MapPost("/", Create)
            .WithName("CreateGuardrail").WithSummary("Define a check on model input or output: max_length, deny_pattern, require_pattern, deny_topic, json_schema, pii or llm_judge")
            .RequireWorkspaceRole(WorkspaceRole.Editor).WithIdempotency().WithJsonBodyErrors().ProducesProblem(StatusCodes.Status409Conflict);
        guardrails.MapGet("/{guardrail}", Get)
            .WithName("GetGuardrail").WithSummary("Get a guardrail by name or ID")
            .RequireWorkspaceRole(WorkspaceRole.Viewer);
        guardrails.MapPatch("/{guardrail}", Update)
            .WithName("UpdateGuardrail").WithSummary("Change a guardrail's stage, kind, settings or action")
            .WithDescription("The name stays. Honours If-Match.")
            .RequireWorkspaceRole(WorkspaceRole.Editor).WithJsonBodyErrors()
            .ProducesProblem(StatusCodes.Status409Conflict).ProducesProblem(StatusCodes.Status412PreconditionFailed);
        guardrails.MapDelete("/{guardrail}", Delete)
            .WithName("DeleteGuardrail").WithSummary("Delete a guardrail")
            .RequireWorkspaceRole(WorkspaceRole.Editor);
        return app;
    }

    private static Task<Results<Ok<PagedResponse<GuardrailResponse>>, ProblemHttpResult>> List(
        [AsParameters] PageQuery page, WorkspaceAccess access, GuardrailService guardrails, HttpRequest request, CancellationToken cancellationToken) =>
        Paging.PageAsync(page, request, p => guardrails.ListAsync(access.Workspace.Id, p, cancellationToken));

    private static async Task<Results<Created<GuardrailResponse>, ProblemHttpResult>> Create(
        GuardrailRequest request, WorkspaceAccess access, GuardrailService guardrails, HttpResponse response, CancellationToken cancellationToken)
    {
        var result = await guardrails.CreateAsync(access.Workspace.Id, request, access.Caller, cancellationToken);
        return ETags.Created(result, c => c.Version, c => $"/api/v1/workspaces/{access.Workspace.Name}/guardrails/{c.Name}", response);
    }

    private static async Task<Results<Ok<GuardrailResponse>, ProblemHttpResult>> Get(
        string guardrail, WorkspaceAccess access, GuardrailService guardrails, HttpResponse response, CancellationToken cancellationToken)
    {
        return ETags.Found(await guardrails.GetAsync(access.Workspace.Id, guardrail, cancellationToken), f => f.Version, $"Guardrail '{guardrail}' not found.", response);
    }

    private static async Task<Results<Ok<GuardrailResponse>, ProblemHttpResult>> Update(
        string guardrail, GuardrailRequest request, WorkspaceAccess access, GuardrailService guardrails, HttpContext http, CancellationToken cancellationToken)
    {
        var result = await guardrails.UpdateAsync(access.Workspace.Id, guardrail, request, access.Caller, ETags.IfMatch(http.Request), cancellationToken);
        return ETags.Ok(result, u => u.Version, http.Response);
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> Delete(
        string guardrail, WorkspaceAccess access, GuardrailService guardrails, CancellationToken cancellationToken)
    {
        var result = await guardrails.DeleteAsync(access.Workspace.Id, guardrail, cancellationToken);
        return result.IsSuccess ? TypedResults.NoContent() : Problems.From(result.Error!);
    }
}
