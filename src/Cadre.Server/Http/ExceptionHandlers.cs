using System.Text;
using System.Text.Json;
using Cadre.Common;
using Cadre.Storage;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Net.Http.Headers;

namespace Cadre.Server.Http;

/// <summary>
/// Answers requests ASP.NET Core could not read (malformed JSON, wrong types, unknown fields,
/// a body too large, a wrong content type) with a 4xx problem instead of a 500.
/// </summary>
internal sealed class BadRequestExceptionHandler(IProblemDetailsService problems) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        ProblemDetails problem;
        switch (exception)
        {
            case BadHttpRequestException { InnerException: JsonException json }:
                problem = Describe(json, httpContext);
                break;
            case JsonException json:
                problem = Describe(json, httpContext);
                break;
            case BadHttpRequestException { StatusCode: StatusCodes.Status400BadRequest } bad when ParameterBinding.Describe(bad.Message) is { } parameter:
                problem = new HttpValidationProblemDetails(new Dictionary<string, string[]> { [parameter.Name] = [parameter.Message] })
                {
                    Status = StatusCodes.Status400BadRequest,
                    Title = parameter.Name == "body" ? "Missing request body" : "Invalid query parameters",
                    Detail = parameter.Name == "body" ? parameter.Message : "One or more query parameters are invalid.",
                };
                break;
            case InvalidOperationException when UnknownCharset(httpContext.Request) is { } charset:
                // ReadFromJsonAsync throws this (not a BadHttpRequestException) for a charset no Encoding knows.
                problem = new ProblemDetails
                {
                    Status = StatusCodes.Status415UnsupportedMediaType,
                    Detail = $"The Content-Type names the character set '{charset}', which this server does not know. Send JSON as UTF-8 (charset=utf-8, or no charset).",
                };
                break;
            case BadHttpRequestException bad:
                // Title from the status; for 413 and 415 ProblemDefaults supplies a detail that says what to do.
                problem = new ProblemDetails
                {
                    Status = bad.StatusCode,
                    Detail = bad.StatusCode is StatusCodes.Status413PayloadTooLarge or StatusCodes.Status415UnsupportedMediaType ? null : bad.Message,
                };
                break;
            default:
                return false;
        }

        httpContext.Response.StatusCode = problem.Status!.Value;
        return await problems.TryWriteAsync(new ProblemDetailsContext { HttpContext = httpContext, ProblemDetails = problem, Exception = exception });
    }

    private static string? UnknownCharset(HttpRequest request)
    {
        if (!MediaTypeHeaderValue.TryParse(request.ContentType, out var type) || type.Charset is not { Length: > 0 } charset)
        {
            return null;
        }

        try
        {
            _ = Encoding.GetEncoding(charset.Value!);
            return null;
        }
        catch (ArgumentException)
        {
            return charset.Value;
        }
    }

    private static HttpValidationProblemDetails Describe(JsonException exception, HttpContext httpContext)
    {
        // The exception handler clears the endpoint before handlers run; the feature keeps the original.
        var endpoint = httpContext.Features.Get<IExceptionHandlerFeature>()?.Endpoint ?? httpContext.GetEndpoint();
        var requestType = endpoint?.Metadata.GetMetadata<IAcceptsMetadata>()?.RequestType;
        var (field, message) = JsonErrors.Describe(exception, requestType);
        return new HttpValidationProblemDetails(new Dictionary<string, string[]> { [field] = [message] })
        {
            Status = StatusCodes.Status400BadRequest,
            Title = "Malformed request body",
            Detail = "The request body is not JSON of the shape this endpoint accepts.",
        };
    }
}

/// <summary>Answers 503 with <c>Retry-After</c> when the database is unreachable or busy, or the disk is full, rather than a bare 500.</summary>
internal sealed class StorageUnavailableExceptionHandler(StorageProvider storage, IProblemDetailsService problems, ILogger<StorageUnavailableExceptionHandler> logger)
    : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        if (!storage.IsTransientFailure(exception))
        {
            return false;
        }

        // A full disk lasts until an operator frees space: worth a longer wait than a busy database.
        var full = storage.IsOutOfSpace(exception);
        if (full)
        {
            logger.LogWarning(exception, "Disk full while serving {Path}", httpContext.Request.Path);
        }
        else
        {
            logger.LogWarning(exception, "Database unavailable while serving {Path}", httpContext.Request.Path);
        }

        httpContext.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
        httpContext.Response.Headers.RetryAfter = full ? "30" : "1";
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = httpContext,
            Exception = exception,
            ProblemDetails = new ProblemDetails
            {
                Status = StatusCodes.Status503ServiceUnavailable,
                Title = full ? "Storage full" : "Database unavailable",
                Detail = full
                    ? "The server's disk is full, so nothing could be written. Retry once space is freed; nothing was changed unless a later read shows it."
                    : "The database could not be reached or is busy. Retry shortly; nothing was changed unless a later read shows it.",
            },
        });
    }
}
