using System.Globalization;
using System.Threading.RateLimiting;
using Cadre.Server.Auth;
using Cadre.Users;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;

namespace Cadre.Server.Http;

/// <summary>
/// One token bucket per API key (per client address when unauthenticated), answered with 429,
/// <c>Retry-After</c> and a problem body. Buckets live in each node's memory, so with N nodes a key
/// may reach N times the rate; the limit protects a node, it is not a billing quota.
/// </summary>
internal static class RateLimiting
{
    public static IServiceCollection AddCadreRateLimiting(this IServiceCollection services)
    {
        services.AddOptions<RateLimitOptions>().BindConfiguration(RateLimitOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddRateLimiter(limiter =>
        {
            limiter.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(Partition);
            // Anonymous credential checks (sign-in, setup, invitations, password resets) are also limited per client
            // address, far below the general rate: the account lockout stops guessing one account, this stops spraying many.
            limiter.AddPolicy(AuthEndpoints.SignInLimiter, context =>
            {
                var attempts = context.RequestServices.GetRequiredService<IOptions<AuthOptions>>().Value.SignInAttemptsPerMinute;
                return RateLimitPartition.GetFixedWindowLimiter($"sign-in:{context.Connection.RemoteIpAddress}", _ => new FixedWindowRateLimiterOptions
                {
                    PermitLimit = attempts,
                    Window = TimeSpan.FromMinutes(1),
                    QueueLimit = 0,
                });
            });
            limiter.OnRejected = RejectAsync;
        });
        return services;
    }

    private static RateLimitPartition<string> Partition(HttpContext context)
    {
        var settings = context.RequestServices.GetRequiredService<IOptions<RateLimitOptions>>().Value;
        if (settings.PermitsPerSecond == 0)
        {
            return RateLimitPartition.GetNoLimiter("off");
        }

        var caller = context.User.GetCaller();
        var partition = caller is not null ? $"caller:{caller.CredentialId}" : $"ip:{context.Connection.RemoteIpAddress}";
        return RateLimitPartition.GetTokenBucketLimiter(partition, _ => new TokenBucketRateLimiterOptions
        {
            TokenLimit = settings.Burst,
            TokensPerPeriod = settings.PermitsPerSecond,
            ReplenishmentPeriod = TimeSpan.FromSeconds(1),
            QueueLimit = 0,
            AutoReplenishment = true,
        });
    }

    private static async ValueTask RejectAsync(OnRejectedContext context, CancellationToken cancellationToken)
    {
        var response = context.HttpContext.Response;
        var retryAfter = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : TimeSpan.FromSeconds(1);
        var seconds = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds));
        response.StatusCode = StatusCodes.Status429TooManyRequests;
        response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        await context.HttpContext.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
        {
            HttpContext = context.HttpContext,
            ProblemDetails = new ProblemDetails
            {
                Status = StatusCodes.Status429TooManyRequests,
                Title = "Too many requests",
                Detail = $"Too many requests from this caller. Retry after {seconds} second(s).",
            },
        });
    }
}
