using Cadre.Common;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace Cadre.Server.Http;

/// <summary>
/// The RFC 9457 problems endpoints answer with. Every 4xx Cadre sends is one of these, so clients
/// handle one shape: <c>type</c>, <c>title</c>, <c>status</c>, <c>detail</c> and, for validation, <c>errors</c>.
/// </summary>
internal static class Problems
{
    public static ProblemHttpResult From(ServiceError error)
    {
        ArgumentNullException.ThrowIfNull(error);
        var problem = ProblemFor(error);
        foreach (var (name, value) in error.Extensions ?? new Dictionary<string, object?>())
        {
            problem.ProblemDetails.Extensions[name] = value;
        }

        return problem;
    }

    private static ProblemHttpResult ProblemFor(ServiceError error)
    {
        return error.Kind switch
        {
            ServiceErrorKind.Validation => Validation(error.Errors ?? new Dictionary<string, string[]>(), error.Detail),
            ServiceErrorKind.NotFound => NotFound(error.Detail),
            ServiceErrorKind.Conflict => Conflict(error.Detail),
            ServiceErrorKind.PreconditionFailed => PreconditionFailed(error.Detail),
            ServiceErrorKind.Forbidden => Forbidden(error.Detail),
            _ => throw new ArgumentOutOfRangeException(nameof(error), error.Kind, "Unknown error kind."),
        };
    }

    /// <summary>422: the request was understood but fields are invalid; <c>errors</c> names each one.</summary>
    public static ProblemHttpResult Validation(IReadOnlyDictionary<string, string[]> errors, string detail = "One or more fields are invalid.") =>
        TypedResults.Problem(new HttpValidationProblemDetails(errors.ToDictionary())
        {
            Status = StatusCodes.Status422UnprocessableEntity,
            Title = "Validation failed",
            Detail = detail,
        });

    /// <summary>400 for query parameters that cannot be used, with <c>errors</c> naming each.</summary>
    public static ProblemHttpResult BadQuery(IReadOnlyDictionary<string, string[]> errors) =>
        TypedResults.Problem(new HttpValidationProblemDetails(errors.ToDictionary())
        {
            Status = StatusCodes.Status400BadRequest,
            Title = "Invalid query parameters",
            Detail = "One or more query parameters are invalid.",
        });

    public static ProblemHttpResult NotFound(string detail) => Problem(StatusCodes.Status404NotFound, "Not found", detail);

    public static ProblemHttpResult Conflict(string detail) => Problem(StatusCodes.Status409Conflict, "Conflict", detail);

    public static ProblemHttpResult PreconditionFailed(string detail) => Problem(StatusCodes.Status412PreconditionFailed, "Precondition failed", detail);

    public static ProblemHttpResult Forbidden(string detail) => Problem(StatusCodes.Status403Forbidden, "Forbidden", detail);

    public static ProblemHttpResult Problem(int status, string title, string detail) =>
        TypedResults.Problem(new ProblemDetails { Status = status, Title = title, Detail = detail });
}
