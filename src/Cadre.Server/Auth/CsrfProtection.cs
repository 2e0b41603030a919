using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Mvc;

namespace Cadre.Server.Auth;

/// <summary>
/// CSRF protection for requests authenticated by the session cookie: every unsafe method must
/// carry the antiforgery token (ASP.NET Core's <see cref="IAntiforgery"/>) in <c>X-CSRF-Token</c>.
/// Requests authenticated by an API key carry no ambient credential and are not checked, nor are
/// endpoints marked <c>DisableAntiforgery()</c>, whose credential is in their URL.
/// </summary>
internal sealed class CsrfProtectionMiddleware(RequestDelegate next, IAntiforgery antiforgery, IProblemDetailsService problems)
{
    public const string HeaderName = "X-CSRF-Token";
    public const string CookieName = "cadre_csrf";

    public async Task InvokeAsync(HttpContext context)
    {
        if (!HttpMethods.IsGet(context.Request.Method) && !HttpMethods.IsHead(context.Request.Method) && !HttpMethods.IsOptions(context.Request.Method)
            && context.User.GetCaller() is { SessionId: not null }
            // Endpoints whose URL is their own credential (a signed upload URL) say so with DisableAntiforgery().
            && context.GetEndpoint()?.Metadata.GetMetadata<Microsoft.AspNetCore.Antiforgery.IAntiforgeryMetadata>() is not { RequiresValidation: false }
            && !await antiforgery.IsRequestValidAsync(context))
        {
            context.Response.StatusCode = StatusCodes.Status403Forbidden;
            await problems.WriteAsync(new ProblemDetailsContext
            {
                HttpContext = context,
                ProblemDetails = new ProblemDetails
                {
                    Status = StatusCodes.Status403Forbidden,
                    Title = "CSRF token missing or invalid",
                    Detail = $"Requests signed in with the session cookie must send the token from GET /api/v1/auth/csrf (or the login response) in the {HeaderName} header.",
                },
            });
            return;
        }

        await next(context);
    }

    /// <summary>A fresh token for the request's current user, setting its paired cookie.</summary>
    public static string IssueToken(HttpContext context) =>
        context.RequestServices.GetRequiredService<IAntiforgery>().GetAndStoreTokens(context).RequestToken!;
}
