using System.Security.Cryptography;
using System.Text;
using Cadre.Idempotency;
using Cadre.Server.Auth;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Net.Http.Headers;

namespace Cadre.Server.Http;

/// <summary>Marks an endpoint as honouring <c>Idempotency-Key</c>.</summary>
public sealed class IdempotentMetadata;

internal static class IdempotencyExtensions
{
    /// <summary>
    /// Lets callers retry this POST safely with an <c>Idempotency-Key</c> header: the same key and
    /// body replay the first response; the same key with another body is refused with 409.
    /// </summary>
    public static RouteHandlerBuilder WithIdempotency(this RouteHandlerBuilder builder) =>
        builder.WithMetadata(new IdempotentMetadata())
            .ProducesProblem(StatusCodes.Status409Conflict);
}

/// <summary>
/// Stripe's idempotency semantics for endpoints marked <see cref="IdempotentMetadata"/>. The
/// request is identified by a SHA-256 of method, path, query and raw body; keys belong to the
/// calling credential (the API key, or the person for a browser session). Only successful (2xx) responses are stored: a request refused before it did
/// anything (400, 404, 422, …) frees its key so the caller can fix it and retry with the same one.
/// </summary>
internal sealed class IdempotencyMiddleware(RequestDelegate next, IdempotencyStore store, IProblemDetailsService problems)
{
    public const string HeaderName = "Idempotency-Key";
    public const string ReplayedHeader = "Idempotent-Replayed";
    public const int MaxKeyLength = 255;

    private static readonly string[] ReplayedHeaders = [HeaderNames.ContentType, HeaderNames.Location, HeaderNames.ETag];

    public async Task InvokeAsync(HttpContext context)
    {
        if (context.GetEndpoint()?.Metadata.GetMetadata<IdempotentMetadata>() is null
            || !context.Request.Headers.TryGetValue(HeaderName, out var values)
            || context.User.GetCaller() is not { } caller)
        {
            await next(context);
            return;
        }

        var key = values.ToString();
        if (values.Count != 1 || key.Length is 0 or > MaxKeyLength || key.Any(c => c is < '!' or > '~'))
        {
            await WriteProblemAsync(context, new HttpValidationProblemDetails(new Dictionary<string, string[]>
            {
                [HeaderName] = [$"Must be one value of 1 to {MaxKeyLength} visible ASCII characters, such as a UUID."],
            })
            {
                Status = StatusCodes.Status400BadRequest,
                Title = "Invalid Idempotency-Key",
            });
            return;
        }

        var requestHash = await HashRequestAsync(context.Request);
        var scope = caller.CredentialId;
        var decision = await store.BeginAsync(scope, key, requestHash, context.RequestAborted);
        switch (decision)
        {
            case IdempotencyDecision.Replay replay:
                await ReplayAsync(context.Response, replay);
                return;
            case IdempotencyDecision.Mismatch:
                await WriteProblemAsync(context, new ProblemDetails
                {
                    Status = StatusCodes.Status409Conflict,
                    Title = "Idempotency-Key reused",
                    Detail = "This Idempotency-Key was already used with a different request. Use a new key for a new request.",
                });
                return;
            case IdempotencyDecision.InProgress inProgress:
                context.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(inProgress.RetryAfter.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
                await WriteProblemAsync(context, new ProblemDetails
                {
                    Status = StatusCodes.Status409Conflict,
                    Title = "Request in progress",
                    Detail = "A request with this Idempotency-Key is still being processed. Retry later to get its response.",
                });
                return;
        }

        await RunAndRecordAsync(context, scope, key);
    }

    private async Task RunAndRecordAsync(HttpContext context, string scope, string key)
    {
        var original = context.Response.Body;
        await using var buffer = new MemoryStream();
        context.Response.Body = buffer;
        try
        {
            await next(context);
        }
        catch
        {
            context.Response.Body = original;
            await store.ReleaseAsync(scope, key, CancellationToken.None);
            throw;
        }

        context.Response.Body = original;
        var status = context.Response.StatusCode;
        if (status is >= 200 and < 300)
        {
            var headers = ReplayedHeaders
                .Where(name => context.Response.Headers.ContainsKey(name))
                .ToDictionary(name => name, name => context.Response.Headers[name].ToString());
            // Recorded before the client sees the response, so a retry after it is always a replay.
            await store.CompleteAsync(scope, key, status, headers, buffer.ToArray(), CancellationToken.None);
        }
        else
        {
            await store.ReleaseAsync(scope, key, CancellationToken.None);
        }

        buffer.Position = 0;
        await buffer.CopyToAsync(original, context.RequestAborted);
    }

    private static async Task<byte[]> HashRequestAsync(HttpRequest request)
    {
        request.EnableBuffering();
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(Encoding.UTF8.GetBytes($"{request.Method}\n{request.Path}{request.QueryString}\n"));
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, request.HttpContext.RequestAborted)) > 0)
        {
            hash.AppendData(chunk, 0, read);
        }

        request.Body.Position = 0;
        return hash.GetHashAndReset();
    }

    private static async Task ReplayAsync(HttpResponse response, IdempotencyDecision.Replay replay)
    {
        response.StatusCode = replay.StatusCode;
        foreach (var (name, value) in replay.Headers)
        {
            response.Headers[name] = value;
        }

        response.Headers[ReplayedHeader] = "true";
        await response.Body.WriteAsync(replay.Body, response.HttpContext.RequestAborted);
    }

    private Task WriteProblemAsync(HttpContext context, ProblemDetails problem)
    {
        context.Response.StatusCode = problem.Status!.Value;
        return problems.WriteAsync(new ProblemDetailsContext { HttpContext = context, ProblemDetails = problem }).AsTask();
    }
}
