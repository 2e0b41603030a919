namespace Cadre.Common;

/// <summary>Why one item of a bulk call failed.</summary>
public sealed record BulkItemError(string Title, string Detail, IReadOnlyDictionary<string, string[]>? Errors);

/// <summary>The outcome of one item: its position in the request, the resource, an HTTP status, and the error if it failed.</summary>
public sealed record BulkItemResult(int Index, string? Id, int Status, BulkItemError? Error);

/// <summary>The per-item outcomes of a bulk call: valid items succeed while invalid ones say why.</summary>
public sealed record BulkResponse(IReadOnlyList<BulkItemResult> Results);

/// <summary>The shared rules of bulk calls: how many items, and how one item's outcome reads.</summary>
public static class Bulk
{
    public const int MaxItems = 500;

    /// <summary>Null when the list is usable, else the 422 for it.</summary>
    public static ServiceError? Check<T>(IReadOnlyList<T>? items) => items switch
    {
        null or { Count: 0 } => ServiceError.Validation("items", $"Is required: a list of 1 to {MaxItems} items."),
        { Count: > MaxItems } => ServiceError.Validation("items", $"Must have at most {MaxItems} items; split the call."),
        _ => null,
    };

    public static BulkItemResult Outcome<T>(int index, ServiceResult<T> result, Func<T, string> id, int successStatus) =>
        result.Match(
            value => new BulkItemResult(index, id(value), successStatus, null),
            error => new BulkItemResult(index, null, StatusOf(error.Kind), ErrorOf(error)));

    public static BulkItemError ErrorOf(ServiceError error)
    {
        ArgumentNullException.ThrowIfNull(error);
        return new BulkItemError(TitleOf(error.Kind), error.Detail, error.Errors);
    }

    /// <summary>The status the single call would have answered.</summary>
    public static int StatusOf(ServiceErrorKind kind) => kind switch
    {
        ServiceErrorKind.Validation => 422,
        ServiceErrorKind.NotFound => 404,
        ServiceErrorKind.Conflict => 409,
        ServiceErrorKind.PreconditionFailed => 412,
        _ => 403,
    };

    private static string TitleOf(ServiceErrorKind kind) => kind switch
    {
        ServiceErrorKind.Validation => "Validation failed",
        ServiceErrorKind.NotFound => "Not found",
        ServiceErrorKind.Conflict => "Conflict",
        ServiceErrorKind.PreconditionFailed => "Precondition failed",
        _ => "Forbidden",
    };
}
