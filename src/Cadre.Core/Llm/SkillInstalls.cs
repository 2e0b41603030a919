using System.Text.Json.Nodes;
using Cadre.Auth;
using Cadre.Common;
using Cadre.Personas;
using Cadre.Storage;
using Cadre.Workflows;
using Microsoft.EntityFrameworkCore;

namespace Cadre.Llm;

/// <summary>
/// Installs a skill on a persona (its <c>skills</c>) or a workflow (its <c>skillIds</c>), or removes
/// it, as a new version of the definition. A built-in tool is referred to by its name, a registry
/// skill by its ID, so the reference survives whatever happens to names.
/// </summary>
internal sealed class SkillInstallService(CadreDbContext db, PersonaService personas, WorkflowService workflows)
{
    public async Task<ServiceResult<WorkflowResponse>> WorkflowAsync(string workspaceId, string workflowRef, string skillRef, bool install, Caller caller, CancellationToken cancellationToken)
    {
        if (await workflows.GetAsync(workspaceId, workflowRef, cancellationToken) is not { } workflow)
        {
            return ServiceError.NotFound($"Workflow '{workflowRef}' not found.");
        }

        var (reference, aliases, problem) = await ReferenceAsync(workspaceId, skillRef, cancellationToken);
        if (problem is not null)
        {
            return problem;
        }

        var installed = (workflow.SkillIds ?? []).ToList();
        var changed = Change(installed, reference!, aliases, install, out var missing);
        if (missing)
        {
            return ServiceError.NotFound($"Skill '{skillRef}' is not installed on workflow '{workflow.Name}'.");
        }

        return changed
            ? await workflows.PatchAsync(workspaceId, workflow.Id, new JsonObject { ["skillIds"] = new JsonArray([.. installed.Select(s => (JsonNode)s)]) }, caller, null, cancellationToken)
            : workflow;
    }

    public async Task<ServiceResult<PersonaResponse>> PersonaAsync(string workspaceId, string personaRef, string skillRef, bool install, Caller caller, CancellationToken cancellationToken)
    {
        if (await personas.GetAsync(workspaceId, personaRef, cancellationToken) is not { } persona)
        {
            return ServiceError.NotFound($"Persona '{personaRef}' not found.");
        }

        var (reference, aliases, problem) = await ReferenceAsync(workspaceId, skillRef, cancellationToken);
        if (problem is not null)
        {
            return problem;
        }

        var skills = (persona.Skills ?? []).ToList();
        var refs = skills.Select(s => s.Ref ?? "").ToList();
        var changed = Change(refs, reference!, aliases, install, out var missing);
        if (missing)
        {
            return ServiceError.NotFound($"Skill '{skillRef}' is not installed on persona '{persona.Name}'.");
        }

        if (!changed)
        {
            return persona;
        }

        // Kept: the settings of the skills that stay.
        var kept = refs.Select(r => skills.FirstOrDefault(s => s.Ref == r) ?? new SkillReference { Ref = r });
        var patch = new JsonObject { ["skills"] = new JsonArray([.. kept.Select(s => (JsonNode)new JsonObject { ["ref"] = s.Ref, ["config"] = s.Config?.DeepClone() })]) };
        return await personas.PatchAsync(workspaceId, persona.Id, patch, caller, null, cancellationToken);
    }

    /// <summary>Adds or removes the reference (matching any of its aliases); whether the list changed, and whether a removal found nothing.</summary>
    private static bool Change(List<string> references, string reference, IReadOnlyList<string> aliases, bool install, out bool missing)
    {
        missing = false;
        var present = references.FindIndex(r => aliases.Contains(r));
        if (install)
        {
            if (present >= 0)
            {
                return false;
            }

            references.Add(reference);
            return true;
        }

        if (present < 0)
        {
            missing = true;
            return false;
        }

        references.RemoveAll(r => aliases.Contains(r));
        return true;
    }

    /// <summary>How definitions refer to the skill (a built-in's name, a registry skill's ID), and every name it may already be referred to by.</summary>
    private async Task<(string? Reference, IReadOnlyList<string> Aliases, ServiceError? Problem)> ReferenceAsync(string workspaceId, string skillRef, CancellationToken cancellationToken)
    {
        if (AgentTools.Names.Contains(skillRef))
        {
            return (skillRef, [skillRef], null);
        }

        var skill = await db.Skills.AsNoTracking().Where(s => s.WorkspaceId == workspaceId && (s.Id == skillRef || s.Name == skillRef))
            .Select(s => new { s.Id, s.Name }).FirstOrDefaultAsync(cancellationToken);
        return skill is null
            ? (null, [], ServiceError.NotFound($"No skill '{skillRef}' in this workspace, and no built-in tool of that name ({string.Join(", ", AgentTools.Names)})."))
            : (skill.Id, [skill.Id, skill.Name], null);
    }
}
