using Cadre.Auth;
using Cadre.Llm;
using Cadre.Personas;
using Cadre.Server.Auth;
using Cadre.Server.Http;
using Cadre.Workflows;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Cadre.Server.Llm;

/// <summary>Installing a skill on a persona or a workflow, and removing it: each a new version of the definition.</summary>
internal static class SkillInstallEndpoints
{
    public static IEndpointRouteBuilder MapSkillInstalls(this IEndpointRouteBuilder app)
    {
        var workspace = app.MapGroup("/api/v1/workspaces/{workspace}");
        workspace.MapPost("/workflows/{workflow}/skills/{skill}", (string workflow, string skill, WorkspaceAccess access, SkillInstallService installs, HttpResponse response, CancellationToken ct) =>
                WorkflowAsync(workflow, skill, install: true, access, installs, response, ct))
            .WithTags("Workflows").WithName("InstallWorkflowSkill").WithSummary("Give a workflow's agent steps a skill (a built-in tool or a registry skill), as a new version")
            .RequireWorkspaceRole(WorkspaceRole.Editor);
        workspace.MapDelete("/workflows/{workflow}/skills/{skill}", (string workflow, string skill, WorkspaceAccess access, SkillInstallService installs, HttpResponse response, CancellationToken ct) =>
                WorkflowAsync(workflow, skill, install: false, access, installs, response, ct))
            .WithTags("Workflows").WithName("RemoveWorkflowSkill").WithSummary("Take a skill away from a workflow, as a new version")
            .RequireWorkspaceRole(WorkspaceRole.Editor);
        workspace.MapPost("/personas/{persona}/skills/{skill}", (string persona, string skill, WorkspaceAccess access, SkillInstallService installs, HttpResponse response, CancellationToken ct) =>
                PersonaAsync(persona, skill, install: true, access, installs, response, ct))
            .WithTags("Personas").WithName("InstallPersonaSkill").WithSummary("Give a persona a skill (a built-in tool or a registry skill), as a new version")
            .RequireWorkspaceRole(WorkspaceRole.Editor);
        workspace.MapDelete("/personas/{persona}/skills/{skill}", (string persona, string skill, WorkspaceAccess access, SkillInstallService installs, HttpResponse response, CancellationToken ct) =>
                PersonaAsync(persona, skill, install: false, access, installs, response, ct))
            .WithTags("Personas").WithName("RemovePersonaSkill").WithSummary("Take a skill away from a persona, as a new version")
            .RequireWorkspaceRole(WorkspaceRole.Editor);
        return app;
    }

    private static async Task<Results<Ok<WorkflowResponse>, ProblemHttpResult>> WorkflowAsync(
        string workflow, string skill, bool install, WorkspaceAccess access, SkillInstallService installs, HttpResponse response, CancellationToken cancellationToken)
    {
        var result = await installs.WorkflowAsync(access.Workspace.Id, workflow, skill, install, access.Caller, cancellationToken);
        return ETags.Ok(result, u => u.Version, response);
    }

    private static async Task<Results<Ok<PersonaResponse>, ProblemHttpResult>> PersonaAsync(
        string persona, string skill, bool install, WorkspaceAccess access, SkillInstallService installs, HttpResponse response, CancellationToken cancellationToken)
    {
        var result = await installs.PersonaAsync(access.Workspace.Id, persona, skill, install, access.Caller, cancellationToken);
        return ETags.Ok(result, u => u.Version, response);
    }
}
