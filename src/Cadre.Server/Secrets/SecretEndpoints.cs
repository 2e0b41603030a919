using Cadre.Auth;
using Cadre.Common;
using Cadre.Secrets;
using Cadre.Server.Auth;
using Cadre.Server.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace Cadre.Server.Secrets;

/// <summary>A workspace's secrets (values write-only), and the instance's encryption key behind them.</summary>
internal static class SecretEndpoints
{
    public static IEndpointRouteBuilder MapSecrets(this IEndpointRouteBuilder app)
    {
        // Editors read names (they write the workflows that use them); only admins set values.
        var secrets = app.MapGroup("/api/v1/workspaces/{workspace}/secrets").WithTags("Secrets");
        secrets.MapGet("/", List)
            .WithName("ListSecrets").WithSummary("The workspace's secrets, newest first: names and metadata, never values")
            .WithDescription("`q` finds secrets whose name or description contains it.")
            .RequireWorkspaceRole(WorkspaceRole.Editor).WithQueryErrors();
        // No Idempotency-Key: a stored request hash would let anyone holding the database test guesses of the value. A retried create answers 409.
        secrets.MapPost("/", Create)
            .WithName("CreateSecret").WithSummary("Store a secret for workflows to read as {{ secrets.NAME }}")
            .WithDescription("The value is encrypted (AES-256-GCM) under the instance's key and never returned. 409 when the name is taken.")
            .RequireWorkspaceRole(WorkspaceRole.Admin).WithJsonBodyErrors().ProducesProblem(StatusCodes.Status409Conflict);
        secrets.MapGet("/{secret}", Get)
            .WithName("GetSecret").WithSummary("Get a secret's name and metadata (never its value) by name or ID")
            .RequireWorkspaceRole(WorkspaceRole.Editor);
        secrets.MapPatch("/{secret}", Update)
            .WithName("UpdateSecret").WithSummary("Replace a secret's value and/or description")
            .WithDescription("The name stays. Runs read the new value from their next step on. Honours If-Match.")
            .RequireWorkspaceRole(WorkspaceRole.Admin).WithJsonBodyErrors()
            .ProducesProblem(StatusCodes.Status409Conflict).ProducesProblem(StatusCodes.Status412PreconditionFailed);
        secrets.MapDelete("/{secret}", Delete)
            .WithName("DeleteSecret").WithSummary("Delete a secret; steps that read it then fail with secret_not_found")
            .WithDescription("Honours If-Match.")
            .RequireWorkspaceRole(WorkspaceRole.Admin).ProducesProblem(StatusCodes.Status409Conflict).ProducesProblem(StatusCodes.Status412PreconditionFailed);

        var encryption = app.MapGroup("/api/v1/admin/encryption").WithTags("Secrets");
        encryption.MapGet("/", Status)
            .WithName("GetEncryptionStatus").WithSummary("The key that encrypts workspace secrets, and how many secrets each key holds")
            .WithDescription("Secrets still under an earlier key need that key (CADRE_ENCRYPTION_PREVIOUS_KEYS) until a rotation moves them.")
            .RequireInstanceAdmin();
        encryption.MapPost("/rotate", Rotate)
            .WithName("RotateEncryptionKey").WithSummary("Re-encrypt every workspace secret under the current key")
            .WithDescription("Start the server with the new key in CADRE_ENCRYPTION_KEY and the old one in CADRE_ENCRYPTION_PREVIOUS_KEYS, then call this; "
                + "when `failed` is empty, the old key may go. Safe to repeat.")
            .RequireInstanceAdmin();
        return app;
    }

    private static Task<Results<Ok<PagedResponse<SecretResponse>>, ProblemHttpResult>> List(
        [AsParameters] PageQuery page, [FromQuery(Name = "q")] string? search, WorkspaceAccess access, SecretService secrets, HttpRequest request,
        CancellationToken cancellationToken) =>
        Paging.PageAsync(page, request, p => secrets.ListAsync(access.Workspace.Id, search, p, cancellationToken));

    private static async Task<Results<Created<SecretResponse>, ProblemHttpResult>> Create(
        SecretRequest request, WorkspaceAccess access, SecretService secrets, HttpResponse response, CancellationToken cancellationToken)
    {
        var result = await secrets.CreateAsync(access.Workspace.Id, request, access.Caller, cancellationToken);
        return ETags.Created(result, c => c.Version, c => $"/api/v1/workspaces/{access.Workspace.Name}/secrets/{c.Name}", response);
    }

    private static async Task<Results<Ok<SecretResponse>, ProblemHttpResult>> Get(
        string secret, WorkspaceAccess access, SecretService secrets, HttpResponse response, CancellationToken cancellationToken) =>
        ETags.Found(await secrets.GetAsync(access.Workspace.Id, secret, cancellationToken), f => f.Version, $"Secret '{secret}' not found.", response);

    private static async Task<Results<Ok<SecretResponse>, ProblemHttpResult>> Update(
        string secret, SecretRequest request, WorkspaceAccess access, SecretService secrets, HttpContext http, CancellationToken cancellationToken)
    {
        var result = await secrets.UpdateAsync(access.Workspace.Id, secret, request, access.Caller, ETags.IfMatch(http.Request), cancellationToken);
        return ETags.Ok(result, u => u.Version, http.Response);
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> Delete(
        string secret, WorkspaceAccess access, SecretService secrets, HttpRequest request, CancellationToken cancellationToken)
    {
        var result = await secrets.DeleteAsync(access.Workspace.Id, secret, ETags.IfMatch(request), cancellationToken);
        return result.IsSuccess ? TypedResults.NoContent() : Problems.From(result.Error!);
    }

    private static async Task<Ok<EncryptionStatusResponse>> Status(SecretService secrets, CancellationToken cancellationToken) =>
        TypedResults.Ok(await secrets.EncryptionStatusAsync(cancellationToken));

    private static async Task<Ok<EncryptionRotationResponse>> Rotate(SecretService secrets, CancellationToken cancellationToken) =>
        TypedResults.Ok(await secrets.RotateAsync(cancellationToken));
}
