using System.Globalization;
using Cadre.Server.Http;
using Cadre.Setup;
using Cadre.Users;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Cadre.Server.Auth;

/// <summary>A person just signed in: who, and the CSRF token their browser must send with writes.</summary>
public sealed record SignedInResponse(UserResponse User, string CsrfToken);

/// <summary>The CSRF token for the current browser session.</summary>
public sealed record CsrfTokenResponse(string CsrfToken);

internal static class AuthEndpoints
{
    public const string SignInLimiter = "sign-in";

    public static IEndpointRouteBuilder MapAuth(this IEndpointRouteBuilder app)
    {
        var auth = app.MapGroup("/api/v1/auth").WithTags("Sign-in");

        auth.MapPost("/login", Login)
            .WithName("Login")
            .WithSummary("Sign in with e-mail and password")
            .WithDescription("Sets the HttpOnly session cookie and returns the CSRF token to send as X-CSRF-Token with every write made with it. " +
                "Repeated failures lock the account for a while (429 with Retry-After); attempts are rate-limited per client address.")
            .AllowAnyone()
            .RequireRateLimiting(SignInLimiter)
            .WithJsonBodyErrors()
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status429TooManyRequests);

        // Cast so it maps as a route handler (result written, described in OpenAPI), not as a bare RequestDelegate.
        auth.MapPost("/logout", (Func<HttpContext, Task<NoContent>>)Logout)
            .WithName("Logout")
            .WithSummary("End the browser session")
            .RequirePerson();

        auth.MapGet("/csrf", Csrf)
            .WithName("GetCsrfToken")
            .WithSummary("Get a CSRF token for the current browser session")
            .AllowAnyone();

        auth.MapPost("/reset-password", ResetPassword)
            .WithName("ResetPassword")
            .WithSummary("Set a new password with a reset link's token")
            .WithDescription("Ends every session of the account and lifts a lockout.")
            .AllowAnyone()
            .RequireRateLimiting(SignInLimiter)
            .WithJsonBodyErrors()
            .ProducesProblem(StatusCodes.Status429TooManyRequests);

        auth.MapPost("/forgot-password", ForgotPassword)
            .WithName("ForgotPassword")
            .WithSummary("Mail a password reset link")
            .WithDescription("Answers 202 whether or not the address has an account. Mails only when SMTP is configured; otherwise ask an instance admin.")
            .AllowAnyone()
            .RequireRateLimiting(SignInLimiter)
            .WithJsonBodyErrors()
            .ProducesProblem(StatusCodes.Status429TooManyRequests);

        var setup = app.MapGroup("/api/v1/setup").WithTags("Sign-in");

        setup.MapGet("/", SetupStatus)
            .WithName("GetSetupStatus")
            .WithSummary("Whether the instance waits for its first user")
            .AllowAnyone();

        setup.MapPost("/", CompleteSetup)
            .WithName("CompleteSetup")
            .WithSummary("Become the first user and instance owner with the printed setup code")
            .AllowAnyone()
            .RequireRateLimiting(SignInLimiter)
            .WithJsonBodyErrors()
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status429TooManyRequests);

        return app;
    }

    private static async Task<Results<Ok<SignedInResponse>, ProblemHttpResult>> Login(
        LoginRequest request, UserService users, TimeProvider time, HttpContext http, CancellationToken cancellationToken)
    {
        var outcome = await users.SignInAsync(request.Email, request.Password, cancellationToken);
        switch (outcome.Status)
        {
            case SignInStatus.Succeeded:
                await SessionAuthentication.SignOutAsync(http);
                await SessionAuthentication.SignInAsync(http, outcome.User!.Id);
                return TypedResults.Ok(new SignedInResponse(UserService.ToResponse(outcome.User), CsrfProtectionMiddleware.IssueToken(http)));
            case SignInStatus.LockedOut:
                var seconds = Math.Max(1, (int)Math.Ceiling((outcome.LockedUntil!.Value - time.GetUtcNow().UtcDateTime).TotalSeconds));
                http.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
                return Problems.Problem(StatusCodes.Status429TooManyRequests, "Account locked",
                    $"Too many wrong passwords: the account is locked for {seconds} more second(s).");
            case SignInStatus.Disabled:
                return Problems.Forbidden("This account is disabled; ask an instance admin.");
            default:
                return Problems.Problem(StatusCodes.Status401Unauthorized, "Unauthorized", "The e-mail address or password is wrong.");
        }
    }

    private static async Task<NoContent> Logout(HttpContext http)
    {
        await SessionAuthentication.SignOutAsync(http);
        return TypedResults.NoContent();
    }

    private static Ok<CsrfTokenResponse> Csrf(HttpContext http) => TypedResults.Ok(new CsrfTokenResponse(CsrfProtectionMiddleware.IssueToken(http)));

    private static async Task<Results<NoContent, ProblemHttpResult>> ResetPassword(
        ResetPasswordRequest request, UserService users, CancellationToken cancellationToken)
    {
        var result = await users.ResetPasswordAsync(request, cancellationToken);
        return result.IsSuccess ? TypedResults.NoContent() : Problems.From(result.Error!);
    }

    private static async Task<Accepted> ForgotPassword(
        ForgotPasswordRequest request, UserService users, HttpRequest http, CancellationToken cancellationToken)
    {
        await users.ForgotPasswordAsync(request.Email, PublicUrl.For(http), cancellationToken);
        return TypedResults.Accepted((string?)null);
    }

    private static async Task<Ok<SetupStatusResponse>> SetupStatus(SetupService setup, CancellationToken cancellationToken) =>
        TypedResults.Ok(new SetupStatusResponse(await setup.IsRequiredAsync(cancellationToken)));

    private static async Task<Results<Created<SignedInResponse>, ProblemHttpResult>> CompleteSetup(
        SetupRequest request, SetupService setup, HttpContext http, CancellationToken cancellationToken)
    {
        var result = await setup.CompleteAsync(request, cancellationToken);
        if (result.Value is not { } user)
        {
            return Problems.From(result.Error!);
        }

        await SessionAuthentication.SignInAsync(http, user.Id);
        return TypedResults.Created("/api/v1/me", new SignedInResponse(UserService.ToResponse(user), CsrfProtectionMiddleware.IssueToken(http)));
    }
}
