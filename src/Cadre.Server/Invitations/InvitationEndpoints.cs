using Cadre.Auth;
using Cadre.Common;
using Cadre.Invitations;
using Cadre.Server.Auth;
using Cadre.Server.Http;
using Cadre.Users;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace Cadre.Server.Invitations;

/// <summary>The outcome of accepting an invitation.</summary>
/// <param name="CsrfToken">When the acceptor was not signed in, they are now: the token their browser sends with writes.</param>
public sealed record AcceptInvitationResponse(UserResponse User, string Workspace, string Role, bool AccountCreated, string? CsrfToken);

internal static class InvitationEndpoints
{
    public static IEndpointRouteBuilder MapInvitations(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/workspaces/{workspace}/invitations").WithTags("Invitations");

        group.MapGet("/", List)
            .WithName("ListInvitations")
            .WithSummary("List the workspace's invitations")
            .RequireWorkspaceRole(WorkspaceRole.Admin)
            .WithQueryErrors();

        group.MapPost("/", Create)
            .WithName("CreateInvitation")
            .WithSummary("Invite someone by e-mail address")
            .WithDescription("A single-use link, valid for Cadre:Auth:InvitationLifetime (7 days). Mailed when SMTP is configured; " +
                "otherwise the response holds the link to pass on. Inviting the same address again replaces the earlier link.")
            .RequireWorkspaceRole(WorkspaceRole.Admin)
            .WithJsonBodyErrors()
            .ProducesProblem(StatusCodes.Status409Conflict);

        group.MapDelete("/{invitationId}", Revoke)
            .WithName("RevokeInvitation")
            .WithSummary("Withdraw an invitation")
            .RequireWorkspaceRole(WorkspaceRole.Admin)
            .ProducesProblem(StatusCodes.Status409Conflict);

        var redeem = app.MapGroup("/api/v1/invitations").WithTags("Invitations");

        redeem.MapPost("/preview", Preview)
            .WithName("PreviewInvitation")
            .WithSummary("See what an invitation offers")
            .AllowAnyone()
            .RequireRateLimiting(AuthEndpoints.SignInLimiter)
            .WithJsonBodyErrors()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status429TooManyRequests);

        redeem.MapPost("/accept", Accept)
            .WithName("AcceptInvitation")
            .WithSummary("Accept an invitation")
            .WithDescription("Signed in with the invited address: you join. Not signed in: an existing account gives its password, " +
                "or a new account is made with displayName and password; either way you are signed in. Works once.")
            .AllowAnyone()
            .RequireRateLimiting(AuthEndpoints.SignInLimiter)
            .WithJsonBodyErrors()
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status429TooManyRequests);

        return app;
    }

    private static Task<Results<Ok<PagedResponse<InvitationResponse>>, ProblemHttpResult>> List(
        [AsParameters] PageQuery query,
        [FromQuery(Name = "status")] string? status,
        WorkspaceAccess access,
        InvitationService invitations,
        HttpRequest request,
        CancellationToken cancellationToken) =>
        Paging.PageAsync(query, request, page => invitations.ListAsync(access.Workspace.Id, status, page, cancellationToken));

    private static async Task<Results<Created<CreatedInvitationResponse>, ProblemHttpResult>> Create(
        CreateInvitationRequest request, WorkspaceAccess access, InvitationService invitations, HttpContext http, CancellationToken cancellationToken)
    {
        var result = await invitations.CreateAsync(access.Workspace.Id, request, access.Caller, access.Role, PublicUrl.For(http.Request), cancellationToken);
        if (result.Value is not { } invitation)
        {
            return Problems.From(result.Error!);
        }

        http.Response.Headers.CacheControl = "no-store";
        return TypedResults.Created($"/api/v1/workspaces/{access.Workspace.Name}/invitations/{invitation.Id}", invitation);
    }

    private static async Task<Results<Ok<InvitationResponse>, ProblemHttpResult>> Revoke(
        string invitationId, WorkspaceAccess access, InvitationService invitations, CancellationToken cancellationToken)
    {
        var result = await invitations.RevokeAsync(access.Workspace.Id, invitationId, cancellationToken);
        return result.Value is { } invitation ? TypedResults.Ok(invitation) : Problems.From(result.Error!);
    }

    private static async Task<Results<Ok<InvitationPreviewResponse>, ProblemHttpResult>> Preview(
        InvitationTokenRequest request, InvitationService invitations, CancellationToken cancellationToken)
    {
        var result = await invitations.PreviewAsync(request.Token, cancellationToken);
        return result.Value is { } preview ? TypedResults.Ok(preview) : Problems.From(result.Error!);
    }

    private static async Task<Results<Ok<AcceptInvitationResponse>, ProblemHttpResult>> Accept(
        AcceptInvitationRequest request, InvitationService invitations, HttpContext http, CancellationToken cancellationToken)
    {
        // An API key may accept for its person too, but only a session cookie gets replaced by the accepting account.
        var signedIn = http.User.GetCaller();
        var result = await invitations.AcceptAsync(request, signedIn, cancellationToken);
        if (result.Value is not { } outcome)
        {
            return Problems.From(result.Error!);
        }

        string? csrf = null;
        if (signedIn is null)
        {
            await SessionAuthentication.SignInAsync(http, outcome.User.Id);
            csrf = CsrfProtectionMiddleware.IssueToken(http);
        }

        var accepted = outcome.Response;
        return TypedResults.Ok(new AcceptInvitationResponse(accepted.User, accepted.Workspace, accepted.Role, accepted.AccountCreated, csrf));
    }
}
