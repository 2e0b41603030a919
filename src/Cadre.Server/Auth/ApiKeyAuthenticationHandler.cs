using System.Text.Encodings.Web;
using Cadre.Auth;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace Cadre.Server.Auth;

/// <summary>
/// Authenticates machines by API key, sent as <c>Authorization: Bearer &lt;key&gt;</c> or
/// <c>X-Api-Key: &lt;key&gt;</c>. A refusal says why (missing, malformed, unknown, revoked,
/// expired) in a 401 problem, so a misconfigured client is quick to fix.
/// </summary>
internal sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    ApiKeyService keys,
    IProblemDetailsService problems)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "ApiKey";
    public const string ApiKeyHeader = "X-Api-Key";

    private string? _failure;

    /// <summary>Whether the request presents an API key: such requests are authenticated here, never by the session cookie.</summary>
    public static bool PresentsKey(HttpRequest request) =>
        request.Headers.ContainsKey(Microsoft.Net.Http.Headers.HeaderNames.Authorization) || request.Headers.ContainsKey(ApiKeyHeader);

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var authorization = Request.Headers.Authorization;
        var apiKeyHeader = Request.Headers[ApiKeyHeader];
        if (authorization.Count == 0 && apiKeyHeader.Count == 0)
        {
            return AuthenticateResult.NoResult();
        }

        string? bearer = null;
        if (authorization.Count > 0)
        {
            var value = authorization.ToString();
            if (authorization.Count > 1 || !value.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) || value.Length <= "Bearer ".Length)
            {
                return Fail("The Authorization header must be 'Bearer <api key>'.");
            }

            bearer = value["Bearer ".Length..].Trim();
        }

        if (apiKeyHeader.Count > 1 || (apiKeyHeader.Count == 1 && string.IsNullOrWhiteSpace(apiKeyHeader.ToString())))
        {
            return Fail($"The {ApiKeyHeader} header must hold exactly one API key.");
        }

        var headerKey = apiKeyHeader.Count == 1 ? apiKeyHeader.ToString().Trim() : null;
        if (bearer is not null && headerKey is not null && bearer != headerKey)
        {
            return Fail($"The Authorization and {ApiKeyHeader} headers name different keys; send one.");
        }

        var check = await keys.AuthenticateAsync(bearer ?? headerKey!, Context.RequestAborted);
        if (check.Caller is not { } caller)
        {
            return Fail(check.Rejection!);
        }

        return AuthenticateResult.Success(new AuthenticationTicket(CallerClaims.ToPrincipal(caller, SchemeName), SchemeName));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        Response.Headers.WWWAuthenticate = _failure is null ? "Bearer realm=\"cadre\"" : "Bearer realm=\"cadre\", error=\"invalid_token\"";
        await problems.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = Context,
            ProblemDetails = new ProblemDetails
            {
                Status = StatusCodes.Status401Unauthorized,
                Title = "Unauthorized",
                Detail = _failure ?? $"This endpoint needs an API key: send 'Authorization: Bearer <key>' or '{ApiKeyHeader}: <key>'.",
            },
        });
    }

    protected override async Task HandleForbiddenAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status403Forbidden;
        await problems.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = Context,
            ProblemDetails = new ProblemDetails
            {
                Status = StatusCodes.Status403Forbidden,
                Title = "Forbidden",
                Detail = "This API key may not do this.",
            },
        });
    }

    private AuthenticateResult Fail(string reason)
    {
        _failure = reason;
        return AuthenticateResult.Fail(reason);
    }
}
