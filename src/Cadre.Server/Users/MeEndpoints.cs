using Cadre.Auth;
using Cadre.Common;
using Cadre.Server.Auth;
using Cadre.Server.Http;
using Cadre.Storage;
using Cadre.Users;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace Cadre.Server.Users;

/// <summary>One of the caller's workspaces and the role they have in it.</summary>
public sealed record MyWorkspace(string Id, string Name, string DisplayName, string Role);

/// <summary>Who the caller is.</summary>
/// <param name="Authentication"><c>session</c> (browser cookie) or <c>api_key</c>.</param>
/// <param name="User">The person, or null for a service account or an instance key.</param>
/// <param name="Workspaces">The workspaces the caller belongs to with its effective role (an instance admin sees all of them under /api/v1/workspaces).</param>
/// <param name="CsrfToken">For a browser session: the token to send as X-CSRF-Token with writes.</param>
public sealed record MeResponse(
    Actor Actor,
    string Authentication,
    UserResponse? User,
    string? InstanceRole,
    IReadOnlyList<MyWorkspace> Workspaces,
    string? CsrfToken);

internal static class MeEndpoints
{
    public static IEndpointRouteBuilder MapMe(this IEndpointRouteBuilder app)
    {
        var me = app.MapGroup("/api/v1/me").WithTags("Me");

        me.MapGet("/", Get)
            .WithName("GetMe")
            .WithSummary("Who you are, your workspaces and roles")
            .RequireAnyKey();

        me.MapPatch("/", Update)
            .WithName("UpdateMe")
            .WithSummary("Change your display name or avatar")
            .RequirePerson()
            .WithJsonBodyErrors();

        me.MapPost("/password", ChangePassword)
            .WithName("ChangePassword")
            .WithSummary("Change your password")
            .WithDescription("Ends all your other sessions; this browser gets a new one (and a new CSRF token).")
            .RequirePerson()
            .WithJsonBodyErrors();

        me.MapGet("/api-keys", ListKeys)
            .WithName("ListMyApiKeys")
            .WithSummary("List your personal API keys")
            .RequirePerson()
            .WithQueryErrors();

        me.MapPost("/api-keys", CreateKey)
            .WithName("CreateMyApiKey")
            .WithSummary("Create a personal API key")
            .WithDescription("The key acts as you, never above your current role, and stops working if you are disabled or leave its workspace. The secret is shown once.")
            .RequirePerson()
            .WithJsonBodyErrors();

        me.MapDelete("/api-keys/{keyId}", RevokeKey)
            .WithName("RevokeMyApiKey")
            .WithSummary("Revoke one of your personal API keys")
            .RequirePerson()
            .ProducesProblem(StatusCodes.Status404NotFound);

        return app;
    }

    private static async Task<Ok<MeResponse>> Get(
        HttpContext http, CadreDbContext db, ActorService actors, UserService users, CancellationToken cancellationToken)
    {
        var caller = http.User.GetCaller()!;
        var actor = (await actors.ResolveAsync(caller.ActorId, cancellationToken))!;
        var user = caller.IsUser ? await users.GetAsync(caller.ActorId, cancellationToken) : null;
        // One query for the caller's candidate workspaces, then the same rule AccessService applies, without a query per workspace.
        var candidates = caller.Kind switch
        {
            CallerKind.User => await db.WorkspaceMembers.AsNoTracking().Where(m => m.UserId == caller.ActorId)
                .Join(db.Workspaces, m => m.WorkspaceId, w => w.Id, (m, w) => new { Workspace = w, Role = (WorkspaceRole?)m.Role })
                .ToListAsync(cancellationToken),
            CallerKind.ServiceAccount => await db.Workspaces.AsNoTracking().Where(w => w.Id == caller.WorkspaceId)
                .Select(w => new { Workspace = w, Role = caller.ServiceAccountRole }).ToListAsync(cancellationToken),
            _ => [],
        };
        var workspaces = candidates
            .Where(c => caller.WorkspaceId is null || c.Workspace.Id == caller.WorkspaceId)
            .Select(c => (c.Workspace, Role: AccessService.Cap(caller.InstanceRole is not null ? WorkspaceRole.Owner : c.Role, caller.RoleCap)))
            .Where(c => c.Role is not null)
            .OrderBy(c => c.Workspace.Name, StringComparer.Ordinal)
            .Select(c => new MyWorkspace(c.Workspace.Id, c.Workspace.Name, c.Workspace.DisplayName, c.Role!.Value.ToWireName()))
            .ToList();

        var session = caller.SessionId is not null;
        return TypedResults.Ok(new MeResponse(actor, session ? "session" : "api_key", user, caller.InstanceRole?.ToWireName(), workspaces,
            session ? CsrfProtectionMiddleware.IssueToken(http) : null));
    }

    private static async Task<Results<Ok<UserResponse>, ProblemHttpResult>> Update(
        UpdateMeRequest request, HttpContext http, UserService users, CancellationToken cancellationToken)
    {
        var result = await users.UpdateSelfAsync(http.User.GetCaller()!.ActorId, request, cancellationToken);
        return result.Value is { } user ? TypedResults.Ok(user) : Problems.From(result.Error!);
    }

    private static async Task<Results<Ok<UserResponse>, ProblemHttpResult>> ChangePassword(
        ChangePasswordRequest request, HttpContext http, UserService users, CancellationToken cancellationToken)
    {
        var caller = http.User.GetCaller()!;
        var result = await users.ChangePasswordAsync(caller.ActorId, request, cancellationToken);
        if (result.Value is not { } user)
        {
            return Problems.From(result.Error!);
        }

        if (caller.SessionId is not null)
        {
            // The new security stamp voided every session, this one included: give this browser a new one.
            await SessionAuthentication.SignInAsync(http, caller.ActorId);
            http.Response.Headers[CsrfProtectionMiddleware.HeaderName] = CsrfProtectionMiddleware.IssueToken(http);
        }

        return TypedResults.Ok(user);
    }

    private static Task<Results<Ok<PagedResponse<ApiKeyResponse>>, ProblemHttpResult>> ListKeys(
        [AsParameters] PageQuery query, HttpContext http, ApiKeyService keys, CancellationToken cancellationToken) =>
        Paging.PageAsync<ApiKeyResponse>(query, http.Request, async page => await keys.ListPersonalAsync(http.User.GetCaller()!.ActorId, page, cancellationToken));

    private static async Task<Results<Created<CreatedApiKeyResponse>, ProblemHttpResult>> CreateKey(
        CreatePersonalApiKeyRequest request, HttpContext http, ApiKeyService keys, CancellationToken cancellationToken)
    {
        var result = await keys.CreatePersonalAsync(http.User.GetCaller()!, request, cancellationToken);
        if (result.Value is not { } key)
        {
            return Problems.From(result.Error!);
        }

        http.Response.Headers.CacheControl = "no-store";
        return TypedResults.Created($"/api/v1/me/api-keys/{key.Id}", key);
    }

    private static async Task<Results<Ok<ApiKeyResponse>, ProblemHttpResult>> RevokeKey(
        string keyId, HttpContext http, ApiKeyService keys, CancellationToken cancellationToken)
    {
        var result = await keys.RevokePersonalAsync(http.User.GetCaller()!.ActorId, keyId, cancellationToken);
        return result.Value is { } key ? TypedResults.Ok(key) : Problems.From(result.Error!);
    }
}
