using Cadre.Auth;
using Cadre.Common;
using Cadre.Server.Auth;
using Cadre.Server.Http;
using Cadre.ServiceAccounts;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Cadre.Server.ServiceAccounts;

internal static class ServiceAccountEndpoints
{
    public static IEndpointRouteBuilder MapServiceAccounts(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/workspaces/{workspace}/service-accounts").WithTags("Service accounts");

        group.MapGet("/", List)
            .WithName("ListServiceAccounts")
            .WithSummary("List the workspace's service accounts")
            .RequireWorkspaceRole(WorkspaceRole.Admin)
            .WithQueryErrors();

        group.MapPost("/", Create)
            .WithName("CreateServiceAccount")
            .WithSummary("Create a service account")
            .WithDescription("A machine identity (CI, an integration) acting through its API keys, never above its role, which may not exceed yours.")
            .RequireWorkspaceRole(WorkspaceRole.Admin)
            .WithJsonBodyErrors()
            .ProducesProblem(StatusCodes.Status409Conflict);

        group.MapGet("/{serviceAccountId}", Get)
            .WithName("GetServiceAccount")
            .WithSummary("Get a service account")
            .RequireWorkspaceRole(WorkspaceRole.Admin);

        group.MapPatch("/{serviceAccountId}", Update)
            .WithName("UpdateServiceAccount")
            .WithSummary("Rename, re-describe, change the role of, disable or enable a service account")
            .WithDescription("Disabling stops its keys at once. Honours If-Match.")
            .RequireWorkspaceRole(WorkspaceRole.Admin)
            .WithJsonBodyErrors()
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status412PreconditionFailed);

        group.MapDelete("/{serviceAccountId}", Delete)
            .WithName("DeleteServiceAccount")
            .WithSummary("Delete a service account and its keys")
            .RequireWorkspaceRole(WorkspaceRole.Admin);

        // Deliberately without WithIdempotency(): a stored response would keep the secret in plain text.
        group.MapPost("/{serviceAccountId}/api-keys", CreateKey)
            .WithName("CreateServiceAccountApiKey")
            .WithSummary("Create an API key for a service account")
            .WithDescription("The response holds the secret, shown this once. The key's role may not exceed the account's or yours.")
            .RequireWorkspaceRole(WorkspaceRole.Admin)
            .WithJsonBodyErrors();

        return app;
    }

    private static Task<Results<Ok<PagedResponse<ServiceAccountResponse>>, ProblemHttpResult>> List(
        [AsParameters] PageQuery query, WorkspaceAccess access, ServiceAccountService accounts, HttpRequest request, CancellationToken cancellationToken) =>
        Paging.PageAsync<ServiceAccountResponse>(query, request, async page => await accounts.ListAsync(access.Workspace.Id, page, cancellationToken));

    private static async Task<Results<Created<ServiceAccountResponse>, ProblemHttpResult>> Create(
        CreateServiceAccountRequest request, WorkspaceAccess access, ServiceAccountService accounts, HttpResponse response, CancellationToken cancellationToken)
    {
        var result = await accounts.CreateAsync(access.Workspace.Id, request, access.Caller, access.Role, cancellationToken);
        if (result.Value is not { } account)
        {
            return Problems.From(result.Error!);
        }

        response.Headers.ETag = ETags.For(account.Version);
        return TypedResults.Created($"/api/v1/workspaces/{access.Workspace.Name}/service-accounts/{account.Id}", account);
    }

    private static async Task<Results<Ok<ServiceAccountResponse>, ProblemHttpResult>> Get(
        string serviceAccountId, WorkspaceAccess access, ServiceAccountService accounts, HttpResponse response, CancellationToken cancellationToken)
    {
        if (await accounts.GetAsync(access.Workspace.Id, serviceAccountId, cancellationToken) is not { } account)
        {
            return Problems.NotFound($"Service account '{serviceAccountId}' not found.");
        }

        response.Headers.ETag = ETags.For(account.Version);
        return TypedResults.Ok(account);
    }

    private static async Task<Results<Ok<ServiceAccountResponse>, ProblemHttpResult>> Update(
        string serviceAccountId, UpdateServiceAccountRequest request, WorkspaceAccess access, ServiceAccountService accounts, HttpContext http, CancellationToken cancellationToken)
    {
        var result = await accounts.UpdateAsync(access.Workspace.Id, serviceAccountId, request, access.Caller, access.Role, ETags.IfMatch(http.Request), cancellationToken);
        if (result.Value is not { } account)
        {
            return Problems.From(result.Error!);
        }

        http.Response.Headers.ETag = ETags.For(account.Version);
        return TypedResults.Ok(account);
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> Delete(
        string serviceAccountId, WorkspaceAccess access, ServiceAccountService accounts, CancellationToken cancellationToken)
    {
        var result = await accounts.DeleteAsync(access.Workspace.Id, serviceAccountId, access.Role, cancellationToken);
        return result.IsSuccess ? TypedResults.NoContent() : Problems.From(result.Error!);
    }

    private static async Task<Results<Created<CreatedApiKeyResponse>, ProblemHttpResult>> CreateKey(
        string serviceAccountId, CreateApiKeyRequest request, WorkspaceAccess access, ApiKeyService keys, HttpResponse response, CancellationToken cancellationToken)
    {
        var result = await keys.CreateForServiceAccountAsync(access.Workspace.Id, serviceAccountId, access.Caller, access.Role, request, cancellationToken);
        if (result.Value is not { } key)
        {
            return Problems.From(result.Error!);
        }

        // The body holds a secret: no cache anywhere may keep it.
        response.Headers.CacheControl = "no-store";
        return TypedResults.Created($"/api/v1/workspaces/{access.Workspace.Name}/api-keys/{key.Id}", key);
    }
}
