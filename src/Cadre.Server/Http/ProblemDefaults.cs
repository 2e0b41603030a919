using Microsoft.AspNetCore.Mvc;

namespace Cadre.Server.Http;

/// <summary>
/// Fills in what a problem written by the framework itself (status code pages, a body Kestrel
/// refused) would leave out: the instance path and a sentence saying what to do.
/// </summary>
internal static class ProblemDefaults
{
    private static readonly Dictionary<int, string> Details = new()
    {
        [StatusCodes.Status404NotFound] = "No resource at this path. The API lives under /api/v1; see /openapi/v1.json.",
        [StatusCodes.Status405MethodNotAllowed] = "This path does not accept this HTTP method; see /openapi/v1.json.",
        [StatusCodes.Status413PayloadTooLarge] = "The request body is larger than this server accepts (Cadre:Http:MaxRequestBodyBytes, 1 MiB by default).",
        [StatusCodes.Status415UnsupportedMediaType] = "Send the request body as JSON with 'Content-Type: application/json'.",
    };

    public static void Apply(ProblemDetailsContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var problem = context.ProblemDetails;
        problem.Instance ??= context.HttpContext.Request.Path;
        if (problem.Detail is null && problem.Status is { } status && Details.TryGetValue(status, out var detail))
        {
            problem.Detail = detail;
        }
    }
}
