using Cadre.Auth;
using Cadre.Common;
using Cadre.Server.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace Cadre.Server.Auth;

internal static class ApiKeyEndpoints
{
    public static IEndpointRouteBuilder MapApiKeys(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/workspaces/{workspace}/api-keys").WithTags("API keys");

        group.MapGet("/", List)
            .WithName("ListApiKeys")
            .WithSummary("List the workspace's API keys")
            .WithDescription("Keys of its service accounts and personal keys limited to it. Keys are created under …/service-accounts/{id}/api-keys and /api/v1/me/api-keys.")
            .RequireWorkspaceRole(WorkspaceRole.Admin)
            .WithQueryErrors();

        group.MapGet("/{keyId}", Get)
            .WithName("GetApiKey")
            .WithSummary("Get an API key")
            .RequireWorkspaceRole(WorkspaceRole.Admin);

        group.MapDelete("/{keyId}", Revoke)
            .WithName("RevokeApiKey")
            .WithSummary("Revoke an API key")
            .WithDescription("The key stops working at once and stays listed as revoked. Revoking a revoked key succeeds.")
            .RequireWorkspaceRole(WorkspaceRole.Admin);

        return app;
    }

    private static Task<Results<Ok<PagedResponse<ApiKeyResponse>>, ProblemHttpResult>> List(
        [AsParameters] PageQuery query,
        [FromQuery(Name = "status")] string? status,
        [FromQuery(Name = "role")] string? role,
        WorkspaceAccess access,
        ApiKeyService keys,
        HttpRequest request,
        CancellationToken cancellationToken) =>
        Paging.PageAsync(query, request, page => keys.ListAsync(access.Workspace.Id, new ApiKeyListFilter(status, role), page, cancellationToken));

    private static async Task<Results<Ok<ApiKeyResponse>, ProblemHttpResult>> Get(
        string keyId, WorkspaceAccess access, ApiKeyService keys, CancellationToken cancellationToken) =>
        await keys.GetAsync(access.Workspace.Id, keyId, cancellationToken) is { } key
            ? TypedResults.Ok(key)
            : Problems.NotFound($"API key '{keyId}' not found.");

    private static async Task<Results<Ok<ApiKeyResponse>, ProblemHttpResult>> Revoke(
        string keyId, WorkspaceAccess access, ApiKeyService keys, CancellationToken cancellationToken)
    {
        var result = await keys.RevokeAsync(access.Workspace.Id, keyId, access.Role, cancellationToken);
        return result.Value is { } key ? TypedResults.Ok(key) : Problems.From(result.Error!);
    }
}
