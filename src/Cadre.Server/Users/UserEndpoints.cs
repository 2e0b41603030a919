using Cadre.Common;
using Cadre.Server.Auth;
using Cadre.Server.Http;
using Cadre.Users;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace Cadre.Server.Users;

internal static class UserEndpoints
{
    public static IEndpointRouteBuilder MapUsers(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/users").WithTags("Users");

        group.MapGet("/", List)
            .WithName("ListUsers")
            .WithSummary("List accounts")
            .RequireInstanceAdmin()
            .WithQueryErrors();

        group.MapPost("/", Create)
            .WithName("CreateUser")
            .WithSummary("Create an account")
            .WithDescription("Without a password the person sets one through a reset link (POST /api/v1/users/{userId}/password-reset).")
            .RequireInstanceAdmin()
            .WithJsonBodyErrors()
            .ProducesProblem(StatusCodes.Status409Conflict);

        group.MapGet("/{userId}", Get)
            .WithName("GetUser")
            .WithSummary("Get an account")
            .RequireInstanceAdmin()
            .ProducesProblem(StatusCodes.Status404NotFound);

        group.MapPatch("/{userId}", Update)
            .WithName("UpdateUser")
            .WithSummary("Change an account: name, avatar, status, instance role")
            .WithDescription("Disabling ends the person's sessions and stops their API keys at once. Honours If-Match.")
            .RequireInstanceAdmin()
            .WithJsonBodyErrors()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status412PreconditionFailed);

        group.MapPost("/{userId}/password-reset", IssuePasswordReset)
            .WithName("IssuePasswordReset")
            .WithSummary("Make a one-time password reset link")
            .WithDescription("Mailed when SMTP is configured; otherwise returned here for you to pass on.")
            .RequireInstanceAdmin()
            .ProducesProblem(StatusCodes.Status404NotFound);

        return app;
    }

    private static Task<Results<Ok<PagedResponse<UserResponse>>, ProblemHttpResult>> List(
        [AsParameters] PageQuery query,
        [FromQuery(Name = "search")] string? search,
        [FromQuery(Name = "status")] string? status,
        UserService users,
        HttpRequest request,
        CancellationToken cancellationToken) =>
        Paging.PageAsync(query, request, page => users.ListAsync(search, status, page, cancellationToken));

    private static async Task<Results<Created<UserResponse>, ProblemHttpResult>> Create(
        CreateUserRequest request, UserService users, HttpResponse response, CancellationToken cancellationToken)
    {
        var result = await users.CreateAsync(request, cancellationToken);
        if (result.Value is not { } user)
        {
            return Problems.From(result.Error!);
        }

        response.Headers.ETag = ETags.For(user.Version);
        return TypedResults.Created($"/api/v1/users/{user.Id}", user);
    }

    private static async Task<Results<Ok<UserResponse>, ProblemHttpResult>> Get(
        string userId, UserService users, HttpResponse response, CancellationToken cancellationToken)
    {
        if (await users.GetAsync(userId, cancellationToken) is not { } user)
        {
            return Problems.NotFound($"User '{userId}' not found.");
        }

        response.Headers.ETag = ETags.For(user.Version);
        return TypedResults.Ok(user);
    }

    private static async Task<Results<Ok<UserResponse>, ProblemHttpResult>> Update(
        string userId, UpdateUserRequest request, UserService users, HttpContext http, CancellationToken cancellationToken)
    {
        var result = await users.UpdateAsync(userId, request, http.User.GetCaller()!, ETags.IfMatch(http.Request), cancellationToken);
        if (result.Value is not { } user)
        {
            return Problems.From(result.Error!);
        }

        http.Response.Headers.ETag = ETags.For(user.Version);
        return TypedResults.Ok(user);
    }

    private static async Task<Results<Ok<OneTimeLinkResponse>, ProblemHttpResult>> IssuePasswordReset(
        string userId, UserService users, HttpRequest request, HttpResponse response, CancellationToken cancellationToken)
    {
        var result = await users.IssuePasswordResetAsync(userId, PublicUrl.For(request), cancellationToken);
        response.Headers.CacheControl = "no-store";
        return result.Value is { } link ? TypedResults.Ok(link) : Problems.From(result.Error!);
    }
}
