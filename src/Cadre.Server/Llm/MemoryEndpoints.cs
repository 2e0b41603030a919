using Cadre.Auth;
using Cadre.Common;
using Cadre.Llm;
using Cadre.Server.Auth;
using Cadre.Server.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Cadre.Server.Llm;

/// <summary>What a persona remembers: list, add, edit, forget one note or all of them.</summary>
internal static class MemoryEndpoints
{
    public static IEndpointRouteBuilder MapPersonaMemory(this IEndpointRouteBuilder app)
    {
        var memory = app.MapGroup("/api/v1/workspaces/{workspace}/personas/{persona}/memory").WithTags("Personas");
        memory.MapGet("/", List)
            .WithName("ListPersonaMemory").WithSummary("The notes a persona remembers, oldest first (session notes carry their run)")
            .RequireWorkspaceRole(WorkspaceRole.Viewer).WithQueryErrors();
        memory.MapPost("/", Create)
            .WithName("AddPersonaMemory").WithSummary("Add a note to a persona's memory")
            .RequireWorkspaceRole(WorkspaceRole.Editor).WithIdempotency().WithJsonBodyErrors();
        memory.MapPatch("/{note}", Update)
            .WithName("UpdatePersonaMemory").WithSummary("Change a note")
            .RequireWorkspaceRole(WorkspaceRole.Editor).WithJsonBodyErrors();
        memory.MapDelete("/{note}", Delete)
            .WithName("DeletePersonaMemory").WithSummary("Forget a note")
            .RequireWorkspaceRole(WorkspaceRole.Editor);
        memory.MapDelete("/", Clear)
            .WithName("ClearPersonaMemory").WithSummary("Forget everything the persona remembers")
            .RequireWorkspaceRole(WorkspaceRole.Editor);
        return app;
    }

    private static Task<Results<Ok<PagedResponse<MemoryNoteResponse>>, ProblemHttpResult>> List(
        string persona, [AsParameters] PageQuery page, WorkspaceAccess access, MemoryService memory, HttpRequest request, CancellationToken cancellationToken) =>
        Paging.PageAsync(page, request, p => memory.ListAsync(access.Workspace.Id, persona, p, cancellationToken));

    private static async Task<Results<Created<MemoryNoteResponse>, ProblemHttpResult>> Create(
        string persona, MemoryNoteRequest request, WorkspaceAccess access, MemoryService memory, CancellationToken cancellationToken)
    {
        var result = await memory.CreateAsync(access.Workspace.Id, persona, request, access.Caller, cancellationToken);
        return result.Value is { } note
            ? TypedResults.Created($"/api/v1/workspaces/{access.Workspace.Name}/personas/{persona}/memory/{note.Id}", note)
            : Problems.From(result.Error!);
    }

    private static async Task<Results<Ok<MemoryNoteResponse>, ProblemHttpResult>> Update(
        string persona, string note, MemoryNoteRequest request, WorkspaceAccess access, MemoryService memory, CancellationToken cancellationToken)
    {
        var result = await memory.UpdateAsync(access.Workspace.Id, persona, note, request, cancellationToken);
        return result.Value is { } updated ? TypedResults.Ok(updated) : Problems.From(result.Error!);
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> Delete(
        string persona, string note, WorkspaceAccess access, MemoryService memory, CancellationToken cancellationToken)
    {
        var result = await memory.DeleteAsync(access.Workspace.Id, persona, note, cancellationToken);
        return result.IsSuccess ? TypedResults.NoContent() : Problems.From(result.Error!);
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> Clear(
        string persona, WorkspaceAccess access, MemoryService memory, CancellationToken cancellationToken)
    {
        var result = await memory.DeleteAsync(access.Workspace.Id, persona, null, cancellationToken);
        return result.IsSuccess ? TypedResults.NoContent() : Problems.From(result.Error!);
    }
}
