using Cadre.Auth;
using Cadre.Server.Http;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Mvc;

namespace Cadre.Server.Auth;

/// <summary>
/// Browser sign-in: ASP.NET Core cookie authentication whose cookie names a server-side session
/// (<see cref="SessionService"/>), checked on every request. One policy scheme in front sends
/// requests that present an API key to the key handler and all others to the cookie.
/// </summary>
internal static class SessionAuthentication
{
    public const string CookieScheme = CookieAuthenticationDefaults.AuthenticationScheme;
    public const string PolicyScheme = "Cadre";
    public const string CookieName = "cadre_session";

    public static IServiceCollection AddCadreAuthentication(this IServiceCollection services)
    {
        services.AddAuthentication(PolicyScheme)
            .AddPolicyScheme(PolicyScheme, "API key or session", options =>
                options.ForwardDefaultSelector = context => ApiKeyAuthenticationHandler.PresentsKey(context.Request)
                    ? ApiKeyAuthenticationHandler.SchemeName
                    : CookieScheme)
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiKeyAuthenticationHandler.SchemeName, null)
            .AddCookie(CookieScheme, options =>
            {
                options.Cookie.Name = CookieName;
                options.Cookie.HttpOnly = true;
                options.Cookie.SameSite = SameSiteMode.Strict;
                // Secure whenever the request came over HTTPS (as it must in production, directly or through a proxy).
                options.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
                // The session row decides how long a sign-in lasts; the cookie only has to outlive it.
                options.ExpireTimeSpan = TimeSpan.FromDays(90);
                options.SlidingExpiration = false;
                options.Events = new CookieAuthenticationEvents
                {
                    OnValidatePrincipal = ValidateSessionAsync,
                    OnRedirectToLogin = context => WriteProblemAsync(context.HttpContext, StatusCodes.Status401Unauthorized,
                        "Sign in (POST /api/v1/auth/login) or send an API key: 'Authorization: Bearer <key>' or 'X-Api-Key: <key>'."),
                    OnRedirectToAccessDenied = context => WriteProblemAsync(context.HttpContext, StatusCodes.Status403Forbidden, "You may not do this."),
                };
            });
        return services;
    }

    /// <summary>Signs a person in: a new session row, and a cookie that names it.</summary>
    public static async Task<Caller> SignInAsync(HttpContext context, string userId)
    {
        var sessions = context.RequestServices.GetRequiredService<SessionService>();
        var sessionId = await sessions.CreateAsync(userId, context.Request.Headers.UserAgent.ToString(), context.Connection.RemoteIpAddress?.ToString(), context.RequestAborted);
        var caller = await sessions.ValidateAsync(sessionId, context.RequestAborted)
            ?? throw new InvalidOperationException("A session just made did not validate.");
        var principal = CallerClaims.ToPrincipal(caller, CookieScheme);
        await context.SignInAsync(CookieScheme, principal, new AuthenticationProperties { IsPersistent = false });
        context.User = principal;
        return caller;
    }

    /// <summary>Ends the request's session, if it has one, and clears the cookie.</summary>
    public static async Task SignOutAsync(HttpContext context)
    {
        if (context.User.GetCaller()?.SessionId is { } sessionId)
        {
            await context.RequestServices.GetRequiredService<SessionService>().RevokeAsync(sessionId, context.RequestAborted);
        }

        await context.SignOutAsync(CookieScheme);
    }

    private static async Task ValidateSessionAsync(CookieValidatePrincipalContext context)
    {
        var sessionId = context.Principal?.GetCaller()?.SessionId;
        var caller = sessionId is null
            ? null
            : await context.HttpContext.RequestServices.GetRequiredService<SessionService>().ValidateAsync(sessionId, context.HttpContext.RequestAborted);
        if (caller is null)
        {
            context.RejectPrincipal();
            await context.HttpContext.SignOutAsync(CookieScheme);
            return;
        }

        // The principal is rebuilt from the user as they are now (instance role may have changed).
        context.ReplacePrincipal(CallerClaims.ToPrincipal(caller, CookieScheme));
    }

    private static Task WriteProblemAsync(HttpContext context, int status, string detail)
    {
        context.Response.StatusCode = status;
        if (status == StatusCodes.Status401Unauthorized)
        {
            context.Response.Headers.WWWAuthenticate = "Bearer realm=\"cadre\"";
        }

        return context.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            ProblemDetails = new ProblemDetails
            {
                Status = status,
                Title = status == StatusCodes.Status401Unauthorized ? "Unauthorized" : "Forbidden",
                Detail = detail,
            },
        }).AsTask();
    }
}
